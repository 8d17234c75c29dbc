"""The customer's side (admin token): send as the customer, see each conversation's window."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from wabox.api.http import decode, json_response, read_json_body
from wabox.api.sandbox import admin_runtime
from wabox.errors import ObjectNotFound
from wabox.samples import SAMPLES
from wabox.schema.inbound import (
    ConversationList,
    Inbound,
    SampleFile,
    SampleList,
)
from wabox.store.conversations import list_conversations

_inbound = msgspec.json.Decoder(Inbound)
# A customer's file arrives as base64 in the JSON body: room for a 100 MB document (the
# largest media WhatsApp takes), on this admin-only route.
INBOUND_BODY_BYTES = 100 * 1024 * 1024 * 4 // 3 + 65536


async def post_inbound(request: Request) -> Response:
    """A customer sends the channel a message: stored, window opened, webhook sent."""
    runtime = admin_runtime(request)
    limit = max(runtime.config.max_body_bytes, INBOUND_BODY_BYTES)
    inbound = decode(_inbound, await read_json_body(request, limit))
    wanted = inbound.channel or runtime.default_channel_id
    channel = await runtime.database.channels.find(wanted)
    if channel is None:
        raise ObjectNotFound.for_object("post", wanted)
    return json_response(await runtime.customers.receive(channel, inbound, str(request.base_url)))


async def get_conversations(request: Request) -> Response:
    runtime = admin_runtime(request)
    found = await list_conversations(
        runtime.database, runtime.clock.now(), request.query_params.get("channel")
    )
    return json_response(ConversationList(conversations=found))


async def get_samples(request: Request) -> Response:
    admin_runtime(request)
    return json_response(
        SampleList(
            samples=[
                SampleFile(name=s.name, mime_type=s.mime_type, kind=s.kind)
                for s in SAMPLES.values()
            ]
        )
    )
