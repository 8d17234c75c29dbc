"""The Graph error envelope (wire-facts §4.1) and the webhook error object (§4.2)."""

from __future__ import annotations

from typing import Any

import msgspec


class ErrorData(msgspec.Struct, kw_only=True):
    messaging_product: str = "whatsapp"
    details: str


class ErrorBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    """``message`` is "(#code) Title" for WhatsApp codes and the specific text for code 100."""

    message: str
    type: str
    code: int
    error_data: ErrorData
    error_subcode: int | msgspec.UnsetType = msgspec.UNSET
    fbtrace_id: str


class ErrorEnvelope(msgspec.Struct):
    """Every synchronous rejection: ``{"error": {...}}``."""

    error: ErrorBody


class WebhookError(msgspec.Struct, kw_only=True):
    """One entry of ``statuses[].errors[]`` or ``value.errors[]`` in a webhook."""

    code: int
    title: str
    message: str
    error_data: dict[str, Any]
    href: str
