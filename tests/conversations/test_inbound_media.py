"""A customer's media, contacts and the business marking them read (wire-facts §5.2, §2)."""

from __future__ import annotations

import base64
import hashlib
import io
from typing import Any

import pytest
from PIL import Image
from pywa import WhatsApp
from pywa.types import Message, MessageType

from tests.conftest import Server
from tests.conversations.test_inbound import inbound, wait_for_message
from tests.delivery.helpers import advance, client, new_channel, webhook
from tests.delivery.receiver import Receiver
from tests.helpers import assert_graph_error
from wabox.samples import sample_path

CUSTOMER = "16505554000"


def sha256_b64(content: bytes) -> str:
    return base64.b64encode(hashlib.sha256(content).digest()).decode()


def received(server: Server, receiver: Receiver, channel: dict[str, Any], **body: Any) -> Any:
    response = inbound(server, channel=channel["phone_number_id"], **{"from": CUSTOMER}, **body)
    assert response.status_code == 200, response.text
    payload = wait_for_message(receiver, response.json()["id"])
    return response.json(), payload, payload["entry"][0]["changes"][0]["value"]["messages"][0]


def download(
    server: Server, channel: dict[str, Any], media_id: str
) -> tuple[dict[str, Any], bytes]:
    with client(server, channel) as c:
        meta = c.get(f"/{media_id}")
        assert meta.status_code == 200, meta.text
        got = c.get(meta.json()["url"])
        assert got.status_code == 200, got.text
    return meta.json(), got.content


@pytest.mark.parametrize(
    ("kind", "spec", "sample", "expected"),
    [
        (
            "image",
            {"caption": "my cat"},
            "image.jpg",
            {"caption": "my cat", "mime_type": "image/jpeg"},
        ),
        ("video", {}, "video.mp4", {"mime_type": "video/mp4"}),
        (
            "audio",
            {"voice": True},
            "voice.ogg",
            {"mime_type": "audio/ogg; codecs=opus", "voice": True},
        ),
        (
            "audio",
            {"sample": "audio.mp3"},
            "audio.mp3",
            {"mime_type": "audio/mpeg", "voice": False},
        ),
        (
            "document",
            {"filename": "invoice.pdf", "caption": "here"},
            "document.pdf",
            {"caption": "here", "filename": "invoice.pdf", "mime_type": "application/pdf"},
        ),
        ("sticker", {}, "sticker.webp", {"mime_type": "image/webp", "animated": False}),
        (
            "sticker",
            {"sample": "sticker_animated.webp"},
            "sticker_animated.webp",
            {"mime_type": "image/webp", "animated": True},
        ),
    ],
)
def test_inbound_media_reaches_the_webhook_and_can_be_downloaded(
    server: Server,
    receiver: Receiver,
    kind: str,
    spec: dict[str, Any],
    sample: str,
    expected: dict[str, Any],
) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    content = sample_path(sample).read_bytes()
    answer, payload, message = received(server, receiver, channel, type=kind, **{kind: spec})
    media = message[kind]
    assert media["id"] == answer["media_id"]
    assert set(media) == {*expected, "id", "sha256", "url"}
    assert {k: media[k] for k in expected} == expected
    assert media["sha256"] == sha256_b64(content)
    meta, got = download(server, channel, media["id"])
    assert got == content
    assert (meta["file_size"], meta["id"]) == (len(content), media["id"])
    with client(server, channel) as c:
        assert c.get(media["url"]).content == content  # the webhook's own URL works too
    wa = WhatsApp(phone_id="1", token="x", server=None)
    parsed = Message.from_update(wa, payload)  # type: ignore[arg-type]
    assert parsed.type == MessageType(kind)
    parsed_media = getattr(parsed, kind)
    assert parsed_media.id == media["id"]
    assert parsed_media.sha256 == media["sha256"]


def test_inbound_media_lives_7_days_and_only_for_its_channel(
    server: Server, receiver: Receiver
) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    stranger = new_channel(server)
    answer, _, _ = received(server, receiver, channel, type="image", image={})
    media_id = answer["media_id"]
    with client(server, stranger) as c:
        assert_graph_error(c.get(f"/{media_id}"), status=400, code=100, subcode=33)
    advance(server, 7 * 86400 - 60)
    download(server, channel, media_id)
    advance(server, 120)
    with client(server, channel) as c:
        assert_graph_error(c.get(f"/{media_id}"), status=400, code=100, subcode=33)


def test_the_customer_may_send_their_own_bytes(server: Server, receiver: Receiver) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(out, "PNG")
    data = base64.b64encode(out.getvalue()).decode()
    answer, _, message = received(
        server, receiver, channel, type="image", image={"data": data, "mime_type": "image/png"}
    )
    assert message["image"]["mime_type"] == "image/png"
    assert download(server, channel, answer["media_id"])[1] == out.getvalue()


@pytest.mark.parametrize(
    ("body", "contains"),
    [
        ({"type": "image", "image": {"sample": "video.mp4"}}, "image.jpg"),
        ({"type": "audio", "audio": {"sample": "audio.mp3", "voice": True}}, "audio"),
        ({"type": "image", "image": {"data": "AAAA"}}, "mime_type"),
        ({"type": "image", "image": {"data": "not base64!", "mime_type": "image/png"}}, "base64"),
        ({"type": "image", "image": {"data": "AAAA", "mime_type": "image/png"}}, "content"),
        ({"type": "sticker", "sticker": {"caption": "x"}}, "caption"),
        ({"type": "video", "video": {"filename": "x.mp4"}}, "filename"),
        ({"type": "image", "image": {"voice": True}}, "voice"),
        ({"type": "contacts"}, "contacts"),
    ],
)
def test_bad_inbound_media_is_refused(server: Server, body: dict[str, Any], contains: str) -> None:
    response = inbound(server, **{"from": CUSTOMER}, **body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert contains in error["message"] + error["error_data"]["details"]


def test_an_inbound_contact_card(server: Server, receiver: Receiver) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    card = {
        "name": {
            "formatted_name": "Barbara J. Johnson",
            "first_name": "Barbara",
            "last_name": "Johnson",
        },
        "org": {"company": "Social Tsunami"},
        "phones": [{"phone": "+1 (415) 555-0829", "wa_id": "14155550829", "type": "MOBILE"}],
    }
    _, payload, message = received(server, receiver, channel, type="contacts", contacts=[card])
    assert message["contacts"] == [card]
    wa = WhatsApp(phone_id="1", token="x", server=None)
    parsed = Message.from_update(wa, payload)  # type: ignore[arg-type]
    assert parsed.contacts is not None
    assert parsed.contacts[0].name.formatted_name == "Barbara J. Johnson"
    assert parsed.contacts[0].phones[0].wa_id == "14155550829"


def test_samples_are_listed(server: Server) -> None:
    with server.admin() as admin:
        listed = admin.get("/sandbox/samples").json()["samples"]
    assert {"name": "voice.ogg", "mime_type": "audio/ogg", "kind": "audio"} in listed
    assert len(listed) == 7


def test_the_type_follows_the_one_content_field_given(server: Server, receiver: Receiver) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    _, _, message = received(server, receiver, channel, image={"caption": "no type given"})
    assert message["type"] == "image" and message["image"]["caption"] == "no type given"
    both = inbound(server, **{"from": CUSTOMER}, text={"body": "x"}, image={})
    assert both.status_code == 400
    assert "Param type is required" in both.json()["error"]["message"]


def test_a_large_customer_file_fits_the_inbound_body(server: Server, receiver: Receiver) -> None:
    """A 3 MB document as base64 is larger than WABOX_MAX_BODY_BYTES (1 MiB), which is for
    the business API; the admin route takes any file WhatsApp would carry."""
    channel = new_channel(server, webhook=webhook(receiver))
    document = b"%PDF-1.4\n" + bytes(range(256)) * (3 * 4096)
    data = base64.b64encode(document).decode()
    answer, _, message = received(
        server, receiver, channel, type="document",
        document={"data": data, "mime_type": "application/pdf", "filename": "big.pdf"},
    )  # fmt: skip
    assert message["document"]["filename"] == "big.pdf"
    assert download(server, channel, answer["media_id"])[1] == document
