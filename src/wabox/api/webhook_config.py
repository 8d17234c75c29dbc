"""360dialog's webhook configuration: ``POST``/``GET /v1/configs/webhook`` (wire-facts §5.7).

The custom ``headers`` go with every delivery. 360dialog documents no verification
handshake, so none is made here; a Cloud API channel sets its URL, verify token and app
secret through the admin API, which does make Meta's handshake.
"""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from wabox.api.auth import authenticate
from wabox.api.http import decode, json_response, read_json_body
from wabox.runtime import Runtime
from wabox.schema.sandbox import WebhookConfig
from wabox.schema.webhooks import WebhookConfigAnswer, WebhookConfigBody

_body = msgspec.json.Decoder(WebhookConfigBody)


async def set_webhook(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    channel = await authenticate(request, runtime, "360dialog")
    body = decode(_body, await read_json_body(request, runtime.config.max_body_bytes) or b"{}")
    old = channel.settings.webhook
    config = WebhookConfig(
        url=body.url,
        headers=body.headers,
        verify_token=old.verify_token if old is not None else None,
        app_secret=old.app_secret if old is not None else None,
    )
    settings = msgspec.structs.replace(channel.settings, webhook=config)
    await runtime.database.channels.update(channel, settings=settings)
    return json_response(WebhookConfigAnswer(url=config.url, headers=config.headers))


async def get_webhook(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    channel = await authenticate(request, runtime, "360dialog")
    config = channel.settings.webhook
    if config is None:
        return json_response(WebhookConfigAnswer(url=None, headers={}))
    return json_response(WebhookConfigAnswer(url=config.url, headers=config.headers))
