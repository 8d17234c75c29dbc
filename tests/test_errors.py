"""``graph_error_for``: msgspec's validation messages in the Graph wording clients know.

Each case decodes a bad body with the schema's own decoder, so the text translated is the
one msgspec really produces (a msgspec upgrade that rewords it fails here, not in a client).
No server: these run in milliseconds.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from tests.helpers import message
from wabox.errors import GraphError, InvalidParameter, graph_error_for, param_path
from wabox.schema.messages import message_decoder
from wabox.schema.scenarios import Scenario


def text(**fields: Any) -> dict[str, Any]:
    return message("text", {"body": "hi"}, **fields)


def buttons(count: int) -> dict[str, Any]:
    replies = [{"type": "reply", "reply": {"id": f"b{n}", "title": "Yes"}} for n in range(count)]
    return message(
        "interactive",
        {"type": "button", "body": {"text": "Pick one"}, "action": {"buttons": replies}},
    )


def without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


def translated(body: Any, decoder: msgspec.json.Decoder[Any] = message_decoder) -> GraphError:
    with pytest.raises(msgspec.ValidationError) as caught:
        decoder.decode(json.dumps(body).encode())
    return graph_error_for(caught.value)


TEMPLATE = {
    "name": "order",
    "language": {"code": "en"},
    "components": [{"type": "body", "parameters": [{"type": "text", "oops": 1}]}],
}


@pytest.mark.parametrize(
    ("body", "details"),
    [
        pytest.param(text(colour="red"), 'Unexpected key "colour".', id="unknown-key"),
        pytest.param(
            message("text", {"body": "x", "bold": True}),
            'Unexpected key "bold" on param "text".',
            id="unknown-nested-key",
        ),
        pytest.param(
            message("template", TEMPLATE),
            "Unexpected key \"oops\" on param \"template['components'][0]['parameters'][0]\".",
            id="unknown-key-in-a-list",
        ),
        pytest.param(
            message("text", {}), "The parameter text['body'] is required.", id="missing-field"
        ),
        pytest.param(
            without(text(), "messaging_product"),
            "The parameter messaging_product is required.",
            id="missing-top-level-field",
        ),
        pytest.param(
            text(messaging_product="sms"),
            'Param messaging_product must be one of {WHATSAPP} - got "sms".',
            id="messaging-product",
        ),
        pytest.param(
            text(recipient_type="group"),
            'Param recipient_type must be one of {INDIVIDUAL} - got "group". '
            "wabox does not emulate group messaging.",
            id="recipient-type",
        ),
        pytest.param(
            message("interactive", {"type": "carousel", "action": {}}),
            "Param interactive['type'] has an invalid value - got \"carousel\".",
            id="other-enum",
        ),
        pytest.param(
            text(to="1" * 65), "Param to must be at most 64 characters long.", id="long-string"
        ),
        pytest.param(
            message("text", {"body": ""}),
            "Param text['body'] must be at least 1 characters long.",
            id="short-string",
        ),
        pytest.param(
            buttons(4),
            "Param interactive['action']['buttons'] must have at most 3 items.",
            id="too-many-items",
        ),
        pytest.param(
            buttons(0),
            "Param interactive['action']['buttons'] must have at least 1 items.",
            id="too-few-items",
        ),
        pytest.param(
            text(to=16505551234),
            "Param to is invalid: Expected `str`, got `int`.",
            id="wrong-type",
        ),
        pytest.param(
            message("location", {"latitude": 91, "longitude": 0}),
            "Param location['latitude'] is invalid: Expected `float` <= 90.0.",
            id="out-of-range",
        ),
        pytest.param(
            [text()],
            "Request body is invalid: Expected `object`, got `array`.",
            id="not-an-object",
        ),
    ],
)
def test_validation_errors_are_worded_like_graph(body: Any, details: str) -> None:
    error = translated(body)
    assert isinstance(error, InvalidParameter)
    assert (error.code, error.http_status) == (100, 400)
    assert error.details == details
    assert error.message == f"(#100) {details}"  # code 100 keeps its specifics in `message`


def test_an_unknown_message_type_lists_every_type() -> None:
    error = translated(text(type="fax"))
    assert error.details == (
        "Param type must be one of {AUDIO, DOCUMENT, IMAGE, STICKER, VIDEO, CONTACTS, "
        'INTERACTIVE, LOCATION, REACTION, TEMPLATE, TEXT} - got "fax".'
    )


def test_any_schema_decoder_is_translated() -> None:
    """Not only messages: the sandbox's bodies (here a scenario rule) go through it too."""
    decoder = msgspec.json.Decoder(Scenario)
    assert translated({"match": "1650555*", "never_read": "yes"}, decoder).details == (
        "Param never_read is invalid: Expected `bool`, got `str`."
    )
    assert translated({"match": "+1 650"}, decoder).details.startswith(
        "Param match is invalid: Expected `str` matching regex"
    )
    assert translated({"match": "1", "fail": {"code": 1}}, decoder).details == (
        "The parameter fail['details'] is required."
    )


@pytest.mark.parametrize(
    ("path", "field", "expected"),
    [
        (None, None, ""),
        ("$", "to", "to"),
        ("$.text", "body", "text['body']"),
        (
            "$.template.components[0].parameters[12]",
            None,
            "template['components'][0]['parameters'][12]",
        ),
        (
            "$.interactive.action.sections[1]",
            "title",
            "interactive['action']['sections'][1]['title']",
        ),
    ],
)
def test_param_paths_are_graph_style(path: str | None, field: str | None, expected: str) -> None:
    assert param_path(path, field) == expected
