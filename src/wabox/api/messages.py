"""``POST /messages`` in both dialects (wire-facts §1)."""

from __future__ import annotations

import re

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from wabox.api.auth import authenticate, channel_for_path
from wabox.api.http import decode, json_response, read_json_body
from wabox.errors import GraphError, ObjectNotFound
from wabox.runtime import Runtime
from wabox.schema.messages import (
    AnyMessage,
    MarkRead,
    SuccessResponse,
    mark_read_decoder,
    message_decoder,
)
from wabox.schema.sandbox import Channel

_VERSION = re.compile(r"v\d{1,3}\.\d{1,3}")
_MISSING_TYPE = "Object missing required field `type`"


def check_version(version: str) -> None:
    """Any ``v<major>.<minor>`` is accepted: clients pin anything from v14.0 to v24.0."""
    if _VERSION.fullmatch(version) is None:
        raise ObjectNotFound(f"Unknown path components: /{version} is not a Graph API version.")


def decode_send_body(body: bytes) -> AnyMessage | MarkRead:
    """A message, or a mark-as-read; ``type`` defaults to ``text`` as on Meta's API."""
    try:
        return decode(message_decoder, body)
    except GraphError as exc:
        cause = exc.__cause__
        if not (isinstance(cause, msgspec.ValidationError) and str(cause) == _MISSING_TYPE):
            raise
    fields: dict[str, object] = msgspec.json.decode(body)
    if "status" in fields:
        return decode(mark_read_decoder, body)
    fields["type"] = "text"
    return decode(message_decoder, msgspec.json.encode(fields))


async def _send(request: Request, runtime: Runtime, channel: Channel) -> Response:
    body = await read_json_body(request, runtime.config.max_body_bytes)
    message = decode_send_body(body)
    if isinstance(message, MarkRead):
        await runtime.sender.mark_read(channel, message.message_id)
        return json_response(SuccessResponse())
    return json_response(await runtime.sender.send(channel, message, body))


async def send_message_360dialog(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    channel = await authenticate(request, runtime, "360dialog")
    return await _send(request, runtime, channel)


async def send_message_cloud(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    check_version(request.path_params["version"])
    channel = await channel_for_path(request, runtime, request.path_params["phone_number_id"])
    return await _send(request, runtime, channel)
