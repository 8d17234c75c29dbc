"""The inbox's pages: a channel's customers and chats, a message's detail, the webhook log
and the channel's settings, rendered on the server; htmx swaps the parts."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from wabox.runtime import Runtime
from wabox.schema.sandbox import Channel
from wabox.store.conversations import list_conversations
from wabox.store.inbox import chat_floor, customers, media_sizes, search
from wabox.store.media import get_live_media
from wabox.store.messages import list_messages
from wabox.store.webhooks import list_deliveries
from wabox.ui.present import bubbles
from wabox.ui.render import page
from wabox.ui.signin import pick_channel, sign_in, signed_in
from wabox.webhooks.probes import KINDS, Probe

CHAT_LIMIT = 300


async def home(request: Request) -> Response:
    """``/?token=…`` signs in; otherwise the inbox of a channel (``?channel=&customer=&q=``)."""
    token = request.query_params.get("token")
    if token is not None:
        return sign_in(request.state.runtime, token)
    runtime = signed_in(request)
    query = request.query_params
    channel = await pick_channel(runtime, query.get("channel"))
    context = await _inbox_context(runtime, channel, query.get("customer"), query.get("q"))
    return page("inbox.html", **context)


async def _inbox_context(
    runtime: Runtime, channel: Channel, customer: str | None, q: str | None
) -> dict[str, Any]:
    people = await customers(runtime.database, channel.phone_number_id)
    if customer is None and people and not q:
        customer = people[0].wa_id
    return {
        "channels": runtime.database.channels.all(),
        "channel": channel,
        "customers": people,
        "customer": customer,
        "q": q or "",
        "found": (await search(runtime.database, channel.phone_number_id, q) if q else None),
        "now": runtime.clock.now(),
        **(await chat_context(runtime, channel, customer) if customer else {}),
    }


async def chat_context(runtime: Runtime, channel: Channel, customer: str) -> dict[str, Any]:
    """What ``_chat.html`` shows: the latest bubbles and the customer's window."""
    floor = await chat_floor(runtime.database, channel.phone_number_id)
    stored = await list_messages(
        runtime.database,
        channel=channel.phone_number_id,
        to=customer,
        after_id=floor,
        limit=CHAT_LIMIT,
    )
    shown = bubbles(stored)
    documents = [b.media_id for b in shown if b.media_id and b.type == "document"]
    found = await list_conversations(
        runtime.database, runtime.clock.now(), channel.phone_number_id, wa_id=customer
    )
    return {
        "bubbles": shown,
        "sizes": await media_sizes(runtime.database, documents),
        "conversation": found[0] if found else None,
        "now": runtime.clock.now(),
    }


async def customer_list(request: Request) -> Response:
    runtime = signed_in(request)
    channel = await pick_channel(runtime, request.path_params["channel"])
    query = request.query_params
    return page(
        "_customers.html",
        channel=channel,
        customers=await customers(runtime.database, channel.phone_number_id),
        customer=query.get("customer"),
        now=runtime.clock.now(),
    )


async def chat(request: Request) -> Response:
    runtime = signed_in(request)
    channel = await pick_channel(runtime, request.path_params["channel"])
    customer = request.path_params["wa_id"]
    context = await chat_context(runtime, channel, customer)
    return page("_chat.html", channel=channel, customer=customer, **context)


async def media_bytes(request: Request) -> Response:
    """The bytes behind a bubble (the inbox is admin: any channel's media)."""
    runtime = signed_in(request)
    channel = await pick_channel(runtime, request.path_params["channel"])
    row = await get_live_media(
        runtime.database, channel.phone_number_id, request.path_params["media_id"],
        runtime.clock.now(),
    )  # fmt: skip
    if row is None:
        return Response("This media has expired or was deleted.", 404, media_type="text/plain")
    headers = {"Cache-Control": "private, max-age=300"}
    if row.filename:
        headers["Content-Disposition"] = f'inline; filename="{row.filename}"'
    body = await runtime.blobs.read(row.sha256)
    return StreamingResponse(body, media_type=row.mime_type, headers=headers)


async def message_detail(request: Request) -> Response:
    runtime = signed_in(request)
    wamid = request.path_params["wamid"]
    found = await list_messages(runtime.database, wamid=wamid, limit=1)
    if not found:
        return page("missing.html", 404, what=f"message {wamid}")
    message = found[0]
    channel = await pick_channel(runtime, message.channel)
    deliveries = await list_deliveries(runtime.database, wamid=wamid, limit=100)
    (bubble,) = bubbles(found) or (None,)
    return page(
        "message.html",
        channel=channel,
        message=message,
        bubble=bubble,
        deliveries=deliveries,
        payload=message.payload,
    )


async def webhook_log(request: Request) -> Response:
    runtime = signed_in(request)
    channel = await pick_channel(runtime, request.path_params["channel"])
    state = request.query_params.get("state") or None
    if state not in (None, "pending", "delivered", "dead", "probe"):
        state = None
    return await webhook_log_response(runtime, channel, state)


async def webhook_log_response(
    runtime: Runtime,
    channel: Channel,
    state: str | None,
    probe: Probe | None = None,
    probe_error: str | None = None,
) -> Response:
    deliveries = await list_deliveries(
        runtime.database, channel=channel.phone_number_id, state=state, limit=200
    )
    return page(
        "webhooks.html",
        channels=runtime.database.channels.all(),
        channel=channel,
        deliveries=deliveries,
        state=state or "",
        probe_kinds=KINDS,
        probe=probe,
        probe_error=probe_error,
    )


async def settings_page(request: Request) -> Response:
    runtime = signed_in(request)
    channel = await pick_channel(runtime, request.path_params["channel"])
    return await settings_response(runtime, channel)


async def settings_response(
    runtime: Runtime, channel: Channel, message: str | None = None, error: str | None = None
) -> Response:
    """The settings page, with the outcome of a form posted to it (400 for an error)."""
    scenarios = [s for s in runtime.scenarios.all() if s.channel in (None, channel.phone_number_id)]
    return page(
        "settings.html",
        400 if error else 200,
        channels=runtime.database.channels.all(),
        channel=channel,
        settings=channel.settings,
        scenarios=scenarios,
        message=message,
        error=error,
    )
