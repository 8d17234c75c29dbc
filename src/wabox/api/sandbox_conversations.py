"""The customer's side (admin token): send as the customer, see each conversation's window."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from wabox.api.http import decode, json_response, read_json_body
from wabox.api.sandbox import admin_runtime
from wabox.delivery.inbound import receive
from wabox.errors import ObjectNotFound
from wabox.media.urls import ATTACHMENTS_PATH, signed_query
from wabox.runtime import Runtime
from wabox.samples import SAMPLES
from wabox.schema.inbound import (
    ConversationList,
    Inbound,
    InboundAccepted,
    SampleFile,
    SampleList,
)
from wabox.schema.sandbox import Channel
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
    channel = runtime.database.channels.get(wanted)
    if channel is None:
        raise ObjectNotFound.for_object("post", wanted)
    return json_response(await receive_as_customer(request, runtime, channel, inbound))


async def receive_as_customer(
    request: Request, runtime: Runtime, channel: Channel, inbound: Inbound
) -> InboundAccepted:
    """The inbound path shared by the admin API and the inbox's composer. Media URLs in
    the webhook name the host the request came to, as ``GET /{media_id}`` does."""
    base = str(request.base_url).rstrip("/")

    def url_for(media_id: str, expires_at: float) -> str:
        now = runtime.clock.now()
        query = signed_query(runtime.url_secret, media_id, expires_at - now, now)
        return f"{base}{ATTACHMENTS_PATH}?{query}"

    accepted = await receive(
        runtime.database, channel, inbound, runtime.clock.now(), runtime.customer_files, url_for
    )
    if channel.settings.webhook is not None:
        runtime.dispatcher.wake()
    return accepted


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
