"""Changing a channel's settings: decoded over what it has, and Meta's callback handshake."""

from __future__ import annotations

from typing import Any

import msgspec

from wabox.errors import graph_error_for
from wabox.schema.sandbox import ChannelSettings, WebhookConfig, merged_settings
from wabox.webhooks.verify import verify_callback


def decode_settings(base: dict[str, Any], given: dict[str, Any]) -> ChannelSettings:
    """``given`` over ``base`` (the channel's settings, or the defaults of a new one);
    settings not named keep their value. Raises a Graph 100 error naming the bad one."""
    try:
        return merged_settings(base, given)
    except msgspec.ValidationError as exc:
        raise graph_error_for(exc) from exc


async def verify_webhook(old: WebhookConfig | None, new: WebhookConfig | None) -> None:
    """Meta's handshake, whenever a callback URL or its verify token is set or edited."""
    if new is None or new.verify_token is None:
        return
    if old is not None and (old.url, old.verify_token) == (new.url, new.verify_token):
        return
    await verify_callback(new.url, new.verify_token)
