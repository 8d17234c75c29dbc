"""Templates: the checks of a new template, and of a template message against its template.

A template message names a template by name and language and fills its ``{{n}}`` (or
``{{name}}``) placeholders. Sending checks what Meta checks, with Meta's codes: an unknown
or unapproved template is 132001 (HTTP 404), a paused one 132015, a disabled one 132016;
a wrong number of parameters for a component is 132000, a header media of the wrong kind
132012. The rendered result (header, body with the values filled in, footer, buttons) is
stored with the message for the inbox.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from wabox.errors import (
    InvalidParameter,
    TemplateDisabled,
    TemplateNotFound,
    TemplateParamFormatMismatch,
    TemplateParamMismatch,
    TemplatePaused,
)
from wabox.schema.messages import TemplateComponent, TemplateObject, TemplateParameter
from wabox.schema.templates import CATEGORIES, STATUSES, AdminTemplate, Component

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION")
MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")
COMPONENT_TYPES = ("HEADER", "BODY", "FOOTER", "BUTTONS")
_TEXT_PARAMETERS = ("text", "currency", "date_time")


def placeholders(text: str | None) -> list[str]:
    """The distinct placeholders of ``text``, in order of first use."""
    seen: dict[str, None] = {}
    for match in PLACEHOLDER.finditer(text or ""):
        seen.setdefault(match.group(1), None)
    return list(seen)


# --- the registry's checks -------------------------------------------------------------------


def choose(value: str | None, allowed: tuple[str, ...], field: str, default: str) -> str:
    """``value`` upper-cased if it is one of ``allowed`` (both APIs take either case)."""
    if value is None:
        return default
    if value.upper() not in allowed:
        raise InvalidParameter(
            f'Param {field} must be one of {", ".join(allowed)} - got "{value}".'
        )
    return value.upper()


def normalise_components(components: list[Component], parameter_format: str) -> list[Component]:
    """Upper-case types and formats as Meta stores them; reject what Meta would."""
    kinds = [component.type.upper() for component in components]
    for kind in kinds:
        if kind not in COMPONENT_TYPES:
            raise InvalidParameter(
                f"Param components[]['type'] must be one of {', '.join(COMPONENT_TYPES)} - got "
                f'"{kind}".'
            )
    if kinds.count("BODY") != 1 or any(kinds.count(kind) > 1 for kind in COMPONENT_TYPES):
        raise InvalidParameter(
            "Param components must hold exactly one BODY and at most one HEADER, FOOTER and "
            "BUTTONS."
        )
    result = []
    for component, kind in zip(components, kinds, strict=True):
        fmt = component.format.upper() if component.format is not None else None
        if kind == "HEADER":
            fmt = choose(fmt, HEADER_FORMATS, "components[]['format']", "TEXT")
            if fmt == "TEXT" and not component.text:
                raise InvalidParameter("Param components[]['text'] is required for a TEXT header.")
        if kind in ("BODY", "FOOTER") and not component.text:
            raise InvalidParameter(f"Param components[]['text'] is required for {kind}.")
        if kind == "BUTTONS" and not component.buttons:
            raise InvalidParameter("Param components[]['buttons'] is required for BUTTONS.")
        names = placeholders(component.text)
        if parameter_format == "POSITIONAL" and names != [str(n) for n in range(1, len(names) + 1)]:
            raise InvalidParameter(
                f"Param components[]['text'] of {kind}: positional placeholders must be "
                f"{{{{1}}}}, {{{{2}}}}, ... in order - got {', '.join(names)}."
            )
        if kind == "HEADER" and len(names) > 1:
            raise InvalidParameter("Param components[]['text'] of HEADER takes one placeholder.")
        if kind == "FOOTER" and names:
            raise InvalidParameter("Param components[]['text'] of FOOTER takes no placeholders.")
        result.append(
            Component(
                type=kind,
                format=fmt,
                text=component.text,
                example=component.example,
                buttons=component.buttons,
                add_security_recommendation=component.add_security_recommendation,
                code_expiration_minutes=component.code_expiration_minutes,
            )
        )
    return result


def check_category(value: str) -> str:
    return choose(value, CATEGORIES, "category", "UTILITY")


def check_status(value: str | None) -> str:
    return choose(value, STATUSES, "status", "APPROVED")


# --- sending ---------------------------------------------------------------------------------


def check_sendable(template: AdminTemplate | None, name: str, language: str) -> AdminTemplate:
    """The template, if a message may use it now."""
    if template is None or template.status in ("PENDING", "REJECTED"):
        raise TemplateNotFound(f"template name ({name}) does not exist in {language}")
    if template.status == "PAUSED":
        raise TemplatePaused(
            "Template is paused due to low quality, so it cannot be sent in a template message."
        )
    if template.status == "DISABLED":
        raise TemplateDisabled("Template is disabled, so it cannot be sent in a template message.")
    return template


def render(template: AdminTemplate, sent: TemplateObject) -> dict[str, Any]:
    """Check the message's parameters against the template; the filled-in result."""
    given: dict[str, TemplateComponent] = {}
    buttons_given: dict[int, TemplateComponent] = {}
    for component in sent.components or ():
        kind = component.type.lower()
        if kind == "button":
            buttons_given[_index(component.index)] = component
        elif kind in ("header", "body"):
            given[kind] = component
    by_kind = {component.type: component for component in template.components}
    named = template.parameter_format == "NAMED"
    rendered: dict[str, Any] = {"name": template.name, "language": template.language}

    header = by_kind.get("HEADER")
    header_params = list(given["header"].parameters or ()) if "header" in given else []
    if header is None or header.format == "TEXT":
        text = header.text if header is not None else None
        values = _values("header", text, header_params, named)
        if text is not None:
            rendered["header"] = {"type": "text", "text": _fill(text, values)}
    else:
        _count("header", len(header_params), 1)
        parameter = header_params[0]
        expected = (header.format or "").lower()
        if parameter.type != expected:
            raise TemplateParamFormatMismatch(
                f"header: Format mismatch, expected {header.format}, received "
                f"{parameter.type.upper()}"
            )
        value = getattr(parameter, expected)
        if value is None:
            raise TemplateParamFormatMismatch(
                f"header: Format mismatch, expected {header.format}, received UNKNOWN"
            )
        rendered["header"] = {"type": expected, expected: _plain(value)}

    body = by_kind["BODY"]
    body_params = list(given["body"].parameters or ()) if "body" in given else []
    rendered["body"] = _fill(body.text or "", _values("body", body.text, body_params, named))
    footer = by_kind.get("FOOTER")
    if footer is not None:
        rendered["footer"] = footer.text

    buttons = by_kind.get("BUTTONS")
    shown = []
    for index, button in enumerate(buttons.buttons or () if buttons is not None else ()):
        item: dict[str, Any] = {"type": button.type.upper(), "text": button.text}
        sent_button = buttons_given.pop(index, None)
        params = list(sent_button.parameters or ()) if sent_button is not None else []
        if button.type.upper() == "URL" and button.url is not None:
            item["url"] = _fill(button.url, _values(f"button {index}", button.url, params, False))
        elif button.phone_number is not None:
            item["phone_number"] = button.phone_number
        elif button.type.upper() == "QUICK_REPLY":
            # What the customer's tap sends back (its text when the business gave none).
            payloads = [p.payload for p in params if p.type == "payload" and p.payload]
            item["payload"] = payloads[0] if payloads else button.text
        shown.append(item)
    if buttons_given:
        index = min(buttons_given)
        raise TemplateParamMismatch(
            f"buttons: the template has no button at index {index} (it has {len(shown)} buttons)"
        )
    if shown:
        rendered["buttons"] = shown
    return rendered


def _index(value: int | str | None) -> int:
    try:
        return int(value if value is not None else 0)
    except ValueError:
        raise InvalidParameter(
            f"Param template['components'][]['index'] must be a number - got \"{value}\"."
        ) from None


def _count(where: str, got: int, expected: int) -> None:
    if got != expected:
        raise TemplateParamMismatch(
            f"{where}: number of localizable_params ({got}) does not match the expected number "
            f"of params ({expected})"
        )


def _values(
    where: str, text: str | None, parameters: list[TemplateParameter], named: bool
) -> dict[str, str]:
    """Placeholder → value, after checking count, kinds and (for NAMED) names."""
    names = placeholders(text)
    _count(where, len(parameters), len(names))
    values: dict[str, str] = {}
    for position, parameter in enumerate(parameters, start=1):
        if parameter.type not in _TEXT_PARAMETERS:
            raise TemplateParamFormatMismatch(
                f"{where}: Format mismatch, expected TEXT, received {parameter.type.upper()}"
            )
        key = parameter.parameter_name if named else str(position)
        if key not in names:
            raise TemplateParamMismatch(
                f"{where}: parameter name ({parameter.parameter_name}) is not a parameter of the "
                "template"
            )
        values[key] = _text(parameter)
    return values


def _text(parameter: TemplateParameter) -> str:
    if parameter.type == "text":
        if parameter.text is None:
            raise TemplateParamFormatMismatch("Param text is required for a text parameter.")
        return parameter.text
    value = getattr(parameter, parameter.type) or {}
    return str(value.get("fallback_value", ""))


def _fill(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def _plain(value: Any) -> dict[str, Any]:
    result: dict[str, Any] = msgspec.to_builtins(value)
    return result
