"""A Python client for 360dialog's WABA v2 and Meta's Cloud API, sync and async.

Pointing it at a wabox server is only a ``base_url`` change. It needs httpx and nothing of
the server: ``import wabox.client`` loads no server module.

    from wabox.client import Client
    with Client.for_360dialog(api_key, base_url="http://127.0.0.1:8360") as wa:
        wa.send_image("16505551234", path="cat.jpg", caption="Our cat")

Everything it raises on purpose is a ``WaboxError``: ``WhatsAppError`` (and a subclass per
code family) when the API answers an error, ``TransportError`` when it does not answer. The
tree is drawn in ``wabox.client.errors``. ``__all__`` is the public surface, and a test pins it.
"""

from wabox.client.aio import AsyncClient
from wabox.client.errors import (
    AuthenticationError,
    InvalidRequest,
    MediaDownloadError,
    MediaUploadError,
    NotFound,
    PermissionDenied,
    RateLimited,
    RecipientError,
    ReEngagementRequired,
    ServiceUnavailable,
    TemplateError,
    TemplateNotFound,
    TransportError,
    WaboxError,
    WhatsAppError,
)
from wabox.client.sync import Client
from wabox.client.types import (
    HeaderMedia,
    InboundMessage,
    MediaInfo,
    MediaRef,
    SentMessage,
    Status,
    WebhookError,
    WebhookEvent,
)
from wabox.client.webhooks import parse_webhook, verify_handshake, verify_signature

__all__ = [
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "HeaderMedia",
    "InboundMessage",
    "InvalidRequest",
    "MediaDownloadError",
    "MediaInfo",
    "MediaRef",
    "MediaUploadError",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "ReEngagementRequired",
    "RecipientError",
    "SentMessage",
    "ServiceUnavailable",
    "Status",
    "TemplateError",
    "TemplateNotFound",
    "TransportError",
    "WaboxError",
    "WebhookError",
    "WebhookEvent",
    "WhatsAppError",
    "parse_webhook",
    "verify_handshake",
    "verify_signature",
]
