"""The sandbox admin API (``/sandbox/…``, admin token): channels and stored messages.

Mailpit-style test powers: list what was sent, clear it, manage business numbers.
"""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from wabox.api.auth import require_admin
from wabox.api.http import decode, json_response, read_json_body
from wabox.delivery.channels import decode_settings, verify_webhook
from wabox.errors import InvalidParameter, ObjectNotFound
from wabox.media.retention import sweep
from wabox.runtime import Runtime
from wabox.schema.sandbox import (
    ChannelCreate,
    ChannelList,
    ChannelUpdate,
    Deleted,
    MessageList,
)
from wabox.store.channels import ChannelConflict
from wabox.store.media import expire_media
from wabox.store.messages import clear_messages, list_messages

_channel_create = msgspec.json.Decoder(ChannelCreate)
_channel_update = msgspec.json.Decoder(ChannelUpdate)
MAX_LIMIT = 1000


def admin_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.state.runtime
    require_admin(request, runtime)
    return runtime


async def list_channels(request: Request) -> Response:
    runtime = admin_runtime(request)
    return json_response(ChannelList(channels=await runtime.database.channels.listed()))


async def create_channel(request: Request) -> Response:
    runtime = admin_runtime(request)
    body = await read_json_body(request, runtime.config.max_body_bytes) or b"{}"
    spec = decode(_channel_create, body)
    given = msgspec.json.decode(body).get("settings") or {}
    spec.settings = decode_settings(runtime.channel_defaults, given)
    await verify_webhook(None, spec.settings.webhook)
    try:
        channel = await runtime.database.channels.create(spec)
    except ChannelConflict as exc:
        raise InvalidParameter(str(exc)) from exc
    return json_response(channel, status_code=201)


async def update_channel(request: Request) -> Response:
    """Change a channel's name or some of its settings; settings not named keep their value."""
    runtime = admin_runtime(request)
    phone_number_id = request.path_params["phone_number_id"]
    channel = await runtime.database.channels.find(phone_number_id)
    if channel is None:
        raise ObjectNotFound.for_object("patch", phone_number_id)
    body = await read_json_body(request, runtime.config.max_body_bytes)
    update = decode(_channel_update, body or b"{}")
    changes: dict[str, object] = {}
    if update.name is not None:
        changes["name"] = update.name
    if update.settings is not None:
        settings = decode_settings(msgspec.to_builtins(channel.settings), update.settings)
        await verify_webhook(channel.settings.webhook, settings.webhook)
        changes["settings"] = settings
    if changes:
        channel = await runtime.database.channels.update(channel, **changes)
    return json_response(channel)


async def delete_channel(request: Request) -> Response:
    runtime = admin_runtime(request)
    phone_number_id = request.path_params["phone_number_id"]
    if not await runtime.database.channels.delete(phone_number_id):
        raise ObjectNotFound.for_object("delete", phone_number_id)
    return json_response({"success": True})


def limit_param(raw: str | None) -> int:
    if raw is None:
        return 50
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidParameter(
            f'Param limit must be an integer from 1 to {MAX_LIMIT} - got "{raw}".'
        )
    return int(raw)


async def get_messages(request: Request) -> Response:
    runtime = admin_runtime(request)
    query = request.query_params
    to = query.get("to")
    found = await list_messages(
        runtime.database,
        channel=query.get("channel"),
        to="".join(ch for ch in to if ch.isdigit()) if to else None,
        type=query.get("type"),
        wamid=query.get("wamid"),
        limit=limit_param(query.get("limit")),
    )
    return json_response(MessageList(messages=found, count=len(found)))


async def delete_messages(request: Request) -> Response:
    runtime = admin_runtime(request)
    deleted = await clear_messages(runtime.database, request.query_params.get("channel"))
    return json_response(Deleted(deleted=deleted))


async def sweep_media(request: Request) -> Response:
    """Run the retention sweep now instead of waiting for the next one."""
    runtime = admin_runtime(request)
    return json_response(await sweep(runtime.database, runtime.blobs, runtime.clock.now()))


async def expire_media_now(request: Request) -> Response:
    """Make one media ID expire now, as if 30 days had passed."""
    runtime = admin_runtime(request)
    media_id = request.path_params["media_id"]
    if not await expire_media(runtime.database, media_id, runtime.clock.now()):
        raise ObjectNotFound.for_object("post", media_id)
    return json_response({"success": True})
