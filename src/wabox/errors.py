"""The Graph API error catalogue and its envelope (wire-facts §4).

Every rejection wabox sends, synchronously or later inside a webhook's ``errors[]``, is one
of these classes. The catalogue imports nothing from Starlette, so the delivery and webhook
workers raise and serialise the same errors the HTTP layer does. ``graph_error_for``
translates msgspec's validation messages into Graph's wording, wherever a request or a
setting is decoded.

| class | code | HTTP | title |
|---|---|---|---|
| AuthError | 0 | 401 | AuthException |
| UnknownError | 1 | 400 | API Unknown |
| TooManyCalls | 4 | 400 | API Too Many Calls |
| InvalidParameter | 100 | 400 | Invalid parameter |
| BodyTooLarge | 100 | 413 | Request body too large |
| UnsupportedMediaType | 100 | 415 | Unsupported content type |
| UploadTooLarge | 100 | 400 | File too large |
| AttachmentNotFound | 100 | 404 | Not Found |
| RangeNotSatisfiable | 100 | 416 | Requested range not satisfiable |
| ObjectNotFound | 100 (subcode 33) | 400 | Unsupported request (object missing or not yours) |
| TokenInvalid | 190 | 401 | Access token has expired |
| CallbackVerificationFailed | 2200 | 400 | Callback verification failed |
| ThroughputLimit | 130429 | 400 | Rate limit hit |
| SomethingWentWrong | 131000 | 500 | Something went wrong |
| MissingParameter | 131008 | 400 | Required parameter is missing |
| InvalidParameterValue | 131009 | 400 | Parameter value is not valid |
| RecipientIsSender | 131021 | 400 | Recipient cannot be sender |
| Undeliverable | 131026 | 400 | Message Undeliverable |
| ReEngagement | 131047 | 400 | Re-engagement message |
| UnsupportedMessageType | 131051 | 400 | Unsupported message type |
| MediaDownloadError | 131052 | 400 | Media download error |
| MediaUploadError | 131053 | 400 | Media upload error |
| PairRateLimit | 131056 | 400 | (Business Account, Consumer Account) pair rate limit hit |
| BsuidNotSupported | 131062 | 400 | Business-scoped User ID (BSUID) recipients are not … |
| TemplateParamMismatch | 132000 | 400 | Number of parameters does not match the expected … |
| TemplateNotFound | 132001 | 404 | Template name does not exist in the translation |
| TemplateParamFormatMismatch | 132012 | 400 | Parameter format does not match format in … |
| TemplatePaused | 132015 | 400 | Template is Paused |
| TemplateDisabled | 132016 | 400 | Template is Disabled |
| ScriptedFailure | 131000, or a scenario rule's code | 400 | Message failed, or the rule's title |
"""

from __future__ import annotations

import re
import secrets
from typing import ClassVar

import msgspec

from wabox.schema.errors import ErrorBody, ErrorData, ErrorEnvelope, WebhookError
from wabox.schema.messages import MESSAGE_TYPES

ERROR_CODES_HREF = "/documentation/business-messaging/whatsapp/support/error-codes"  # §4.2


def new_fbtrace_id() -> str:
    """A trace id shaped like Meta's (23 URL-safe characters)."""
    return secrets.token_urlsafe(18)[:23]


class GraphError(Exception):
    """One Graph API error: a code from the catalogue plus this occurrence's details.

    The same object goes from where a failure happens (a handler, a media check, the
    window, a scenario rule) to the webhook's ``errors[]`` (``webhook_error``). ``code``,
    ``http_status`` and ``title`` are the class's; only a ``ScriptedFailure`` sets its own.
    """

    code: int
    http_status: int
    title: str
    type: ClassVar[str] = "OAuthException"
    subcode: ClassVar[int | None] = None
    # Graph's parameter errors (code 100) put the specific text in `message`; WhatsApp's own
    # codes say "(#code) Title" there and keep the specifics in error_data.details (§4.1).
    details_in_message: ClassVar[bool] = False

    def __init__(self, details: str = "") -> None:
        self.details = details or self.title
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = self.details if self.details_in_message else self.title
        return f"(#{self.code}) {text}"

    def envelope(self, fbtrace_id: str | None = None) -> ErrorEnvelope:
        """The synchronous body: ``{"error": {...}}``."""
        return ErrorEnvelope(
            error=ErrorBody(
                message=self.message,
                type=self.type,
                code=self.code,
                error_data=ErrorData(messaging_product="whatsapp", details=self.details),
                error_subcode=self.subcode if self.subcode is not None else msgspec.UNSET,
                fbtrace_id=fbtrace_id or new_fbtrace_id(),
            )
        )

    @staticmethod
    def of(code: int, details: str, title: str | None = None) -> GraphError:
        """The failure a scenario rule names: the catalogue's class for a WhatsApp code
        wabox emits itself, else a ``ScriptedFailure`` carrying the code and title given."""
        known = _WHATSAPP_CODES.get(code)
        if known is not None and title in (None, known.title):
            return known(details)
        return ScriptedFailure(code, title or "Message failed", details)

    def webhook_error(self) -> WebhookError:
        """The object carried in a webhook's ``errors[]`` (§4.2)."""
        return WebhookError(
            code=self.code,
            title=self.title,
            message=self.title,
            error_data={"details": self.details},
            href=ERROR_CODES_HREF,
        )


class AuthError(GraphError):
    """360dialog's own key check: the message is 360dialog's text, not "(#0) …" (§4.5)."""

    code, http_status, title = 0, 401, "AuthException"

    @property
    def message(self) -> str:
        return self.details


class UnknownError(GraphError):
    code, http_status, title = 1, 400, "API Unknown"


class TooManyCalls(GraphError):
    """Throttling; HTTP 400, not 429, in Meta's current table (wire-facts §0.3)."""

    code, http_status, title = 4, 400, "API Too Many Calls"


class InvalidParameter(GraphError):
    code, http_status, title = 100, 400, "Invalid parameter"
    details_in_message = True


class BodyTooLarge(GraphError):
    code, http_status, title = 100, 413, "Request body too large"
    details_in_message = True


class UnsupportedMediaType(GraphError):
    code, http_status, title = 100, 415, "Unsupported content type"
    details_in_message = True


class UploadTooLarge(GraphError):
    code, http_status, title = 100, 400, "File too large"
    details_in_message = True


class AttachmentNotFound(GraphError):
    """An expired, tampered or foreign download URL: Meta answers 404 (wire-facts §2.3)."""

    code, http_status, title = 100, 404, "Not Found"
    type = "GraphMethodException"


class RangeNotSatisfiable(GraphError):
    code, http_status, title = 100, 416, "Requested range not satisfiable"
    details_in_message = True


class ObjectNotFound(GraphError):
    """The generic Graph answer for an id that is missing or belongs to someone else."""

    code, http_status, title = 100, 400, "Unsupported request"
    type = "GraphMethodException"
    subcode = 33
    details_in_message = True

    @classmethod
    def for_object(cls, method: str, object_id: str) -> ObjectNotFound:
        return cls(
            f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, "
            "cannot be loaded due to missing permissions, or does not support this operation. "
            "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
        )

    @property
    def message(self) -> str:
        return self.details


class TokenInvalid(GraphError):
    """Bearer token missing or unknown; Graph answers 190 without the "(#190)" prefix."""

    code, http_status, title = 190, 401, "Access token has expired"

    @property
    def message(self) -> str:
        return self.details


class CallbackVerificationFailed(GraphError):
    """The webhook URL did not echo Meta's verification challenge."""

    code, http_status, title = 2200, 400, "Callback verification failed"
    details_in_message = True


class ThroughputLimit(GraphError):
    code, http_status, title = 130429, 400, "Rate limit hit"


class SomethingWentWrong(GraphError):
    code, http_status, title = 131000, 500, "Something went wrong"


class MissingParameter(GraphError):
    code, http_status, title = 131008, 400, "Required parameter is missing"


class InvalidParameterValue(GraphError):
    code, http_status, title = 131009, 400, "Parameter value is not valid"


class RecipientIsSender(GraphError):
    code, http_status, title = 131021, 400, "Recipient cannot be sender"


class Undeliverable(GraphError):
    code, http_status, title = 131026, 400, "Message Undeliverable"


class ReEngagement(GraphError):
    code, http_status, title = 131047, 400, "Re-engagement message"


class UnsupportedMessageType(GraphError):
    code, http_status, title = 131051, 400, "Unsupported message type"


class MediaDownloadError(GraphError):
    code, http_status, title = 131052, 400, "Media download error"


class MediaUploadError(GraphError):
    code, http_status, title = 131053, 400, "Media upload error"


class PairRateLimit(GraphError):
    code, http_status = 131056, 400
    title = "(Business Account, Consumer Account) pair rate limit hit"


class BsuidNotSupported(GraphError):
    """An authentication template sent to a BSUID: it needs the phone number (Meta for
    Developers, "Business-scoped user IDs", error codes)."""

    code, http_status = 131062, 400
    title = "Business-scoped User ID (BSUID) recipients are not supported for this message."


class TemplateParamMismatch(GraphError):
    code, http_status = 132000, 400
    title = "Number of parameters does not match the expected number of params"


class TemplateNotFound(GraphError):
    code, http_status, title = 132001, 404, "Template name does not exist in the translation"


class TemplateParamFormatMismatch(GraphError):
    code, http_status = 132012, 400
    title = "Parameter format does not match format in the created template"


class TemplatePaused(GraphError):
    code, http_status, title = 132015, 400, "Template is Paused"


class TemplateDisabled(GraphError):
    code, http_status, title = 132016, 400, "Template is Disabled"


class ScriptedFailure(GraphError):
    """A failed status a scenario rule asks for with a code or title of its own (131049
    "Meta chose not to deliver", say): only ever in a webhook, never an HTTP answer."""

    code, http_status, title = 131000, 400, "Message failed"

    def __init__(self, code: int, title: str, details: str) -> None:
        self.code, self.title = code, title
        super().__init__(details)


_AT = re.compile(r"^(?P<text>.*?)(?: - at `(?P<path>[^`]*)`)?$", re.S)
_TOKEN = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def param_path(path: str | None, field: str | None = None) -> str:
    """``$.template.components[0].name`` → ``template['components'][0]['name']`` (Graph style)."""
    parts: list[str] = []
    for name, index in _TOKEN.findall((path or "$").removeprefix("$")):
        parts.append(name if name else index)
    if field is not None:
        parts.append(field)
    if not parts:
        return ""
    head, *rest = parts
    return head + "".join(f"[{p}]" if p.isdigit() else f"['{p}']" for p in rest)


def graph_error_for(exc: msgspec.ValidationError) -> GraphError:
    """Translate one msgspec validation message into the Graph wording clients know."""
    match = _AT.match(str(exc))
    assert match is not None
    text, path = match["text"], match["path"]
    if found := re.fullmatch(r"Object contains unknown field `(.+)`", text):
        where = param_path(path)
        on = f' on param "{where}"' if where else ""
        return InvalidParameter(f'Unexpected key "{found[1]}"{on}.')
    if found := re.fullmatch(r"Object missing required field `(.+)`", text):
        return InvalidParameter(f"The parameter {param_path(path, found[1])} is required.")
    where = param_path(path)
    if found := re.fullmatch(r"Invalid (?:enum )?value (.+)", text):
        got = found[1].strip("'")
        if where == "type":
            allowed = ", ".join(t.upper() for t in MESSAGE_TYPES)
            return InvalidParameter(f'Param type must be one of {{{allowed}}} - got "{got}".')
        if where == "messaging_product":
            return InvalidParameter(
                f'Param messaging_product must be one of {{WHATSAPP}} - got "{got}".'
            )
        if where == "recipient_type":
            return InvalidParameter(
                f'Param recipient_type must be one of {{INDIVIDUAL}} - got "{got}". '
                "wabox does not emulate group messaging."
            )
        return InvalidParameter(f'Param {where} has an invalid value - got "{got}".')
    if found := re.fullmatch(r"Expected `str` of length <= (\d+)", text):
        return InvalidParameter(f"Param {where} must be at most {found[1]} characters long.")
    if found := re.fullmatch(r"Expected `str` of length >= (\d+)", text):
        return InvalidParameter(f"Param {where} must be at least {found[1]} characters long.")
    if found := re.fullmatch(r"Expected `(?:array|object)` of length <= (\d+)", text):
        return InvalidParameter(f"Param {where} must have at most {found[1]} items.")
    if found := re.fullmatch(r"Expected `(?:array|object)` of length >= (\d+)", text):
        return InvalidParameter(f"Param {where} must have at least {found[1]} items.")
    subject = f"Param {where}" if where else "Request body"
    # An optional field may be left out, but null is no value a client means to send.
    text = re.sub(r"^Expected `(.+?) \| null`", r"Expected `\1`", text)
    return InvalidParameter(f"{subject} is invalid: {text}.")


def catalogue() -> list[type[GraphError]]:
    """Every error class wabox can emit, for the docs table and its drift test."""
    found: list[type[GraphError]] = []
    pending: list[type[GraphError]] = list(GraphError.__subclasses__())
    while pending:
        cls = pending.pop(0)
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


# WhatsApp's own codes (130000 and up), each emitted by exactly one class.
_WHATSAPP_CODES = {
    cls.code: cls for cls in catalogue() if cls.code >= 130000 and cls is not ScriptedFailure
}
