"""What the client returns: small frozen dataclasses, no schema library needed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from wabox.client.errors import WhatsAppError, error_class


@dataclass(frozen=True, slots=True)
class SentMessage:
    """``POST /messages`` accepted the message; its statuses come by webhook. ``wa_id``
    is "" and ``user_id`` the BSUID for a message sent to a BSUID."""

    id: str
    wa_id: str
    input: str
    message_status: str | None = None  # only for paced template sends
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """``GET /{media_id}``: a download URL valid for 5 minutes, and what it points at."""

    id: str
    url: str
    mime_type: str
    sha256: str
    file_size: int


@dataclass(frozen=True, slots=True)
class HeaderMedia:
    """A template's media header: by uploaded ``id`` or hosted ``link``."""

    type: Literal["image", "video", "document"]
    id: str | None = None
    link: str | None = None
    filename: str | None = None

    def parameter(self) -> dict[str, Any]:
        if (self.id is None) == (self.link is None):
            raise ValueError("HeaderMedia needs exactly one of id and link")
        media: dict[str, Any] = {"id": self.id} if self.id is not None else {"link": self.link}
        if self.filename is not None and self.type == "document":
            media["filename"] = self.filename
        return {"type": self.type, self.type: media}


@dataclass(frozen=True, slots=True)
class WebhookError:
    code: int
    title: str
    message: str
    details: str
    href: str | None = None

    def exception(self) -> WhatsAppError:
        """The typed error a synchronous answer with this code would raise, e.g.
        ``ReEngagementRequired`` for a 131047 failed status."""
        cls = error_class(self.code)
        return cls(self.code, self.title, self.details)


@dataclass(frozen=True, slots=True)
class Pricing:
    category: str
    type: str
    billable: bool | None
    pricing_model: str | None


@dataclass(frozen=True, slots=True)
class Status:
    """A status of a message the business sent: sent, delivered, read, failed (or played)."""

    id: str
    status: str
    timestamp: int
    recipient_id: str
    errors: list[WebhookError] = field(default_factory=list)
    pricing: Pricing | None = None
    biz_opaque_callback_data: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == "failed"


@dataclass(frozen=True, slots=True)
class MediaRef:
    """Media a customer sent: download it with ``download_media(id)`` within 7 days."""

    id: str
    mime_type: str
    sha256: str
    url: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool | None = None
    animated: bool | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A customer's message. ``text`` for text; ``media`` for image, video, audio,
    document and sticker; ``content`` holds the type's object as sent."""

    id: str
    from_: str
    timestamp: int
    type: str
    content: Any
    profile_name: str | None = None
    text: str | None = None
    media: MediaRef | None = None
    reply_to: str | None = None
    errors: list[WebhookError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One ``changes[].value`` of a webhook: a business number's messages and statuses."""

    waba_id: str
    phone_number_id: str
    display_phone_number: str
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    errors: list[WebhookError] = field(default_factory=list)
