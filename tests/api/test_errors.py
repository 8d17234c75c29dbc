"""The error shape on every route: the Graph envelope, never a 500 or a stack trace."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, API_KEY, ChannelInfo, Server
from tests.helpers import assert_graph_error, message
from wabox import errors
from wabox.errors import GraphError, catalogue


def _post(server: Server, path: str, content: bytes, content_type: str | None) -> httpx.Response:
    headers = {"D360-API-KEY": API_KEY, "Authorization": f"Bearer {ADMIN_TOKEN}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return httpx.post(server.base_url + path, content=content, headers=headers)


JSON_ROUTES = ["/messages", "/sandbox/channels"]


@pytest.mark.parametrize("path", JSON_ROUTES)
@pytest.mark.parametrize("body", [b"{", b"not json", b"\xff\xfe", b'{"\x00'])
def test_malformed_json(server: Server, path: str, body: bytes) -> None:
    response = _post(server, path, body, "application/json")
    assert_graph_error(response, status=400, code=100, contains="Request body is not valid JSON")


@pytest.mark.parametrize("path", JSON_ROUTES)
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_wrong_content_type(server: Server, path: str, content_type: str | None) -> None:
    response = _post(server, path, b'{"messaging_product":"whatsapp"}', content_type)
    assert_graph_error(
        response, status=415, code=100, contains="Content-Type must be application/json"
    )


def test_json_with_charset_is_fine(server: Server) -> None:
    body = httpx.Request("POST", "/", json=message("text", {"body": "x"})).content
    response = _post(server, "/messages", body, "application/json; charset=utf-8")
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"42", b"null"])
def test_body_must_be_an_object(server: Server, body: bytes) -> None:
    response = _post(server, "/messages", body, "application/json")
    assert_graph_error(response, status=400, code=100, contains="Expected `object`")


def test_oversized_body_is_refused_before_reading(server: Server) -> None:
    huge = (
        b'{"messaging_product":"whatsapp","to":"1","type":"text","text":{"body":"'
        + b"x" * (2 * 1024 * 1024)
        + b'"}}'
    )
    response = _post(server, "/messages", huge, "application/json")
    assert_graph_error(response, status=413, code=100, contains="limit is 1048576 bytes")


def test_oversized_chunked_body_is_refused(server: Server) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"messaging_product":"whatsapp","text":{"body":"'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}}'

    response = httpx.post(
        f"{server.base_url}/messages",
        content=chunks(),
        headers={"D360-API-KEY": API_KEY, "Content-Type": "application/json"},
    )
    assert_graph_error(response, status=413, code=100, contains="exceeds the limit")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nope"), ("GET", "/messages"), ("PUT", "/messages"), ("POST", "/v21.0/1/2/3")],
)
def test_unknown_paths_and_methods(server: Server, method: str, path: str) -> None:
    response = httpx.request(method, server.base_url + path, headers={"D360-API-KEY": API_KEY})
    assert response.status_code in (404, 405)
    assert_graph_error(response, status=response.status_code, code=100, subcode=33)


def test_the_server_log_has_no_tracebacks(server: Server, default_channel: ChannelInfo) -> None:
    """After all the bad input above (module order), nothing crashed inside the server."""
    httpx.post(f"{server.base_url}/messages", content=b"{", headers={"D360-API-KEY": API_KEY})
    assert "Traceback" not in server.output()


def test_catalogue_matches_the_spec_table() -> None:
    """wire-facts §4.3: code and HTTP status of every error class wabox emits."""
    expected = {
        "AuthError": (0, 401),
        "UnknownError": (1, 400),
        "TooManyCalls": (4, 400),
        "InvalidParameter": (100, 400),
        # Graph's parameter errors on the HTTP layer: the status says what HTTP refused.
        "BodyTooLarge": (100, 413),
        "UnsupportedMediaType": (100, 415),
        "UploadTooLarge": (100, 400),
        "AttachmentNotFound": (100, 404),  # wire-facts §2.3: an expired or foreign URL
        "RangeNotSatisfiable": (100, 416),
        "ObjectNotFound": (100, 400),
        "TokenInvalid": (190, 401),
        # Not in §4.3: Graph's answer to POST /{app-id}/subscriptions when the callback
        # does not echo the challenge, "(#2200) Callback verification failed with …".
        "CallbackVerificationFailed": (2200, 400),
        "ThroughputLimit": (130429, 400),
        "SomethingWentWrong": (131000, 500),
        "MissingParameter": (131008, 400),
        "InvalidParameterValue": (131009, 400),
        "RecipientIsSender": (131021, 400),
        "Undeliverable": (131026, 400),
        "ReEngagement": (131047, 400),
        "UnsupportedMessageType": (131051, 400),
        "MediaDownloadError": (131052, 400),
        "MediaUploadError": (131053, 400),
        "PairRateLimit": (131056, 400),
        "TemplateParamMismatch": (132000, 400),
        "TemplateNotFound": (132001, 404),
        "TemplateParamFormatMismatch": (132012, 400),
        "TemplatePaused": (132015, 400),
        "TemplateDisabled": (132016, 400),
        "BsuidNotSupported": (131062, 400),
        "ScriptedFailure": (131000, 400),  # a scenario rule's code replaces it
    }
    found = {cls.__name__: (cls.code, cls.http_status) for cls in catalogue()}
    assert found == expected


def test_every_error_class_lives_in_the_catalogue() -> None:
    """One place for every Graph error: no module defines its own."""
    for cls in catalogue():
        assert cls.__module__ == errors.__name__, cls


def test_catalogue_is_documented_in_the_module_docstring() -> None:
    doc = errors.__doc__ or ""
    for cls in catalogue():
        assert f"| {cls.__name__} | {cls.code}" in doc, cls


def test_envelope_shape() -> None:
    error = errors.ReEngagement("Message failed to send because more than 24 hours have passed.")
    body = error.envelope("A" * 23)
    assert body.error.message == "(#131047) Re-engagement message"
    assert body.error.error_data.details.startswith("Message failed")
    hook = error.webhook_error()
    assert (hook.code, hook.title, hook.message) == (
        131047,
        "Re-engagement message",
        "Re-engagement message",
    )
    assert hook.error_data == {"details": error.details}
    assert issubclass(errors.InvalidParameter, GraphError)


def test_a_scenario_code_finds_its_catalogue_class() -> None:
    """A rule naming a code wabox emits gets that class, its title and all; any other code
    (131049, "Meta chose not to deliver", wire-facts §4.3) keeps the rule's words."""
    known = GraphError.of(131047, "closed")
    assert type(known) is errors.ReEngagement
    assert (known.title, known.details) == ("Re-engagement message", "closed")
    other = GraphError.of(131049, "ecosystem", "Not delivered")
    assert (other.code, other.title, other.details) == (131049, "Not delivered", "ecosystem")
    assert other.webhook_error().code == 131049
    assert GraphError.of(131049, "x").title == "Message failed"
    retitled = GraphError.of(131047, "x", "Custom")
    assert (type(retitled), retitled.title) == (errors.ScriptedFailure, "Custom")
