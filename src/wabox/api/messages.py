"""``POST /messages`` in both dialects (wire-facts §1)."""

from __future__ import annotations

import re

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from wabox.api.auth import authenticate, channel_for_path
from wabox.api.http import decode, json_response, read_graph_body, read_json_body
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


def check_version(version: str | None) -> None:
    """Any ``v<major>.<minor>`` is accepted: clients pin anything from v14.0 to v24.0, and
    Graph answers retired versions at the oldest one it serves. A path without a version
    is served as Graph serves an "unversioned call", at the app's default version (Meta for
    Developers, Graph API, "Platform Versioning"), which is v21.0 for wabox (README)."""
    if version is not None and _VERSION.fullmatch(version) is None:
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


async def _send(
    request: Request, runtime: Runtime, channel: Channel, graph: bool = False
) -> Response:
    limit = runtime.config.max_body_bytes
    body = await (read_graph_body if graph else read_json_body)(request, limit)
    message = decode_send_body(body)
    if isinstance(message, MarkRead):
        await runtime.sender.mark_read(
            channel, message.message_id, typing=message.typing_indicator is not None
        )
        return json_response(SuccessResponse())
    return json_response(await runtime.sender.send(channel, message, body))


async def send_message_360dialog(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    channel = await authenticate(request, runtime, "360dialog")
    return await _send(request, runtime, channel)


async def send_message_cloud(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    check_version(request.path_params.get("version"))
    channel = await channel_for_path(request, runtime, request.path_params["phone_number_id"])
    return await _send(request, runtime, channel, graph=True)
