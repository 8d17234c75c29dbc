"""POST /messages: every validation rule of wire-facts §1 with its exact code, both dialects."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import httpx
import pytest

from tests.conftest import API_KEY, ChannelInfo, Server
from tests.helpers import assert_graph_error, message, register_template, stored
from wabox.samples import sample_path

MEDIA_ID = "4242424242424242"


@pytest.fixture(scope="module")
def media_id(server: Server, default_channel: ChannelInfo) -> str:
    server.seed_media(default_channel.phone_number_id, MEDIA_ID)
    return MEDIA_ID


def send(client: httpx.Client, body: Any) -> httpx.Response:
    return client.post("/messages", json=body)


def assert_accepted(response: httpx.Response, to: str, wa_id: str) -> str:
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"messaging_product", "contacts", "messages"}
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": to, "wa_id": wa_id}]
    (sent,) = body["messages"]
    assert set(sent) == {"id"}
    wamid = sent["id"]
    assert wamid.startswith("wamid.") and len(wamid) <= 128
    return str(wamid)


# --- success --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "body"),
    [
        ("text", {"body": "Hello\nworld", "preview_url": True}),
        ("image", {"link": "https://cdn.example.com/cat.jpg", "caption": "a cat"}),
        ("video", {"link": "http://cdn.example.com/v.mp4", "caption": "x" * 1024}),
        (
            "document",
            {"link": "https://cdn.example.com/r.pdf", "filename": "r.pdf", "caption": "c"},
        ),
        ("audio", {"link": "https://cdn.example.com/v.ogg", "voice": True}),
        ("sticker", {"link": "https://cdn.example.com/s.webp"}),
        ("reaction", {"message_id": "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI1", "emoji": "👍"}),
        ("reaction", {"message_id": "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI1", "emoji": ""}),
        (
            "location",
            {"latitude": 52.52, "longitude": 13.405, "name": "Berlin", "address": "Mitte"},
        ),
        (
            "contacts",
            [
                {
                    "name": {"formatted_name": "Ada Lovelace", "first_name": "Ada"},
                    "phones": [
                        {"phone": "+44 20 7946 0000", "type": "WORK", "wa_id": "442079460000"}
                    ],
                    "emails": [{"email": "ada@example.com", "type": "WORK"}],
                    "org": {"company": "Analytical"},
                    "birthday": "1815-12-10",
                }
            ],
        ),
        (
            "template",
            {
                "name": "order_update",
                "language": {"code": "en_US"},
                "components": [
                    {
                        "type": "header",
                        "parameters": [
                            {"type": "image", "image": {"link": "https://cdn.example.com/h.png"}}
                        ],
                    },
                    {"type": "body", "parameters": [{"type": "text", "text": "42"}]},
                ],
            },
        ),
        (
            "interactive",
            {
                "type": "button",
                "body": {"text": "Pick one"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": "a", "title": "Yes"}},
                        {"type": "reply", "reply": {"id": "b", "title": "No"}},
                    ]
                },
            },
        ),
        (
            "interactive",
            {
                "type": "list",
                "header": {"type": "text", "text": "Menu"},
                "body": {"text": "Choose"},
                "footer": {"text": "thanks"},
                "action": {
                    "button": "Options",
                    "sections": [
                        {
                            "title": "Main",
                            "rows": [{"id": "r1", "title": "One", "description": "d"}],
                        }
                    ],
                },
            },
        ),
        (
            "interactive",
            {
                "type": "cta_url",
                "body": {"text": "Visit"},
                "action": {
                    "name": "cta_url",
                    "parameters": {"display_text": "Go", "url": "https://example.com"},
                },
            },
        ),
    ],
)
def test_each_type_is_accepted_and_stored(
    server: Server, d360: httpx.Client, type_: str, body: Any
) -> None:
    if type_ == "template":
        with server.admin() as admin:
            register_template(admin, "order_update", header="IMAGE", body="Order {{1}} shipped")
    payload = message(type_, body, biz_opaque_callback_data="cb-1")
    wamid = assert_accepted(send(d360, payload), "16505551234", "16505551234")
    row = stored(server, wamid)
    assert row["type"] == type_
    assert row["payload"] == payload
    assert row["biz_opaque_callback_data"] == "cb-1"
    # The first event is the accept; the lifecycle's steps follow (tests/delivery/).
    assert row["events"][0]["status"] == "accepted"


def test_image_by_uploaded_id_is_accepted(d360: httpx.Client, media_id: str) -> None:
    assert_accepted(send(d360, message("image", {"id": media_id})), "16505551234", "16505551234")


def test_template_header_by_id_goes_through_the_media_rules(
    server: Server, d360: httpx.Client, media_id: str
) -> None:
    with server.admin() as admin:
        register_template(admin, "document_header", language="en", header="DOCUMENT", body="Hi")
    header = {"type": "header", "parameters": [{"type": "document", "document": {"id": media_id}}]}
    template = {"name": "document_header", "language": {"code": "en"}, "components": [header]}
    assert_accepted(send(d360, message("template", template)), "16505551234", "16505551234")
    header["parameters"][0]["document"] = {"id": "999000999"}
    assert_graph_error(
        send(d360, message("template", template)),
        status=400,
        code=100,
        contains="template['components'][0]['parameters'][0]['document']['id'] is not a valid",
    )


@pytest.mark.parametrize(
    ("to", "wa_id"),
    [
        ("+1 (650) 555-1234", "16505551234"),
        ("49-170-1234567", "491701234567"),
        ("  +44 20 7946 0000 ", "442079460000"),
    ],
)
def test_to_is_normalised_to_a_wa_id(d360: httpx.Client, to: str, wa_id: str) -> None:
    assert_accepted(send(d360, message("text", {"body": "hi"}, to=to)), to, wa_id)


def test_wamid_is_unique_and_shaped_like_metas(d360: httpx.Client) -> None:
    ids = {
        assert_accepted(send(d360, message("text", {"body": "x"})), "16505551234", "16505551234")
        for _ in range(20)
    }
    assert len(ids) == 20
    raw = base64.b64decode(next(iter(ids)).removeprefix("wamid."))
    assert raw.startswith(b"\x1c\x18\x0b16505551234")


def test_an_identity_key_hash_is_accepted_and_not_compared(d360: httpx.Client) -> None:
    """Meta's identity change check (``recipient_identity_key_hash``, sent by clients such
    as whatsapp-api-js) is accepted: wabox's customers never change their identity key."""
    body = message("text", {"body": "hi"}) | {"recipient_identity_key_hash": "DF2lS5v2W6x="}
    assert_accepted(send(d360, body), "16505551234", "16505551234")


def test_type_defaults_to_text_as_on_metas_api(server: Server, d360: httpx.Client) -> None:
    body = {"messaging_product": "whatsapp", "to": "16505551234", "text": {"body": "no type"}}
    wamid = assert_accepted(send(d360, body), "16505551234", "16505551234")
    assert stored(server, wamid)["type"] == "text"


def test_cloud_dialect_accepts_the_same_body(server: Server, cloud: httpx.Client) -> None:
    wamid = assert_accepted(
        send(cloud, message("text", {"body": "cloud"})), "16505551234", "16505551234"
    )
    assert stored(server, wamid)["payload"]["text"] == {"body": "cloud"}


def test_mark_as_read_marks_the_customers_messages_read(
    server: Server, d360: httpx.Client, cloud: httpx.Client
) -> None:
    customer = {"from": "16505557700", "text": {"body": "hello?"}}
    with server.admin() as admin:
        first, second, third = (
            admin.post("/sandbox/inbound", json=customer).json()["id"] for _ in range(3)
        )
    body = {"messaging_product": "whatsapp", "status": "read", "message_id": second}
    response = send(d360, body)
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}
    # Reading one message reads the earlier ones too, as WhatsApp shows it.
    assert [stored(server, w)["state"] for w in (first, second, third)] == [
        "read",
        "read",
        "received",
    ]
    assert stored(server, second)["events"][-1]["status"] == "read"
    with server.admin() as admin:
        listed = admin.get("/sandbox/conversations").json()["conversations"]
    assert next(c for c in listed if c["wa_id"] == "16505557700")["unread"] == 1
    typing = {**body, "message_id": third, "typing_indicator": {"type": "text"}}
    assert send(cloud, typing).json() == {"success": True}
    assert stored(server, third)["state"] == "read"
    assert send(d360, body).json() == {"success": True}  # again: still fine
    assert_graph_error(
        send(d360, {**body, "message_id": "wamid.ABC"}),
        status=400,
        code=100,
        contains="must be a message this number received",
    )
    assert_graph_error(
        send(d360, {**body, "status": "delivered"}), status=400, code=100, contains="status"
    )


# --- envelope errors -------------------------------------------------------------------------


def test_messaging_product_must_be_whatsapp(d360: httpx.Client) -> None:
    assert_graph_error(
        send(d360, {**message("text", {"body": "x"}), "messaging_product": "sms"}),
        status=400,
        code=100,
        message='(#100) Param messaging_product must be one of {WHATSAPP} - got "sms".',
    )


def test_recipient_type_must_be_individual(d360: httpx.Client) -> None:
    assert_graph_error(
        send(d360, {**message("text", {"body": "x"}), "recipient_type": "group"}),
        status=400,
        code=100,
        contains="recipient_type must be one of {INDIVIDUAL}",
    )


def test_unknown_type_lists_the_accepted_ones(d360: httpx.Client) -> None:
    error = assert_graph_error(
        send(d360, message("jpeg", {"link": "https://x.example/a"})), status=400, code=100
    )
    assert error["message"].startswith("(#100) Param type must be one of {AUDIO, ")
    assert error["message"].endswith('- got "jpeg".')


@pytest.mark.parametrize("to", ["abc", "12", "+1 650 555 12a4", "1234567890123456", "٣٣٣٣٣٣٣"])
def test_garbage_recipient_is_refused(d360: httpx.Client, to: str) -> None:
    assert_graph_error(
        send(d360, message("text", {"body": "x"}, to=to)), status=400, code=100, contains="Param to"
    )


def test_missing_to_is_a_required_parameter(d360: httpx.Client) -> None:
    body = message("text", {"body": "x"})
    del body["to"]
    assert_graph_error(
        send(d360, body), status=400, code=100, message="(#100) The parameter to is required."
    )


def test_sending_to_the_channels_own_number(
    d360: httpx.Client, default_channel: ChannelInfo
) -> None:
    own = "+" + default_channel.display_phone_number
    assert_graph_error(
        send(d360, message("text", {"body": "x"}, to=own)),
        status=400,
        code=131021,
        message="(#131021) Recipient cannot be sender",
    )


def test_unknown_keys_are_refused_with_their_path(d360: httpx.Client) -> None:
    assert_graph_error(
        send(d360, message("image", {"link": "https://x.example/a.jpg", "captoin": "typo"})),
        status=400,
        code=100,
        message='(#100) Unexpected key "captoin" on param "image".',
    )
    assert_graph_error(
        send(d360, {**message("text", {"body": "x"}), "extra": 1}),
        status=400,
        code=100,
        message='(#100) Unexpected key "extra".',
    )


def test_context_and_callback_data(server: Server, d360: httpx.Client) -> None:
    body = message("text", {"body": "reply"}, context={"message_id": "wamid.QUOTED"})
    wamid = assert_accepted(send(d360, body), "16505551234", "16505551234")
    assert stored(server, wamid)["payload"]["context"] == {"message_id": "wamid.QUOTED"}
    assert_graph_error(
        send(d360, message("text", {"body": "x"}, biz_opaque_callback_data="x" * 513)),
        status=400,
        code=100,
        contains="biz_opaque_callback_data must be at most 512 characters",
    )
    assert_graph_error(
        send(d360, message("text", {"body": "x"}, context={})),
        status=400,
        code=100,
        message="(#100) The parameter context['message_id'] is required.",
    )


# --- media rules (the seed) -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["image", "video", "document", "audio", "sticker"])
def test_both_id_and_link_is_invalid(d360: httpx.Client, media_id: str, kind: str) -> None:
    body = message(kind, {"id": media_id, "link": "https://x.example/f"})
    assert_graph_error(send(d360, body), status=400, code=100, contains="not both")


@pytest.mark.parametrize("kind", ["image", "video", "document", "audio", "sticker"])
def test_neither_id_nor_link_is_a_missing_parameter(d360: httpx.Client, kind: str) -> None:
    assert_graph_error(
        send(d360, message(kind, {})),
        status=400,
        code=131008,
        message="(#131008) Required parameter is missing",
        contains=f"{kind}['id'] or {kind}['link'] is required",
    )


@pytest.mark.parametrize(
    "link", ["ftp://x.example/a.jpg", "/relative/a.jpg", "https://", "javascript:alert(1)", "x"]
)
def test_link_must_be_an_absolute_http_url(d360: httpx.Client, link: str) -> None:
    assert_graph_error(
        send(d360, message("image", {"link": link})),
        status=400,
        code=100,
        contains="Param image['link'] is not a valid URI",
    )


@pytest.mark.parametrize("media", ["999999999999", "not-digits", ""])
def test_unknown_media_id(d360: httpx.Client, media: str) -> None:
    assert_graph_error(
        send(d360, message("video", {"id": media})),
        status=400,
        code=100,
        message="(#100) Param video['id'] is not a valid whatsapp business account media "
        "attachment ID",
    )


def test_media_of_another_channel_is_not_usable(server: Server, other_channel: ChannelInfo) -> None:
    foreign = "7" + "".join(secrets.choice("0123456789") for _ in range(15))
    server.seed_media(other_channel.phone_number_id, foreign)
    with httpx.Client(
        base_url=server.base_url, headers={"D360-API-KEY": "test-key-default-0001"}
    ) as c:
        assert_graph_error(
            send(c, message("image", {"id": foreign})), status=400, code=100, contains="image['id']"
        )
    with httpx.Client(
        base_url=server.base_url, headers={"D360-API-KEY": other_channel.api_key}
    ) as c:
        assert_accepted(send(c, message("image", {"id": foreign})), "16505551234", "16505551234")


def test_expired_media_is_not_usable(
    server: Server, d360: httpx.Client, default_channel: ChannelInfo
) -> None:
    server.seed_media(default_channel.phone_number_id, "5550001", expires_in=-1)
    assert_graph_error(send(d360, message("image", {"id": "5550001"})), status=400, code=100)


def test_caption_limit(d360: httpx.Client) -> None:
    assert_graph_error(
        send(d360, message("image", {"link": "https://x.example/a.jpg", "caption": "x" * 1025})),
        status=400,
        code=100,
        message="(#100) Param image['caption'] must be at most 1024 characters long.",
    )


@pytest.mark.parametrize("kind", ["audio", "sticker"])
def test_audio_and_sticker_take_no_caption(d360: httpx.Client, kind: str) -> None:
    body = message(kind, {"link": "https://x.example/f", "caption": "no"})
    assert_graph_error(send(d360, body), status=400, code=100, contains='Unexpected key "caption"')


def test_voice_must_be_a_boolean(d360: httpx.Client) -> None:
    body = message("audio", {"link": "https://x.example/v.ogg", "voice": "yes"})
    assert_graph_error(send(d360, body), status=400, code=100, contains="audio['voice']")


# --- per-type rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "contains"),
    [
        ({"body": "x" * 4097}, "text['body'] must be at most 4096 characters"),
        ({"body": ""}, "text['body'] must be at least 1 characters"),
        ({}, "The parameter text['body'] is required."),
        ({"body": "x", "preview_url": "yes"}, "text['preview_url']"),
    ],
)
def test_text_rules(d360: httpx.Client, body: Any, contains: str) -> None:
    assert_graph_error(send(d360, message("text", body)), status=400, code=100, contains=contains)


def test_text_at_the_limit_is_accepted(d360: httpx.Client) -> None:
    assert_accepted(send(d360, message("text", {"body": "é" * 4096})), "16505551234", "16505551234")


@pytest.mark.parametrize(
    ("body", "contains"),
    [
        ({"latitude": 91, "longitude": 0}, "location['latitude']"),
        ({"latitude": 0, "longitude": -181}, "location['longitude']"),
        ({"latitude": 0}, "The parameter location['longitude'] is required."),
    ],
)
def test_location_rules(d360: httpx.Client, body: Any, contains: str) -> None:
    assert_graph_error(
        send(d360, message("location", body)), status=400, code=100, contains=contains
    )


def test_reaction_needs_a_message_id(d360: httpx.Client) -> None:
    assert_graph_error(
        send(d360, message("reaction", {"emoji": "👍"})),
        status=400,
        code=100,
        contains="reaction['message_id'] is required",
    )


def test_contacts_rules(d360: httpx.Client) -> None:
    assert_graph_error(
        send(d360, message("contacts", [])), status=400, code=100, contains="at least 1 items"
    )
    assert_graph_error(
        send(d360, message("contacts", [{"phones": []}])),
        status=400,
        code=100,
        contains="contacts[0]['name'] is required",
    )


@pytest.mark.parametrize(
    ("body", "code", "contains"),
    [
        ({"name": "t"}, 100, "template['language'] is required"),
        ({"language": {"code": "en"}}, 100, "template['name'] is required"),
        ({"name": "t", "language": {}}, 100, "template['language']['code'] is required"),
        (
            {
                "name": "t",
                "language": {"code": "en"},
                "components": [{"type": "header", "parameters": [{"type": "image", "image": {}}]}],
            },
            131008,
            "image']['id'] or",
        ),
    ],
)
def test_template_rules(d360: httpx.Client, body: Any, code: int, contains: str) -> None:
    assert_graph_error(
        send(d360, message("template", body)), status=400, code=code, contains=contains
    )


def _buttons(count: int) -> list[dict[str, Any]]:
    return [{"type": "reply", "reply": {"id": f"b{i}", "title": f"B{i}"}} for i in range(count)]


@pytest.mark.parametrize(
    ("interactive", "code", "contains"),
    [
        ({"type": "button", "action": {"buttons": _buttons(1)}}, 131008, "interactive['body']"),
        (
            {"type": "button", "body": {"text": "x"}, "action": {"buttons": _buttons(4)}},
            100,
            "interactive['action']['buttons'] must have at most 3 items",
        ),
        (
            {"type": "button", "body": {"text": "x"}, "action": {}},
            131008,
            "interactive['action']['buttons'] is required",
        ),
        (
            {
                "type": "button",
                "body": {"text": "x"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "x" * 21}}]},
            },
            100,
            "title'] must be at most 20 characters",
        ),
        (
            {
                "type": "list",
                "body": {"text": "x"},
                "action": {
                    "button": "Go",
                    "sections": [
                        {"title": "A", "rows": [{"id": f"a{i}", "title": "t"} for i in range(6)]},
                        {"title": "B", "rows": [{"id": f"b{i}", "title": "t"} for i in range(5)]},
                    ],
                },
            },
            100,
            "at most 10 rows in all - got 11",
        ),
        (
            {
                "type": "list",
                "body": {"text": "x"},
                "action": {"sections": [{"rows": [{"id": "a", "title": "t"}]}]},
            },
            131008,
            "interactive['action']['button'] is required",
        ),
        (
            {
                "type": "cta_url",
                "body": {"text": "x"},
                "action": {"name": "wrong", "parameters": {}},
            },
            100,
            'must be "cta_url"',
        ),
        (
            {"type": "carousel", "body": {"text": "x"}, "action": {}},
            100,
            "interactive['type']",
        ),
        (
            {
                "type": "button",
                "header": {"type": "image"},
                "body": {"text": "x"},
                "action": {"buttons": _buttons(1)},
            },
            131008,
            "interactive['header']['image'] is required",
        ),
    ],
)
def test_interactive_rules(d360: httpx.Client, interactive: Any, code: int, contains: str) -> None:
    assert_graph_error(
        send(d360, message("interactive", interactive)), status=400, code=code, contains=contains
    )


def test_interactive_header_media_goes_through_the_media_rules(d360: httpx.Client) -> None:
    body = {
        "type": "button",
        "header": {"type": "video", "video": {"link": "nope"}},
        "body": {"text": "x"},
        "action": {"buttons": _buttons(2)},
    }
    assert_graph_error(
        send(d360, message("interactive", body)),
        status=400,
        code=100,
        contains="interactive['header']['video']['link'] is not a valid URI",
    )


@pytest.mark.parametrize("version", ["v2.8", "v12.0", "v17.0", "v24.0", "v99.0"])
def test_retired_and_future_versions_still_answer(
    server: Server, default_channel: ChannelInfo, version: str
) -> None:
    """Graph answers a call to a version it retired at the oldest version it still serves
    (Meta for Developers, Graph API, "Platform Versioning": "calls made to unavailable
    versions are defaulted to the next oldest usable version"); wabox serves them all."""
    path = f"/{version}/{default_channel.phone_number_id}/messages"
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=server.base_url, headers=headers) as client:
        sent = client.post(path, json=message("text", {"body": version}))
    assert_accepted(sent, "16505551234", "16505551234")


def test_cloud_api_paths_without_a_version_are_served_at_the_default_version(
    server: Server, default_channel: ChannelInfo
) -> None:
    """Graph serves a call without a ``vXX.X`` segment at the app's default version
    (Meta for Developers, Graph API, "Platform Versioning": unversioned calls)."""
    phone = default_channel.phone_number_id
    with server.admin() as admin:
        channels = admin.get("/sandbox/channels").json()["channels"]
    (waba,) = [c["waba_id"] for c in channels if c["phone_number_id"] == phone]
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {API_KEY}"}
    ) as client:
        sent = client.post(f"/{phone}/messages", json=message("text", {"body": "no version"}))
        assert sent.status_code == 200, sent.text
        assert sent.json()["messages"][0]["id"].startswith("wamid.")
        uploaded = client.post(
            f"/{phone}/media",
            data={"messaging_product": "whatsapp"},
            files={"file": ("a.jpg", sample_path("image.jpg").read_bytes(), "image/jpeg")},
        )
        assert uploaded.status_code == 200, uploaded.text
        assert client.get(f"/{uploaded.json()['id']}").status_code == 200
        template = {
            "name": "unversioned_hello",
            "language": "en_US",
            "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Hello from no version"}],
        }
        created = client.post(f"/{waba}/message_templates", json=template)
        assert created.status_code == 200, created.text
        listed = client.get(f"/{waba}/message_templates", params={"name": "unversioned_hello"})
        assert [t["name"] for t in listed.json()["data"]] == ["unversioned_hello"]
        versioned = client.get(
            f"/v21.0/{waba}/message_templates", params={"name": "unversioned_hello"}
        )
        assert versioned.json()["data"] == listed.json()["data"]
        deleted = client.delete(f"/{waba}/message_templates", params={"name": "unversioned_hello"})
        assert deleted.status_code == 200, deleted.text
        # Another number's path is still not the caller's.
        refused = client.post("/100000000000001/messages", json=message("text", {"body": "x"}))
        assert_graph_error(refused, status=400, code=100, subcode=33)


# Graph reads a POST's parameters from the query string as well as from the body, and takes
# a form-encoded body as well as JSON (Meta for Developers, Graph API, "Using the Graph
# API": publishing is `POST /{node}/{edge}?{field}={value}`); the body wins where both name
# a field. 360dialog's own routes are not Graph's and keep taking JSON only.


def test_a_send_may_carry_its_fields_in_the_query_string(
    server: Server, cloud: httpx.Client
) -> None:
    params = {
        "messaging_product": "whatsapp",
        "to": "16505550777",
        "type": "text",
        "text": '{"body": "from the query string"}',
    }
    sent = cloud.post("/messages", params=params)
    assert sent.status_code == 200, sent.text
    row = stored(server, sent.json()["messages"][0]["id"])
    assert row["payload"]["text"] == {"body": "from the query string"}
    assert row["to"] == "16505550777"


def test_the_body_wins_over_the_query_string(server: Server, cloud: httpx.Client) -> None:
    sent = cloud.post(
        "/messages",
        params={"to": "16505550888", "type": "text", "access_token": "ignored"},
        json={"messaging_product": "whatsapp", "to": "16505550999", "text": {"body": "hi"}},
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["contacts"][0]["wa_id"] == "16505550999"


def test_a_form_encoded_send_is_read_as_graph_reads_it(server: Server, cloud: httpx.Client) -> None:
    sent = cloud.post(
        "/messages",
        data={
            "messaging_product": "whatsapp",
            "to": "16505550666",
            "type": "text",
            "text": '{"body": "form", "preview_url": false}',
        },
    )
    assert sent.status_code == 200, sent.text
    row = stored(server, sent.json()["messages"][0]["id"])
    assert row["payload"]["text"] == {"body": "form", "preview_url": False}


def test_a_query_string_send_still_goes_through_every_rule(cloud: httpx.Client) -> None:
    refused = cloud.post("/messages", params={"messaging_product": "whatsapp", "type": "text"})
    assert_graph_error(refused, status=400, code=100)
    not_json = cloud.post("/messages", params={"to": "1"}, content=b"x", headers={})
    assert not_json.status_code == 415, not_json.text


def test_the_360dialog_route_takes_json_only(d360: httpx.Client) -> None:
    refused = d360.post("/messages", params={"messaging_product": "whatsapp", "to": "1"})
    assert refused.status_code == 415, refused.text
