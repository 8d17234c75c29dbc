"""The customer's side (admin token): send as the customer, see each conversation's window."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from wabox.api.errors import ObjectNotFound
from wabox.api.http import decode, json_response, read_json_body
from wabox.api.sandbox import admin_runtime
from wabox.delivery.inbound import receive
from wabox.schema.inbound import ConversationList, Inbound
from wabox.store.conversations import list_conversations

_inbound = msgspec.json.Decoder(Inbound)


async def post_inbound(request: Request) -> Response:
    """A customer sends the channel a message: stored, window opened, webhook sent."""
    runtime = admin_runtime(request)
    inbound = decode(_inbound, await read_json_body(request, runtime.config.max_body_bytes))
    wanted = inbound.channel or runtime.default_channel_id
    channel = runtime.database.channels.get(wanted)
    if channel is None:
        raise ObjectNotFound.for_object("post", wanted)
    accepted = await receive(runtime.database, channel, inbound, runtime.clock.now())
    if channel.settings.webhook is not None:
        runtime.dispatcher.wake()
    return json_response(accepted)


async def get_conversations(request: Request) -> Response:
    runtime = admin_runtime(request)
    found = await list_conversations(
        runtime.database, runtime.clock.now(), request.query_params.get("channel")
    )
    return json_response(ConversationList(conversations=found))
