"""``/openapi.json`` generated from the msgspec schemas, and a ``/docs`` page with no CDN."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import jinja2
import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

import wabox
from wabox.schema.errors import ErrorEnvelope
from wabox.schema.inbound import ConversationList, Inbound, InboundAccepted, SampleList
from wabox.schema.media import MediaUrl, SweepResult, UploadedMedia
from wabox.schema.messages import AnyMessage, MarkRead, SendResponse, SuccessResponse
from wabox.schema.sandbox import (
    Channel,
    ChannelCreate,
    ChannelList,
    ChannelUpdate,
    ClockAdvance,
    ClockState,
    Deleted,
    Health,
    MessageList,
    WebhookDeliveryList,
)
from wabox.schema.scenarios import Scenario, ScenarioList
from wabox.schema.templates import (
    AdminTemplate,
    Created,
    Deleted360,
    TemplateCreate,
    TemplateList,
    TemplatePage,
    TemplateUpdate,
    WabaTemplateList,
)
from wabox.schema.webhooks import WebhookConfigAnswer, WebhookConfigBody


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    tag: str
    summary: str
    auth: str | None
    request: Any = None
    response: Any = None
    status: int = 200
    parameters: tuple[tuple[str, str, str], ...] = ()  # (name, in, description)
    form: bool = False  # a multipart/form-data upload
    binary: bool = False  # answers with the media's own bytes
    text: str | None = None  # answers with text of this media type (description)


_CLOUD_PATH = (
    ("version", "path", "Graph API version, e.g. v21.0"),
    ("phone_number_id", "path", "The channel's phone_number_id"),
)
_WABA_PATH = (
    ("version", "path", "Graph API version, e.g. v21.0"),
    ("waba_id", "path", "The channel's WhatsApp Business Account id"),
)
_MEDIA_ID = ("media_id", "path", "Media ID (digits)")
_MEDIA_PATH_CLOUD = (
    ("version", "path", "Graph API version, e.g. v21.0"),
    _MEDIA_ID,
    ("phone_number_id", "query", "If given, the media must belong to this number"),
)
_UPLOAD_FORM = {
    "type": "object",
    "required": ["messaging_product", "file"],
    "properties": {
        "messaging_product": {"type": "string", "enum": ["whatsapp"]},
        "file": {
            "type": "string",
            "format": "binary",
            "description": "The part's Content-Type is the declared MIME type.",
        },
        "type": {"type": "string", "description": "The MIME type again (optional)."},
    },
}

# A message or a mark-as-read: msgspec can't union an untagged Struct with the tagged
# message union, so the document offers them as oneOf.
_SEND_BODY = (AnyMessage, MarkRead)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "post",
        "/{version}/{phone_number_id}/messages",
        "Cloud API",
        "Send a message, or mark an inbound message read (any v<major>.<minor> version).",
        "bearer",
        _SEND_BODY,
        SendResponse,
        parameters=_CLOUD_PATH,
    ),
    Operation(
        "post",
        "/messages",
        "360dialog",
        "Send a message, or mark an inbound message read.",
        "d360",
        _SEND_BODY,
        SendResponse,
    ),
    Operation(
        "post",
        "/{version}/{phone_number_id}/media",
        "Cloud API",
        "Upload media (multipart/form-data); answers the new media ID.",
        "bearer",
        response=UploadedMedia,
        parameters=_CLOUD_PATH,
        form=True,
    ),
    Operation(
        "get",
        "/{version}/{media_id}",
        "Cloud API",
        "A download URL for the media, valid for 5 minutes, with its type, size and sha256.",
        "bearer",
        response=MediaUrl,
        parameters=_MEDIA_PATH_CLOUD,
    ),
    Operation(
        "delete",
        "/{version}/{media_id}",
        "Cloud API",
        "Delete the media; the ID stops working everywhere.",
        "bearer",
        response=SuccessResponse,
        parameters=_MEDIA_PATH_CLOUD,
    ),
    Operation(
        "post",
        "/media",
        "360dialog",
        "Upload media (multipart/form-data); answers the new media ID.",
        "d360",
        response=UploadedMedia,
        form=True,
    ),
    Operation(
        "get",
        "/{media_id}",
        "360dialog",
        "A download URL for the media, valid for 5 minutes, with its type, size and sha256.",
        "d360",
        response=MediaUrl,
        parameters=(_MEDIA_ID,),
    ),
    Operation(
        "delete",
        "/{media_id}",
        "360dialog",
        "Delete the media; the ID stops working everywhere.",
        "d360",
        response=SuccessResponse,
        parameters=(_MEDIA_ID,),
    ),
    Operation(
        "get",
        "/whatsapp_business/attachments/",
        "Both",
        "The media's bytes behind a URL from GET /{media_id}; any host works, path and query "
        "matter. Needs the owning channel's key; supports one Range.",
        "bearer",
        parameters=(
            ("mid", "query", "Media ID"),
            ("ext", "query", "Expiry (unix seconds)"),
            ("hash", "query", "Signature"),
        ),
        binary=True,
    ),
    Operation("get", "/health", "Server", "Liveness check.", None, None, Health),
    Operation(
        "post",
        "/sandbox/noop",
        "Server",
        "Reads a JSON body and answers at once: the baseline the benchmark compares against.",
        None,
        None,
        SuccessResponse,
    ),
    Operation(
        "get",
        "/metrics",
        "Server",
        "Prometheus counters: link cache hits, misses, revalidations, failures by reason.",
        None,
        text="Prometheus text exposition format",
    ),
    Operation("get", "/sandbox/channels", "Sandbox", "List channels.", "admin", None, ChannelList),
    Operation(
        "post",
        "/sandbox/channels",
        "Sandbox",
        "Create a channel; omitted fields are generated.",
        "admin",
        ChannelCreate,
        Channel,
        201,
    ),
    Operation(
        "patch",
        "/sandbox/channels/{phone_number_id}",
        "Sandbox",
        "Rename a channel or change some of its settings (e.g. link_cache); others keep theirs.",
        "admin",
        ChannelUpdate,
        Channel,
        parameters=(("phone_number_id", "path", "The channel to change"),),
    ),
    Operation(
        "delete",
        "/sandbox/channels/{phone_number_id}",
        "Sandbox",
        "Delete a channel with its messages and media.",
        "admin",
        None,
        SuccessResponse,
        parameters=(("phone_number_id", "path", "The channel to delete"),),
    ),
    Operation(
        "get",
        "/sandbox/messages",
        "Sandbox",
        "Stored messages, newest first, with their payload, state and events.",
        "admin",
        None,
        MessageList,
        parameters=(
            ("channel", "query", "Only this phone_number_id"),
            ("to", "query", "Only messages to this number"),
            ("type", "query", "Only this message type"),
            ("limit", "query", "At most this many (1–1000, default 50)"),
        ),
    ),
    Operation(
        "post",
        "/sandbox/media/sweep",
        "Sandbox",
        "Remove expired and deleted media, and bytes no live media uses, now.",
        "admin",
        None,
        SweepResult,
    ),
    Operation(
        "post",
        "/sandbox/media/{media_id}/expire",
        "Sandbox",
        "Make one media ID expire now, as if its 30 days had passed.",
        "admin",
        None,
        SuccessResponse,
        parameters=(_MEDIA_ID,),
    ),
    Operation(
        "post",
        "/v1/configs/webhook",
        "360dialog",
        "Set the webhook URL and the headers sent with every delivery.",
        "d360",
        WebhookConfigBody,
        WebhookConfigAnswer,
    ),
    Operation(
        "get",
        "/v1/configs/webhook",
        "360dialog",
        "The webhook URL and headers (url is null when none is set).",
        "d360",
        None,
        WebhookConfigAnswer,
    ),
    Operation(
        "post",
        "/sandbox/messages/{wamid}/read",
        "Sandbox",
        "The customer reads a sent or delivered message now (for read_after: null).",
        "admin",
        None,
        SuccessResponse,
        parameters=(("wamid", "path", "The message"),),
    ),
    Operation(
        "post",
        "/sandbox/inbound",
        "Sandbox",
        "A customer sends the channel a message (text, location, reaction; a reply with "
        "context): stored, its 24-hour window opened, the messages webhook sent.",
        "admin",
        Inbound,
        InboundAccepted,
    ),
    Operation(
        "get",
        "/sandbox/conversations",
        "Sandbox",
        "Customers per channel with their profile name and window (open/closed, expiry).",
        "admin",
        None,
        ConversationList,
        parameters=(("channel", "query", "Only this phone_number_id"),),
    ),
    Operation(
        "get",
        "/sandbox/clock",
        "Sandbox",
        "The platform's clock: real or virtual, and its time.",
        "admin",
        None,
        ClockState,
    ),
    Operation(
        "post",
        "/sandbox/clock/advance",
        "Sandbox",
        "Move the virtual clock forward (WABOX_CLOCK=virtual); due steps and retries run.",
        "admin",
        ClockAdvance,
        ClockState,
    ),
    Operation(
        "get",
        "/sandbox/scenarios",
        "Sandbox",
        "Scenario rules per recipient, from the TOML file and the API.",
        "admin",
        None,
        ScenarioList,
    ),
    Operation(
        "post",
        "/sandbox/scenarios",
        "Sandbox",
        "Add a scenario rule (not on WhatsApp, fail, delay, never read, duplicates, disorder).",
        "admin",
        Scenario,
        Scenario,
        201,
    ),
    Operation(
        "delete",
        "/sandbox/scenarios",
        "Sandbox",
        "Delete every scenario rule set through the API.",
        "admin",
        None,
        Deleted,
    ),
    Operation(
        "delete",
        "/sandbox/scenarios/{scenario_id}",
        "Sandbox",
        "Delete one scenario rule set through the API.",
        "admin",
        None,
        SuccessResponse,
        parameters=(("scenario_id", "path", "The rule's id"),),
    ),
    Operation(
        "get",
        "/sandbox/webhooks",
        "Sandbox",
        "Webhook deliveries, newest first, with payload, attempts and state.",
        "admin",
        None,
        WebhookDeliveryList,
        parameters=(
            ("channel", "query", "Only this phone_number_id"),
            ("message_id", "query", "Only this wamid"),
            ("state", "query", "pending, delivered or dead"),
            ("event", "query", "sent, delivered, read or failed"),
            ("limit", "query", "1 to 1000 (default 50)"),
        ),
    ),
    Operation(
        "post",
        "/sandbox/webhooks/{delivery_id}/redeliver",
        "Sandbox",
        "Deliver one webhook again, now.",
        "admin",
        None,
        SuccessResponse,
        parameters=(("delivery_id", "path", "The delivery's id"),),
    ),
    Operation(
        "delete",
        "/sandbox/messages",
        "Sandbox",
        "Delete stored messages (all, or one channel's with ?channel=).",
        "admin",
        None,
        Deleted,
        parameters=(("channel", "query", "Only this phone_number_id"),),
    ),
    Operation(
        "post",
        "/v1/configs/templates",
        "360dialog",
        "Create a message template (APPROVED at once: nothing reviews it in the sandbox).",
        "d360",
        TemplateCreate,
        Created,
        201,
    ),
    Operation(
        "get",
        "/v1/configs/templates",
        "360dialog",
        "The channel's templates, by name and language.",
        "d360",
        None,
        WabaTemplateList,
        parameters=(
            ("limit", "query", "1 to 1000 (default 50)"),
            ("offset", "query", "Templates to skip"),
            ("filters", "query", 'JSON, e.g. {"business_templates.name": "x", "status": "x"}'),
            ("sort", "query", "Echoed back; the order is by name, then language"),
        ),
    ),
    Operation(
        "delete",
        "/v1/configs/templates/{name}",
        "360dialog",
        "Delete a template in every language.",
        "d360",
        None,
        Deleted360,
        parameters=(("name", "path", "The template's name"),),
    ),
    Operation(
        "post",
        "/{version}/{waba_id}/message_templates",
        "Cloud API",
        "Create a message template (APPROVED at once: nothing reviews it in the sandbox).",
        "bearer",
        TemplateCreate,
        Created,
        parameters=_WABA_PATH,
    ),
    Operation(
        "get",
        "/{version}/{waba_id}/message_templates",
        "Cloud API",
        "The channel's templates, with cursor paging and an optional summary.",
        "bearer",
        None,
        TemplatePage,
        parameters=(
            *_WABA_PATH,
            ("limit", "query", "1 to 1000 (default 25)"),
            ("after", "query", "Cursor from paging.cursors.after"),
            ("name", "query", "Only this name"),
            ("status", "query", "Only this status"),
            ("summary", "query", "Any value: add the summary object"),
        ),
    ),
    Operation(
        "delete",
        "/{version}/{waba_id}/message_templates",
        "Cloud API",
        "Delete a template by name (every language), or one with hsm_id.",
        "bearer",
        None,
        SuccessResponse,
        parameters=(
            *_WABA_PATH,
            ("name", "query", "The template's name"),
            ("hsm_id", "query", "Only the template with this id"),
        ),
    ),
    Operation(
        "get",
        "/sandbox/samples",
        "Sandbox",
        "The bundled media files a customer can send (inbound media's ``sample``).",
        "admin",
        None,
        SampleList,
    ),
    Operation(
        "get",
        "/sandbox/templates",
        "Sandbox",
        "Every channel's templates.",
        "admin",
        None,
        TemplateList,
        parameters=(
            ("channel", "query", "Only this phone_number_id"),
            ("name", "query", "Only this name"),
            ("limit", "query", "1 to 1000 (default 1000)"),
        ),
    ),
    Operation(
        "post",
        "/sandbox/templates",
        "Sandbox",
        "Create a template on a channel (default: the default channel), with any status.",
        "admin",
        TemplateCreate,
        AdminTemplate,
        201,
    ),
    Operation(
        "patch",
        "/sandbox/templates/{template_id}",
        "Sandbox",
        "Set a template's status (PAUSED, DISABLED, REJECTED, ...), category or reason.",
        "admin",
        TemplateUpdate,
        AdminTemplate,
        parameters=(("template_id", "path", "The template's id"),),
    ),
    Operation(
        "delete",
        "/sandbox/templates/{template_id}",
        "Sandbox",
        "Delete one template.",
        "admin",
        None,
        SuccessResponse,
        parameters=(("template_id", "path", "The template's id"),),
    ),
)

_SECURITY = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "The channel's API key."},
    "d360": {"type": "apiKey", "in": "header", "name": "D360-API-KEY"},
    "admin": {"type": "http", "scheme": "bearer", "description": "The sandbox admin token."},
}


@cache
def openapi_document() -> dict[str, Any]:
    types: list[Any] = [ErrorEnvelope]
    for op in OPERATIONS:
        for kind in (op.request, op.response):
            types.extend(kind if isinstance(kind, tuple) else (kind,) if kind is not None else ())
    schemas, components = msgspec.json.schema_components(
        types, ref_template="#/components/schemas/{name}"
    )
    by_type = dict(zip(types, schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        operation: dict[str, Any] = {
            "tags": [op.tag],
            "summary": op.summary,
            "responses": {
                str(op.status): _binary()
                if op.binary
                else _text(op.text)
                if op.text
                else _content(by_type[op.response], "Success"),
                "default": _content(by_type[ErrorEnvelope], "Graph API error envelope"),
            },
        }
        if op.auth:
            operation["security"] = [{op.auth: []}]
            if op.auth == "bearer":
                operation["security"].append({"d360": []})
            if op.auth == "d360":
                operation["security"].append({"bearer": []})
        if op.form:
            operation["requestBody"] = {
                "required": True,
                "content": {"multipart/form-data": {"schema": _UPLOAD_FORM}},
            }
        if op.request is not None:
            schema = (
                {"oneOf": [by_type[kind] for kind in op.request]}
                if isinstance(op.request, tuple)
                else by_type[op.request]
            )
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": schema}},
            }
        if op.parameters:
            operation["parameters"] = [
                {
                    "name": name,
                    "in": where,
                    "required": where == "path",
                    "description": text,
                    "schema": {"type": "string"},
                }
                for name, where, text in op.parameters
            ]
        paths.setdefault(op.path, {})[op.method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "wabox",
            "version": wabox.__version__,
            "description": "WhatsApp Business messaging sandbox: 360dialog WABA v2 and Meta "
            "Cloud API dialects on one port.",
        },
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": _SECURITY},
    }


def _binary() -> dict[str, Any]:
    return {
        "description": "The bytes, with the media's Content-Type (206 for a Range)",
        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
    }


def _text(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}


def _content(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_env = jinja2.Environment(
    loader=jinja2.PackageLoader("wabox", "ui/templates"), autoescape=True, trim_blocks=True
)


async def get_openapi(_request: Request) -> Response:
    return Response(msgspec.json.encode(openapi_document()), media_type="application/json")


async def get_docs(_request: Request) -> Response:
    document = openapi_document()
    html = _env.get_template("docs.html").render(
        doc=document,
        schemas_json={
            name: msgspec.json.format(msgspec.json.encode(schema), indent=2).decode()
            for name, schema in document["components"]["schemas"].items()
        },
    )
    return HTMLResponse(html)
