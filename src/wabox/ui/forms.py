"""What the inbox's forms post: the tester writes as the customer (text, a file, a reaction,
a reply), edits the channel's settings and scenario rules, and redelivers a webhook."""

from __future__ import annotations

import base64
from typing import Any

import msgspec
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from wabox.delivery.answers import quick_replies
from wabox.delivery.channels import decode_settings, verify_webhook
from wabox.delivery.receiver_probes import probe_receiver
from wabox.errors import GraphError, InvalidParameter
from wabox.identities import is_bsuid
from wabox.runtime import Runtime
from wabox.schema.inbound import Inbound
from wabox.schema.sandbox import Channel
from wabox.schema.scenarios import Scenario
from wabox.store.messages import sent_message
from wabox.store.webhooks import redeliver
from wabox.ui.pages import chat_context, settings_response, webhook_log_response
from wabox.ui.render import page
from wabox.ui.signin import pick_channel, signed_in
from wabox.webhooks.probes import KINDS

BEHAVIOURS = ("not_on_whatsapp", "never_read", "duplicate_webhooks", "out_of_order")


async def send_as_customer(request: Request) -> Response:
    """The composer: text, a file, a reaction or a reply, sent as the customer; and the
    answers a business message offers (a tapped button, a picked row)."""
    runtime = signed_in(request)
    channel = await pick_channel(runtime, request.path_params["channel"])
    customer = request.path_params["wa_id"]
    form = await request.form(max_part_size=100 * 1_048_576)
    body: dict[str, Any] = {"channel": channel.phone_number_id}
    body["user_id" if is_bsuid(customer) else "from"] = customer
    reply_to = str(form.get("reply_to") or "")
    if reply_to:
        body["context"] = {"id": reply_to}
    upload = form.get("file")
    text = str(form.get("text") or "").strip()
    if form.get("emoji") and form.get("react_to"):
        body["type"] = "reaction"
        body["reaction"] = {"message_id": str(form["react_to"]), "emoji": str(form["emoji"])}
    elif form.get("tap") and reply_to:
        body["interactive"] = {"type": "button_reply", "button_reply": {"id": str(form["tap"])}}
    elif form.get("pick") and reply_to:
        body["interactive"] = {"type": "list_reply", "list_reply": {"id": str(form["pick"])}}
    elif form.get("flow_response") is not None and reply_to:
        body["interactive"] = {
            "type": "nfm_reply",
            "nfm_reply": {"response_json": str(form["flow_response"]).strip() or "{}"},
        }
    elif form.get("share"):
        try:
            body.update(_shared(form))
        except ValueError as exc:
            return await _chat_with_error(runtime, channel, customer, str(exc))
    elif form.get("quick_reply") is not None and reply_to:
        button = await _quick_reply(runtime, channel, reply_to, str(form["quick_reply"]))
        if button is None:
            return await _chat_with_error(
                runtime, channel, customer, "That message has no such quick-reply button."
            )
        body["button"] = button
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
        inbound = msgspec.convert(body, Inbound)
        await runtime.customers.receive(channel, inbound, str(request.base_url))
    except (GraphError, msgspec.ValidationError) as exc:
        detail = exc.details if isinstance(exc, GraphError) else str(exc)
        return await _chat_with_error(runtime, channel, customer, detail)
    context = await chat_context(runtime, channel, customer)
    return page("_chat.html", channel=channel, customer=customer, **context)


def _shared(form: FormData) -> dict[str, Any]:
    """What the phone's share menu sends: a place, a contact card, a sticker, a voice note."""
    share = str(form.get("share"))
    if share == "location":
        try:
            place: dict[str, Any] = {
                "latitude": float(str(form.get("latitude"))),
                "longitude": float(str(form.get("longitude"))),
            }
        except ValueError:
            raise ValueError("Latitude and longitude are numbers, e.g. 52.52 and 13.405.") from None
        for field, name in (("place", "name"), ("address", "address")):
            if str(form.get(field) or "").strip():
                place[name] = str(form[field]).strip()
        return {"type": "location", "location": place}
    if share == "contact":
        name = str(form.get("contact_name") or "").strip()
        if not name:
            raise ValueError("A shared contact needs a name.")
        card: dict[str, Any] = {"name": {"formatted_name": name, "first_name": name}}
        phone = str(form.get("contact_phone") or "").strip()
        if phone:
            digits = "".join(ch for ch in phone if ch.isdigit())
            card["phones"] = [{"phone": phone, "type": "CELL", "wa_id": digits}]
        return {"type": "contacts", "contacts": [card]}
    sample = str(form.get("sample") or "")
    kind = "sticker" if sample.startswith("sticker") else "audio"
    media: dict[str, Any] = {"sample": sample}
    if kind == "audio":
        media["voice"] = True
    return {"type": kind, kind: media}


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
    context = await chat_context(runtime, channel, customer)
    response = page("_chat.html", channel=channel, customer=customer, error=error, **context)
    response.headers["X-Wabox-Error"] = "1"  # the composer keeps what was typed
    return response


async def update_settings(request: Request) -> Response:
    """The settings form: the page again, saying "Saved." or what was wrong."""
    runtime = signed_in(request)
    channel = await pick_channel(runtime, request.path_params["channel"])
    message = error = None
    form = await request.form()
    try:
        channel = await _save_settings(runtime, channel, {k: str(v) for k, v in form.items()})
        message = "Saved."
    except GraphError as exc:
        error = exc.details
    return await settings_response(runtime, channel, message, error)


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
            "played_after": number("played_after"),
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


async def add_rule(request: Request) -> Response:
    """A scenario rule for this channel from the settings page."""
    runtime = signed_in(request)
    channel = await pick_channel(runtime, request.path_params["channel"])
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
        return await settings_response(runtime, channel, error=f"Rule not added: {exc}")
    await runtime.scenarios.add(scenario, runtime.clock.now())
    return RedirectResponse(f"/ui/{channel.phone_number_id}/settings", status_code=303)


async def delete_rule(request: Request) -> Response:
    runtime = signed_in(request)
    channel = await pick_channel(runtime, request.path_params["channel"])
    await runtime.scenarios.delete(request.path_params["scenario_id"])
    return RedirectResponse(f"/ui/{channel.phone_number_id}/settings", status_code=303)


async def redeliver_webhook(request: Request) -> Response:
    """The log's "Redeliver" button: queued again at once, then back to the page it was on."""
    runtime = signed_in(request)
    delivery_id = int(request.path_params["delivery_id"])
    await redeliver(runtime.database, delivery_id, runtime.clock.now())
    runtime.dispatcher.wake()
    back = request.headers.get("referer") or "/"
    return RedirectResponse(back, status_code=303)


async def _quick_reply(
    runtime: Runtime, channel: Channel, wamid: str, index: str
) -> dict[str, Any] | None:
    """The text of a template message's quick-reply button ``index`` (the inbox's buttons
    name them by position); the domain checks it and adds its payload."""
    sent = await sent_message(runtime.database, channel.phone_number_id, wamid)
    quick = quick_replies(sent) if sent is not None else []
    if not index.isdigit() or int(index) >= len(quick):
        return None
    return {"text": quick[int(index)]["text"]}


async def probe_webhook(request: Request) -> Response:
    """The log's "Probe the receiver" form: one probe, then the log of probes with its
    verdict on top."""
    runtime = signed_in(request)
    channel = await pick_channel(runtime, request.path_params["channel"])
    form = await request.form()
    kind = str(form.get("kind", ""))
    if kind not in KINDS:
        return await webhook_log_response(runtime, channel, "probe", probe_error="Pick a probe.")
    try:
        _, probe = await probe_receiver(runtime.database, runtime.clock, channel, kind)
    except GraphError as exc:
        return await webhook_log_response(runtime, channel, "probe", probe_error=exc.details)
    return await webhook_log_response(runtime, channel, "probe", probe=probe)
