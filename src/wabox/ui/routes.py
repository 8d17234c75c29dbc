"""The web inbox at ``/``: every conversation as the customer's phone shows it, live.

Closed by default: ``wabox serve`` prints a link carrying the admin token (``/?token=…``),
which sets an HttpOnly, SameSite=Strict cookie and redirects to the clean URL, as Jupyter
does; ``WABOX_UI_OPEN=1`` opens it without the token, for a purely local sandbox. The
cookie holds an HMAC of the token, never the token itself. Pages are rendered on the
server; htmx (vendored) swaps the parts, and one Server-Sent Events stream tells the page
when anything changed, in this process or another.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
import msgspec
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from wabox.api.sandbox import decode_settings, verify_webhook
from wabox.api.sandbox_conversations import receive_as_customer
from wabox.delivery.scenarios import new_scenario_id
from wabox.errors import GraphError, InvalidParameter
from wabox.media.inspect import human_size
from wabox.runtime import Runtime
from wabox.schema.inbound import Inbound
from wabox.schema.sandbox import Channel
from wabox.schema.scenarios import Scenario
from wabox.store.conversations import list_conversations
from wabox.store.inbox import change_marker, chat_floor, customers, media_sizes, search
from wabox.store.media import get_live_media
from wabox.store.messages import list_messages
from wabox.store.scenarios import add_scenario, delete_scenario, stored_scenarios
from wabox.store.webhooks import list_deliveries, redeliver
from wabox.ui.present import (
    MEDIA_KINDS,
    bubbles,
    clock_time,
    describe,
    last_preview,
    stamp,
)

HERE = Path(__file__).parent
COOKIE = "wabox_ui"
POLL = 0.3  # seconds between looks for changes, per open page
# At most one refresh a second per page: under a load test the store changes all the time,
# and each refresh reads the customer list and the chat again.
MIN_GAP = 1.0
KEEPALIVE = 15.0
CHAT_LIMIT = 300
REACTIONS = ("👍", "❤️", "😂", "🙏")

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["clock"] = clock_time
_env.filters["stamp"] = stamp
_env.filters["pretty"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False)
_env.filters["size"] = human_size
_env.globals["last_preview"] = last_preview
_env.globals["describe"] = describe
_env.globals["REACTIONS"] = REACTIONS
_env.globals["MEDIA_KINDS"] = MEDIA_KINDS


class NotSignedIn(Exception):
    """No valid cookie: the page explains how to get in."""


class NoChannel(Exception):
    """The server has no channel at all (every one deleted): nothing to show."""


def _cookie_value(runtime: Runtime) -> str:
    return hmac.new(runtime.url_secret, runtime.admin_token.encode(), hashlib.sha256).hexdigest()


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.state.runtime
    if runtime.config.ui_open:
        return runtime
    cookie = request.cookies.get(COOKIE, "")
    if not secrets.compare_digest(cookie.encode(), _cookie_value(runtime).encode()):
        raise NotSignedIn
    return runtime


def _page(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_env.get_template(name).render(**context), status_code=status_code)


def _channel(runtime: Runtime, phone_number_id: str | None) -> Channel:
    channel = runtime.database.channels.get(phone_number_id or runtime.default_channel_id)
    if channel is None:
        channel = next(iter(runtime.database.channels.all()), None)
    if channel is None:
        raise NoChannel
    return channel


async def home(request: Request) -> Response:
    """``/?token=…`` signs in; otherwise the inbox of a channel (``?channel=&customer=&q=``)."""
    runtime: Runtime = request.state.runtime
    token = request.query_params.get("token")
    if token is not None:
        if not secrets.compare_digest(token.encode(), runtime.admin_token.encode()):
            return _page("signin.html", 401, wrong=True)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            COOKIE, _cookie_value(runtime), httponly=True, samesite="strict", path="/"
        )
        return response
    runtime = _runtime(request)
    query = request.query_params
    channel = _channel(runtime, query.get("channel"))
    context = await _inbox_context(runtime, channel, query.get("customer"), query.get("q"))
    return _page("inbox.html", **context)


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
        **(await _chat_context(runtime, channel, customer) if customer else {}),
    }


async def _chat_context(runtime: Runtime, channel: Channel, customer: str) -> dict[str, Any]:
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
    windows = {
        c.wa_id: c
        for c in await list_conversations(
            runtime.database, runtime.clock.now(), channel.phone_number_id
        )
    }
    return {
        "bubbles": shown,
        "sizes": await media_sizes(runtime.database, documents),
        "conversation": windows.get(customer),
        "now": runtime.clock.now(),
    }


async def customer_list(request: Request) -> Response:
    runtime = _runtime(request)
    channel = _channel(runtime, request.path_params["channel"])
    query = request.query_params
    return _page(
        "_customers.html",
        channel=channel,
        customers=await customers(runtime.database, channel.phone_number_id),
        customer=query.get("customer"),
        now=runtime.clock.now(),
    )


async def chat(request: Request) -> Response:
    runtime = _runtime(request)
    channel = _channel(runtime, request.path_params["channel"])
    customer = request.path_params["wa_id"]
    context = await _chat_context(runtime, channel, customer)
    return _page("_chat.html", channel=channel, customer=customer, **context)


async def send_as_customer(request: Request) -> Response:
    """The composer: text, a file, a reaction or a reply, sent as the customer."""
    runtime = _runtime(request)
    channel = _channel(runtime, request.path_params["channel"])
    customer = request.path_params["wa_id"]
    form = await request.form(max_part_size=100 * 1_048_576)
    body: dict[str, Any] = {"from": customer, "channel": channel.phone_number_id}
    reply_to = str(form.get("reply_to") or "")
    if reply_to:
        body["context"] = {"id": reply_to}
    upload = form.get("file")
    text = str(form.get("text") or "").strip()
    if form.get("emoji") and form.get("react_to"):
        body["type"] = "reaction"
        body["reaction"] = {"message_id": str(form["react_to"]), "emoji": str(form["emoji"])}
    elif isinstance(upload, UploadFile) and upload.filename:
        kind, media = await _customer_file(upload, text)
        body["type"], body[kind] = kind, media
    elif text:
        body["type"], body["text"] = "text", {"body": text}
    else:
        return await _chat_with_error(
            runtime, channel, customer, "Type a message or attach a file."
        )
    try:
        await receive_as_customer(request, runtime, channel, msgspec.convert(body, Inbound))
    except (GraphError, msgspec.ValidationError) as exc:
        detail = exc.details if isinstance(exc, GraphError) else str(exc)
        return await _chat_with_error(runtime, channel, customer, detail)
    context = await _chat_context(runtime, channel, customer)
    return _page("_chat.html", channel=channel, customer=customer, **context)


async def _customer_file(upload: UploadFile, caption: str) -> tuple[str, dict[str, Any]]:
    mime = (upload.content_type or "application/octet-stream").split(";")[0].strip()
    content = await upload.read()
    if mime == "image/webp":
        kind = "sticker"
    elif mime.startswith("image/"):
        kind = "image"
    elif mime.startswith("video/"):
        kind = "video"
    elif mime.startswith("audio/"):
        kind = "audio"
    else:
        kind = "document"
    media: dict[str, Any] = {"data": base64.b64encode(content).decode(), "mime_type": mime}
    if kind == "audio":
        media["voice"] = mime == "audio/ogg"
    if kind == "document":
        media["filename"] = upload.filename
    if caption and kind in ("image", "video", "document"):
        media["caption"] = caption
    return kind, media


async def _chat_with_error(
    runtime: Runtime, channel: Channel, customer: str, error: str
) -> Response:
    context = await _chat_context(runtime, channel, customer)
    response = _page("_chat.html", channel=channel, customer=customer, error=error, **context)
    response.headers["X-Wabox-Error"] = "1"  # the composer keeps what was typed
    return response


async def media_bytes(request: Request) -> Response:
    """The bytes behind a bubble (the inbox is admin: any channel's media)."""
    runtime = _runtime(request)
    channel = _channel(runtime, request.path_params["channel"])
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
    runtime = _runtime(request)
    wamid = request.path_params["wamid"]
    found = await list_messages(runtime.database, wamid=wamid, limit=1)
    if not found:
        return _page("missing.html", 404, what=f"message {wamid}")
    message = found[0]
    channel = _channel(runtime, message.channel)
    deliveries = await list_deliveries(runtime.database, wamid=wamid, limit=100)
    (bubble,) = bubbles(found) or (None,)
    return _page(
        "message.html",
        channel=channel,
        message=message,
        bubble=bubble,
        deliveries=deliveries,
        payload=message.payload,
    )


async def redeliver_webhook(request: Request) -> Response:
    runtime = _runtime(request)
    delivery_id = int(request.path_params["delivery_id"])
    await redeliver(runtime.database, delivery_id, runtime.clock.now())
    runtime.dispatcher.wake()
    back = request.headers.get("referer") or "/"
    return RedirectResponse(back, status_code=303)


async def webhook_log(request: Request) -> Response:
    runtime = _runtime(request)
    channel = _channel(runtime, request.path_params["channel"])
    state = request.query_params.get("state") or None
    if state not in (None, "pending", "delivered", "dead"):
        state = None
    deliveries = await list_deliveries(
        runtime.database, channel=channel.phone_number_id, state=state, limit=200
    )
    return _page(
        "webhooks.html",
        channels=runtime.database.channels.all(),
        channel=channel,
        deliveries=deliveries,
        state=state or "",
    )


async def settings_page(request: Request) -> Response:
    runtime = _runtime(request)
    channel = _channel(runtime, request.path_params["channel"])
    message = error = None
    if request.method == "POST":
        form = await request.form()
        try:
            channel = await _save_settings(runtime, channel, {k: str(v) for k, v in form.items()})
            message = "Saved."
        except GraphError as exc:
            error = exc.details
    return await _settings_response(runtime, channel, message, error)


async def _settings_response(
    runtime: Runtime, channel: Channel, message: str | None = None, error: str | None = None
) -> Response:
    scenarios = [s for s in runtime.scenarios.all() if s.channel in (None, channel.phone_number_id)]
    return _page(
        "settings.html",
        400 if error else 200,
        channels=runtime.database.channels.all(),
        channel=channel,
        settings=channel.settings,
        scenarios=scenarios,
        message=message,
        error=error,
    )


async def _save_settings(runtime: Runtime, channel: Channel, form: dict[str, str]) -> Channel:
    def number(name: str) -> float | None:
        raw = form.get(name, "").strip()
        return None if raw == "" else float(raw)

    try:
        headers = dict(
            (name.strip(), value.strip())
            for line in form.get("webhook_headers", "").splitlines()
            if line.strip()
            for name, _, value in [line.partition(":")]
        )
        given: dict[str, Any] = {
            "link_cache": form.get("link_cache", "seed"),
            "delivered_after": number("delivered_after") or 0.0,
            "read_after": number("read_after"),
            "enforce_window": form.get("enforce_window") == "on",
            "throughput": None if number("throughput") is None else int(number("throughput") or 0),
            "pair_rate_limit": form.get("pair_rate_limit") == "on",
        }
    except ValueError as exc:
        raise InvalidParameter(f"Not a number: {exc}") from exc
    url = form.get("webhook_url", "").strip()
    given["webhook"] = (
        {
            "url": url,
            "headers": headers,
            **{
                k: form[k].strip()
                for k in ("verify_token", "app_secret")
                if form.get(k, "").strip()
            },
        }
        if url
        else None
    )
    settings = decode_settings(msgspec.to_builtins(channel.settings), given)
    await verify_webhook(channel.settings.webhook, settings.webhook)
    return await runtime.database.channels.update(channel, settings=settings)


BEHAVIOURS = ("not_on_whatsapp", "never_read", "duplicate_webhooks", "out_of_order")


async def add_rule(request: Request) -> Response:
    """A scenario rule for this channel from the settings page."""
    runtime = _runtime(request)
    channel = _channel(runtime, request.path_params["channel"])
    form = {k: str(v).strip() for k, v in (await request.form()).items()}
    spec: dict[str, Any] = {"match": form.get("match", ""), "channel": channel.phone_number_id}
    behaviour = form.get("behaviour", "")
    if behaviour in BEHAVIOURS:
        spec[behaviour] = True
    elif behaviour == "delivered_after":
        spec["delivered_after"] = form.get("seconds") or "0"
    elif behaviour == "fail":
        spec["fail"] = {"code": form.get("code") or "0", "details": form.get("details", "")}
    try:
        scenario = msgspec.convert(spec, Scenario, strict=False)
    except msgspec.ValidationError as exc:
        return await _settings_response(runtime, channel, error=f"Rule not added: {exc}")
    scenario = msgspec.structs.replace(scenario, id=new_scenario_id())
    await add_scenario(runtime.database, scenario, runtime.clock.now())
    runtime.scenarios.replace_stored(await stored_scenarios(runtime.database))
    return RedirectResponse(f"/ui/{channel.phone_number_id}/settings", status_code=303)


async def delete_rule(request: Request) -> Response:
    runtime = _runtime(request)
    channel = _channel(runtime, request.path_params["channel"])
    await delete_scenario(runtime.database, request.path_params["scenario_id"])
    runtime.scenarios.replace_stored(await stored_scenarios(runtime.database))
    return RedirectResponse(f"/ui/{channel.phone_number_id}/settings", status_code=303)


async def events(request: Request) -> Response:
    """``change`` whenever the store changed: the page then fetches what it shows again."""
    runtime = _runtime(request)

    async def stream() -> AsyncIterator[bytes]:
        last = await change_marker(runtime.database)
        quiet = 0.0
        sent_at = 0.0
        yield b"retry: 1000\n\n"
        while not await request.is_disconnected():
            await asyncio.sleep(max(POLL, sent_at + MIN_GAP - time.monotonic()))
            marker = await change_marker(runtime.database)
            if marker != last:
                last, quiet, sent_at = marker, 0.0, time.monotonic()
                yield b"event: change\ndata: {}\n\n"
            else:
                quiet += POLL
                if quiet >= KEEPALIVE:
                    quiet = 0.0
                    yield b": keep-alive\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def inbox_link(base_url: str, token: str) -> str:
    return f"{base_url}/?{urlencode({'token': token})}"


def routes() -> list[Route | Mount]:
    return [
        Route("/", home, methods=["GET"]),
        Route("/ui/events", events, methods=["GET"]),
        Route("/ui/{channel:digits}/customers", customer_list, methods=["GET"]),
        Route("/ui/{channel:digits}/chat/{wa_id:digits}", chat, methods=["GET"]),
        Route("/ui/{channel:digits}/chat/{wa_id:digits}", send_as_customer, methods=["POST"]),
        Route("/ui/{channel:digits}/media/{media_id:digits}", media_bytes, methods=["GET"]),
        Route("/ui/{channel:digits}/webhooks", webhook_log, methods=["GET"]),
        Route("/ui/{channel:digits}/settings", settings_page, methods=["GET", "POST"]),
        Route("/ui/{channel:digits}/scenarios", add_rule, methods=["POST"]),
        Route("/ui/{channel:digits}/scenarios/{scenario_id}/delete", delete_rule, methods=["POST"]),
        Route("/ui/messages/{wamid}", message_detail, methods=["GET"]),
        Route("/ui/webhooks/{delivery_id:int}/redeliver", redeliver_webhook, methods=["POST"]),
        Mount("/ui/static", StaticFiles(directory=HERE / "static"), name="ui-static"),
    ]


async def not_signed_in(request: Request, exc: Exception) -> Response:
    return _page("signin.html", 401, wrong=False)


async def no_channel(request: Request, exc: Exception) -> Response:
    return _page("missing.html", 404, what="channel (create one with `wabox channel create`)")
