"""``/openapi.json`` generated from the route table, and a ``/docs`` page with no CDN.

Each :class:`ApiRoute` in ``wabox.app.routes()`` is one operation. The route gives its
method, path and path parameters (typed by their convertors), its :class:`Group` the tag and
the accepted keys, the handler its ``operationId`` and, from its docstring, the summary.
What neither says is in :data:`DOCS`, keyed by handler: the JSON bodies as msgspec Structs
(their docstrings become the component descriptions), the success status, the query
parameters, and the bodies that are not JSON.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal
from weakref import WeakKeyDictionary

import jinja2
import msgspec
from starlette.convertors import Convertor, IntegerConvertor, StringConvertor
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

import wabox
from wabox.api import (
    health,
    media,
    messages,
    sandbox,
    sandbox_conversations,
    sandbox_delivery,
    templates,
    webhook_config,
)
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
    Readiness,
    WebhookDeliveryList,
    WebhookProbeRequest,
    WebhookProbeResult,
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

Endpoint = Callable[[Request], Awaitable[Response]]
Scheme = Literal["bearer", "d360", "admin"]

_SECURITY: dict[Scheme, dict[str, str]] = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "The channel's API key."},
    "d360": {"type": "apiKey", "in": "header", "name": "D360-API-KEY"},
    "admin": {"type": "http", "scheme": "bearer", "description": "The sandbox admin token."},
}


@dataclass(frozen=True, slots=True)
class Group:
    """A block of the route table: its tag in the document, and the keys that may call it.

    Calling a group declares one of its routes: ``cloud(path, handler, "GET")``.
    """

    tag: str
    security: tuple[Scheme, ...] = ()  # any one of them will do; the dialect's own first

    def __call__(
        self, path: str, endpoint: Endpoint, method: str, *, documented: bool = True
    ) -> ApiRoute:
        return ApiRoute(self, path, endpoint, method, include_in_schema=documented)


class ApiRoute(Route):
    """A route of the HTTP API: one method on one path, in a :class:`Group`."""

    def __init__(
        self,
        group: Group,
        path: str,
        endpoint: Endpoint,
        method: str,
        *,
        include_in_schema: bool = True,
    ) -> None:
        super().__init__(path, endpoint, methods=[method], include_in_schema=include_in_schema)
        self.group = group
        self.method = method


@dataclass(frozen=True, slots=True)
class Doc:
    """What an operation's route and handler do not say about it."""

    request: Any = None  # a Struct, or a tuple of Structs (the document offers oneOf)
    response: Any = None  # a Struct
    status: int = 200
    query: tuple[tuple[str, str], ...] = ()  # (name, description)
    summary: str = ""  # only where the handler's docstring gives none
    form: dict[str, Any] | None = None  # the schema of a multipart/form-data body
    answer: dict[str, Any] | None = None  # a response object that is not JSON, as it is


_PATH_PARAMETERS = {
    "version": "Graph API version, e.g. v21.0",
    "phone_number_id": "The channel's phone_number_id",
    "waba_id": "The channel's WhatsApp Business Account id",
    "media_id": "Media ID",
    "name": "The template's name",
    "template_id": "The template's id",
    "wamid": "The message's wamid",
    "scenario_id": "The rule's id",
    "delivery_id": "The delivery's id",
}
_CHANNEL = ("channel", "Only this phone_number_id")
_OWNER = ("phone_number_id", "If given, the media must belong to this number")


def _limit(default: int) -> tuple[str, str]:
    return ("limit", f"1 to 1000 (default {default})")


_UPLOAD = Doc(
    response=UploadedMedia,
    summary="Upload media (multipart/form-data); answers the new media ID.",
    form={
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
    },
)
# msgspec can't union an untagged Struct with the tagged message union: hence the tuple.
_SEND = Doc(
    (AnyMessage, MarkRead),
    SendResponse,
    summary="Send a message, or mark an inbound message read.",
)
_MEDIA_URL = Doc(
    response=MediaUrl,
    summary="A download URL for the media, valid for 5 minutes, with its type, size and sha256.",
)
_DELETE_MEDIA = Doc(
    response=SuccessResponse, summary="Delete the media; the ID stops working everywhere."
)
_CREATE_TEMPLATE = (
    "Create a message template (APPROVED at once: nothing reviews it in the sandbox)."
)

DOCS: dict[Endpoint, Doc] = {
    # 360dialog and Cloud API
    messages.send_message_360dialog: _SEND,
    messages.send_message_cloud: _SEND,
    media.upload_media_360dialog: _UPLOAD,
    media.upload_media_cloud: _UPLOAD,
    media.get_media_url_360dialog: _MEDIA_URL,
    media.get_media_url_cloud: replace(_MEDIA_URL, query=(_OWNER,)),
    media.delete_media_360dialog: _DELETE_MEDIA,
    media.delete_media_cloud: replace(_DELETE_MEDIA, query=(_OWNER,)),
    media.download_media: Doc(
        query=(("mid", "Media ID"), ("ext", "Expiry (unix seconds)"), ("hash", "Signature")),
        answer={
            "description": "The bytes, with the media's Content-Type (206 for a Range)",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        },
    ),
    webhook_config.set_webhook: Doc(
        WebhookConfigBody,
        WebhookConfigAnswer,
        summary="Set the webhook URL and the headers sent with every delivery.",
    ),
    webhook_config.get_webhook: Doc(
        response=WebhookConfigAnswer,
        summary="The webhook URL and headers (url is null when none is set).",
    ),
    templates.create_360dialog: Doc(TemplateCreate, Created, 201, summary=_CREATE_TEMPLATE),
    templates.create_cloud: Doc(TemplateCreate, Created, summary=_CREATE_TEMPLATE),
    templates.list_360dialog: Doc(
        response=WabaTemplateList,
        summary="The channel's templates, by name and language.",  # its docstring: on filters
        query=(
            _limit(50),
            ("offset", "Templates to skip"),
            ("filters", 'JSON, e.g. {"business_templates.name": "x", "status": "x"}'),
            ("sort", "Echoed back; the order is by name, then language"),
        ),
    ),
    templates.list_cloud: Doc(
        response=TemplatePage,
        query=(
            _limit(25),
            ("after", "Cursor from paging.cursors.after"),
            ("name", "Only this name"),
            ("status", "Only this status"),
            ("summary", "Any value: add the summary object"),
        ),
    ),
    templates.delete_360dialog: Doc(
        response=Deleted360, summary="Delete a template in every language."
    ),
    templates.delete_cloud: Doc(
        response=SuccessResponse,
        summary="Delete a template by name (every language), or one with hsm_id.",
        query=(("name", "The template's name"), ("hsm_id", "Only the template with this id")),
    ),
    # Server
    health.health: Doc(response=Health, summary="Liveness check."),
    health.livez: Doc(response=Health),
    health.readyz: Doc(response=Readiness),
    health.metrics: Doc(
        answer={
            "description": "Prometheus text exposition format",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
    ),
    health.noop: Doc(response=SuccessResponse),
    # Sandbox
    sandbox.list_channels: Doc(response=ChannelList, summary="List channels."),
    sandbox.create_channel: Doc(
        ChannelCreate, Channel, 201, summary="Create a channel; omitted fields are generated."
    ),
    sandbox.update_channel: Doc(ChannelUpdate, Channel),
    sandbox.delete_channel: Doc(
        response=SuccessResponse, summary="Delete a channel with its messages and media."
    ),
    sandbox.get_messages: Doc(
        response=MessageList,
        summary="Stored messages, newest first, with their payload, state and events.",
        query=(
            _CHANNEL,
            ("to", "Only messages to this number"),
            ("type", "Only this message type"),
            ("wamid", "Only this message"),
            _limit(50),
        ),
    ),
    sandbox.delete_messages: Doc(
        response=Deleted,
        summary="Delete stored messages (all, or one channel's with ?channel=).",
        query=(_CHANNEL,),
    ),
    sandbox_delivery.mark_read: Doc(response=SuccessResponse),
    templates.admin_list: Doc(
        response=TemplateList,
        summary="Every channel's templates.",
        query=(_CHANNEL, ("name", "Only this name"), _limit(1000)),
    ),
    templates.admin_create: Doc(
        TemplateCreate,
        AdminTemplate,
        201,
        summary="Create a template on a channel (default: the default channel), with any status.",
    ),
    templates.admin_update: Doc(TemplateUpdate, AdminTemplate),
    templates.admin_delete: Doc(response=SuccessResponse, summary="Delete one template."),
    sandbox_conversations.post_inbound: Doc(Inbound, InboundAccepted),
    sandbox_conversations.get_samples: Doc(
        response=SampleList,
        summary="The bundled media files a customer can send (inbound media's `sample`).",
    ),
    sandbox_conversations.get_conversations: Doc(
        response=ConversationList,
        summary="Customers per channel with their profile name and window (open/closed, expiry).",
        query=(_CHANNEL,),
    ),
    sandbox_delivery.get_clock: Doc(
        response=ClockState, summary="The platform's clock: real or virtual, and its time."
    ),
    sandbox_delivery.advance_clock: Doc(ClockAdvance, ClockState),
    sandbox_delivery.list_scenarios: Doc(
        response=ScenarioList,
        summary="Scenario rules per recipient, from the TOML file and the API.",
    ),
    sandbox_delivery.create_scenario: Doc(
        Scenario,
        Scenario,
        201,
        summary="Add a scenario rule (not on WhatsApp, fail, delay, never read, duplicates, "
        "disorder).",
    ),
    sandbox_delivery.delete_scenarios: Doc(response=Deleted),
    sandbox_delivery.delete_one_scenario: Doc(
        response=SuccessResponse, summary="Delete one scenario rule set through the API."
    ),
    sandbox_delivery.get_webhooks: Doc(
        response=WebhookDeliveryList,
        summary="Webhook deliveries, newest first, with payload, attempts and state.",
        query=(
            _CHANNEL,
            ("message_id", "Only this wamid"),
            ("state", "pending, delivered, dead, or probe (receiver security probes)"),
            ("event", "sent, delivered, read or failed"),
            _limit(50),
        ),
    ),
    sandbox_delivery.redeliver_webhook: Doc(
        response=SuccessResponse, summary="Deliver one webhook again, now."
    ),
    sandbox_delivery.probe_webhook: Doc(WebhookProbeRequest, WebhookProbeResult),
    sandbox.sweep_media: Doc(response=SweepResult),
    sandbox.expire_media_now: Doc(response=SuccessResponse),
}


def openapi_document(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """The document of the API routes among ``routes`` (the app's table), in their order."""
    operations = [
        (route, DOCS[route.endpoint])
        for route in routes
        if isinstance(route, ApiRoute) and route.include_in_schema
    ]
    types: list[Any] = [ErrorEnvelope]
    for _, doc in operations:
        for kind in (doc.request, doc.response):
            types.extend(kind if isinstance(kind, tuple) else () if kind is None else (kind,))
    schemas, components = msgspec.json.schema_components(
        types, ref_template="#/components/schemas/{name}"
    )
    by_type = dict(zip(types, schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for route, doc in operations:
        operation: dict[str, Any] = {
            "tags": [route.group.tag],
            "operationId": route.endpoint.__name__,
            "summary": _summary(route.endpoint, doc),
            "responses": {
                str(doc.status): doc.answer or _json("Success", by_type[doc.response]),
                "default": _json("Graph API error envelope", by_type[ErrorEnvelope]),
            },
        }
        if route.group.security:
            operation["security"] = [{scheme: []} for scheme in route.group.security]
        parameters = [
            *(_path_parameter(name, kind) for name, kind in route.param_convertors.items()),
            *(_parameter(name, "query", text, {"type": "string"}) for name, text in doc.query),
        ]
        if parameters:
            operation["parameters"] = parameters
        if doc.form is not None:
            operation["requestBody"] = _body("multipart/form-data", doc.form)
        elif isinstance(doc.request, tuple):
            operation["requestBody"] = _body(
                "application/json", {"oneOf": [by_type[kind] for kind in doc.request]}
            )
        elif doc.request is not None:
            operation["requestBody"] = _body("application/json", by_type[doc.request])
        paths.setdefault(route.path_format, {})[route.method.lower()] = operation
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


def _summary(endpoint: Endpoint, doc: Doc) -> str:
    text = doc.summary or (inspect.getdoc(endpoint) or "").split("\n\n")[0]
    if not text:
        raise LookupError(f"{endpoint.__qualname__} needs a docstring, or a summary in DOCS")
    return " ".join(text.split()).replace("``", "`")  # reST literals to CommonMark


def _path_parameter(name: str, convertor: Convertor[Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if isinstance(convertor, IntegerConvertor):
        schema = {"type": "integer"}
    elif not isinstance(convertor, StringConvertor):
        schema["pattern"] = f"^{convertor.regex}$"
    return _parameter(name, "path", _PATH_PARAMETERS[name], schema)


def _parameter(name: str, where: str, text: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": text,
        "schema": schema,
    }


def _body(media_type: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {media_type: {"schema": schema}}}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_env = jinja2.Environment(
    loader=jinja2.PackageLoader("wabox", "ui/templates"), autoescape=True, trim_blocks=True
)
_documents: WeakKeyDictionary[Any, dict[str, Any]] = WeakKeyDictionary()


def _served(request: Request) -> dict[str, Any]:
    """The serving app's document, built on first use: its route table never changes."""
    document = _documents.get(request.app)
    if document is None:
        document = _documents[request.app] = openapi_document(request.app.routes)
    return document


async def get_openapi(request: Request) -> Response:
    return Response(msgspec.json.encode(_served(request)), media_type="application/json")


async def get_docs(request: Request) -> Response:
    document = _served(request)
    html = _env.get_template("docs.html").render(
        doc=document,
        schemas_json={
            name: msgspec.json.format(msgspec.json.encode(schema), indent=2).decode()
            for name, schema in document["components"]["schemas"].items()
        },
    )
    return HTMLResponse(html)
