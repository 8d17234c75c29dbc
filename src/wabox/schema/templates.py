"""Message templates as Meta's management API shows them, and 360dialog's list around them.

Meta answers with upper-case ``category`` and ``status`` and takes either case in;
360dialog's ``GET /v1/configs/templates`` lists lower-case ``status`` and upper-case
``category`` (observed in client fixtures). Components are kept as given, with the
component ``type`` and header ``format`` upper-cased as Meta stores them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

TemplateName = Annotated[str, Meta(pattern=r"^[a-z0-9_]{1,512}$")]
LanguageCode = Annotated[str, Meta(pattern=r"^[a-z]{2,3}(_[A-Za-z0-9]{2,8})?$")]
Category = Literal["MARKETING", "UTILITY", "AUTHENTICATION"]
Status = Literal["APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"]
CATEGORIES: tuple[str, ...] = ("MARKETING", "UTILITY", "AUTHENTICATION")
STATUSES: tuple[str, ...] = ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED")


class Button(msgspec.Struct, kw_only=True, omit_defaults=True):
    type: Annotated[str, Meta(min_length=1, max_length=32)]
    text: Annotated[str, Meta(max_length=25)] | None = None
    url: Annotated[str, Meta(max_length=2000)] | None = None
    phone_number: Annotated[str, Meta(max_length=20)] | None = None
    example: Any = None
    otp_type: str | None = None
    flow_id: str | None = None
    flow_action: str | None = None
    navigate_screen: str | None = None


class Component(msgspec.Struct, kw_only=True, omit_defaults=True):
    """HEADER (``format`` TEXT/IMAGE/VIDEO/DOCUMENT/LOCATION), BODY, FOOTER or BUTTONS."""

    type: Annotated[str, Meta(min_length=1, max_length=32)]
    format: str | None = None
    text: Annotated[str, Meta(max_length=1024)] | None = None
    example: Any = None
    buttons: list[Button] | None = None
    add_security_recommendation: bool | None = None
    code_expiration_minutes: int | None = None


class TemplateCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Meta's and 360dialog's create body; ``status`` is the sandbox's own (APPROVED at
    once by default, as nothing reviews it here), and ``channel`` names the channel in the
    admin API."""

    name: TemplateName
    language: LanguageCode
    category: str
    components: Annotated[list[Component], Meta(min_length=1)]
    parameter_format: str | None = None
    allow_category_change: bool | None = None
    status: str | None = None
    channel: Annotated[str, Meta(pattern=r"^[0-9]{5,20}$")] | None = None


class TemplateUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``PATCH /sandbox/templates/{id}``: what Meta's review or quality rating would do."""

    status: str | None = None
    category: str | None = None
    rejected_reason: Annotated[str, Meta(max_length=64)] | None = None


class Template(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One template in Meta's shape (``GET /{waba-id}/message_templates``)."""

    id: str
    name: str
    language: str
    status: str
    category: str
    parameter_format: str
    components: list[Component]
    rejected_reason: str | None = None


class Created(msgspec.Struct):
    """Meta's answer to a create: pywa's ``CreatedTemplate`` reads these three."""

    id: str
    status: str
    category: str


class Cursors(msgspec.Struct):
    before: str
    after: str


class Paging(msgspec.Struct):
    cursors: Cursors


class Summary(msgspec.Struct):
    total_count: int
    message_template_count: int
    message_template_limit: int
    are_translations_complete: bool


class TemplatePage(msgspec.Struct, kw_only=True, omit_defaults=True):
    data: list[Template]
    paging: Paging | None = None
    summary: Summary | None = None


class WabaTemplate(msgspec.Struct, kw_only=True):
    """One template in 360dialog's list."""

    id: str
    name: str
    language: str
    category: str
    status: str
    components: list[Component]
    namespace: str
    rejected_reason: str
    external_id: str


class WabaTemplateList(msgspec.Struct, kw_only=True):
    count: int
    filters: dict[str, Any]
    limit: int
    offset: int
    sort: list[str]
    total: int
    waba_templates: list[WabaTemplate]


class DeleteMeta(msgspec.Struct):
    developer_message: str
    http_code: int
    success: bool


class Deleted360(msgspec.Struct):
    meta: DeleteMeta


class AdminTemplate(Template, kw_only=True):
    channel: str
    created_at: float
    updated_at: float


class TemplateList(msgspec.Struct):
    """The admin API's list: every template, with its channel."""

    templates: list[AdminTemplate]
