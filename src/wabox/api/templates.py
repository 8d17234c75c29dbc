"""Template management in both dialects and in the admin API.

360dialog: ``POST``/``GET /v1/configs/templates``, ``DELETE /v1/configs/templates/{name}``.
Meta: ``POST``/``GET``/``DELETE /{version}/{waba_id}/message_templates``. Admin:
``/sandbox/templates``, where a template's status can also be set (Meta's review and
quality rating, which nothing here performs: a new template is APPROVED unless told).
"""

from __future__ import annotations

import base64
import json
import secrets

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from wabox.api.auth import authenticate
from wabox.api.http import decode, json_response, read_graph_body, read_json_body
from wabox.api.messages import check_version
from wabox.api.sandbox import admin_runtime, limit_param
from wabox.delivery.templates import (
    check_category,
    check_status,
    normalise_components,
)
from wabox.errors import InvalidParameter, ObjectNotFound
from wabox.runtime import Runtime
from wabox.schema.sandbox import Channel
from wabox.schema.templates import (
    AdminTemplate,
    Created,
    Cursors,
    Deleted360,
    DeleteMeta,
    Paging,
    Summary,
    Template,
    TemplateCreate,
    TemplateList,
    TemplatePage,
    TemplateUpdate,
    WabaTemplate,
    WabaTemplateList,
)
from wabox.store.templates import (
    add_template,
    delete_templates,
    get_template,
    list_templates,
    update_template,
)

_create = msgspec.json.Decoder(TemplateCreate)
_update = msgspec.json.Decoder(TemplateUpdate)
TEMPLATE_LIMIT = 250  # Meta's message_template_limit for a new WABA


def _new_id() -> str:
    return str(10**15 + secrets.randbelow(9 * 10**15))


async def _create_template(
    runtime: Runtime, channel: Channel, spec: TemplateCreate, *, admin: bool
) -> AdminTemplate:
    if not admin and (spec.status is not None or spec.channel is not None):
        field = "status" if spec.status is not None else "channel"
        raise InvalidParameter(
            f'Unexpected key "{field}" (a sandbox field: use /sandbox/templates).'
        )
    parameter_format = (spec.parameter_format or "POSITIONAL").upper()
    if parameter_format not in ("POSITIONAL", "NAMED"):
        raise InvalidParameter(
            f'Param parameter_format must be POSITIONAL or NAMED - got "{spec.parameter_format}".'
        )
    now = runtime.clock.now()
    template = AdminTemplate(
        id=_new_id(),
        channel=channel.phone_number_id,
        name=spec.name,
        language=spec.language,
        status=check_status(spec.status),
        category=check_category(spec.category),
        parameter_format=parameter_format,
        components=normalise_components(spec.components, parameter_format),
        created_at=now,
        updated_at=now,
    )
    if not await add_template(runtime.database, template):
        raise InvalidParameter(
            f'Message template "{spec.name}" already exists in {spec.language} '
            "(content in this language already exists)."
        )
    return template


def _meta(template: AdminTemplate) -> Template:
    return Template(
        id=template.id,
        name=template.name,
        language=template.language,
        status=template.status,
        category=template.category,
        parameter_format=template.parameter_format,
        components=template.components,
        rejected_reason=template.rejected_reason,
    )


# --- 360dialog -------------------------------------------------------------------------------


async def create_360dialog(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    channel = await authenticate(request, runtime, "360dialog")
    spec = decode(_create, await read_json_body(request, runtime.config.max_body_bytes))
    template = await _create_template(runtime, channel, spec, admin=False)
    return json_response(Created(template.id, template.status, template.category), 201)


async def list_360dialog(request: Request) -> Response:
    """``filters`` is a JSON object (``{"business_templates.name": …, "status": …}``)."""
    runtime: Runtime = request.state.runtime
    channel = await authenticate(request, runtime, "360dialog")
    query = request.query_params
    filters = _filters(query.get("filters"))
    limit = limit_param(query.get("limit"))
    offset = _offset(query.get("offset"))
    status = filters.get("status")
    found, total = await list_templates(
        runtime.database,
        channel_id=channel.phone_number_id,
        name=filters.get("business_templates.name") or filters.get("name"),
        status=status.upper() if status else None,
        limit=limit,
        offset=offset,
    )
    listed = [
        WabaTemplate(
            id=template.id,
            name=template.name,
            language=template.language,
            category=template.category,
            status=template.status.lower(),
            components=template.components,
            namespace=f"wabox_{channel.waba_id}",
            rejected_reason=template.rejected_reason or "NONE",
            external_id=template.id,
        )
        for template in found
    ]
    return json_response(
        WabaTemplateList(
            count=len(listed),
            filters=filters,
            limit=limit,
            offset=offset,
            sort=[query.get("sort") or "business_templates.name"],
            total=total,
            waba_templates=listed,
        )
    )


async def delete_360dialog(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    channel = await authenticate(request, runtime, "360dialog")
    name = request.path_params["name"]
    if not await delete_templates(runtime.database, channel.phone_number_id, name):
        raise InvalidParameter(f'Message template "{name}" not found.')
    message = f"template name={name} was deleted"
    return json_response(Deleted360(DeleteMeta(message, 200, True)))


def _filters(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    try:
        found = json.loads(raw)
    except ValueError:
        found = None
    if not isinstance(found, dict) or not all(isinstance(v, str) for v in found.values()):
        raise InvalidParameter(f'Param filters must be a JSON object of strings - got "{raw}".')
    return found


def _offset(raw: str | None) -> int:
    if raw is None:
        return 0
    if not raw.isdigit():
        raise InvalidParameter(f'Param offset must be a non-negative integer - got "{raw}".')
    return int(raw)


# --- Meta Cloud API --------------------------------------------------------------------------


async def _waba_channel(request: Request, runtime: Runtime) -> Channel:
    check_version(request.path_params.get("version"))
    channel = await authenticate(request, runtime, "cloud")
    waba_id = request.path_params["waba_id"]
    if channel.waba_id != waba_id:
        raise ObjectNotFound.for_object(request.method, waba_id)
    return channel


async def create_cloud(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    channel = await _waba_channel(request, runtime)
    spec = decode(_create, await read_graph_body(request, runtime.config.max_body_bytes))
    template = await _create_template(runtime, channel, spec, admin=False)
    return json_response(Created(template.id, template.status, template.category))


async def list_cloud(request: Request) -> Response:
    """Cursor paging as Meta does it; ``summary`` when asked for (pywa asks and reads it)."""
    runtime: Runtime = request.state.runtime
    channel = await _waba_channel(request, runtime)
    query = request.query_params
    limit = limit_param(query.get("limit") or "25")
    offset = _cursor(query.get("after"))
    status = query.get("status")
    found, total = await list_templates(
        runtime.database,
        channel_id=channel.phone_number_id,
        name=query.get("name"),
        status=status.upper() if status else None,
        limit=limit,
        offset=offset,
    )
    page = TemplatePage(data=[_meta(template) for template in found])
    if found:
        page.paging = Paging(Cursors(_encode_cursor(offset), _encode_cursor(offset + len(found))))
    if query.get("summary") is not None:
        page.summary = Summary(
            total_count=total,
            message_template_count=total,
            message_template_limit=TEMPLATE_LIMIT,
            are_translations_complete=True,
        )
    return json_response(page)


async def delete_cloud(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    channel = await _waba_channel(request, runtime)
    name = request.query_params.get("name")
    if not name:
        raise InvalidParameter("The parameter name is required.")
    deleted = await delete_templates(
        runtime.database, channel.phone_number_id, name, request.query_params.get("hsm_id")
    )
    if not deleted:
        raise InvalidParameter(f'Message template "{name}" not found.')
    return json_response({"success": True})


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode()


def _cursor(raw: str | None) -> int:
    if raw is None:
        return 0
    try:
        return int(base64.urlsafe_b64decode(raw.encode()).decode())
    except ValueError:
        raise InvalidParameter(f'Param after is not a valid cursor - got "{raw}".') from None


# --- admin -----------------------------------------------------------------------------------


async def admin_list(request: Request) -> Response:
    runtime = admin_runtime(request)
    query = request.query_params
    found, _ = await list_templates(
        runtime.database,
        channel_id=query.get("channel"),
        name=query.get("name"),
        limit=limit_param(query.get("limit") or "1000"),
    )
    return json_response(TemplateList(templates=found))


async def admin_create(request: Request) -> Response:
    runtime = admin_runtime(request)
    spec = decode(_create, await read_json_body(request, runtime.config.max_body_bytes))
    channel_id = spec.channel or runtime.default_channel_id
    channel = await runtime.database.channels.find(channel_id)
    if channel is None:
        raise ObjectNotFound.for_object("post", channel_id)
    return json_response(await _create_template(runtime, channel, spec, admin=True), 201)


async def admin_update(request: Request) -> Response:
    """Set a template's status (PAUSED, DISABLED, REJECTED …), category or rejected reason."""
    runtime = admin_runtime(request)
    template_id = request.path_params["template_id"]
    update = decode(_update, await read_json_body(request, runtime.config.max_body_bytes))
    values: dict[str, object] = {"updated_at": runtime.clock.now()}
    if update.status is not None:
        values["status"] = check_status(update.status)
    if update.category is not None:
        values["category"] = check_category(update.category)
    if update.rejected_reason is not None:
        values["rejected_reason"] = update.rejected_reason
    template = await update_template(runtime.database, template_id, values)
    if template is None:
        raise ObjectNotFound.for_object("patch", template_id)
    return json_response(template)


async def admin_delete(request: Request) -> Response:
    runtime = admin_runtime(request)
    template_id = request.path_params["template_id"]
    template = await get_template(runtime.database, template_id)
    if template is None or not await delete_templates(
        runtime.database, template.channel, template.name, template_id
    ):
        raise ObjectNotFound.for_object("delete", template_id)
    return json_response({"success": True})
