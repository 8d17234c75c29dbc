"""heyoo, unchanged from PyPI, against wabox.

The only change to the client is the documented redirection: ``base_url``, ``v15_base_url``
and ``url`` are set on the instance (heyoo computes ``url`` in ``__init__`` from
``base_url`` and the phone_number_id). The host is the recording tap in front of wabox
(``tap.py``), so each test also checks the request heyoo actually sent.

heyoo reports errors by return value, not by exception: ``upload_media``,
``query_media_url`` and ``delete_media`` return None when the answer is not 200, and the
send methods return the error JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from heyoo import WhatsApp

from tests.compat.conftest import (
    CUSTOMER,
    IMAGE,
    IMAGE_BYTES,
    Channel,
    inbound_text,
    wait_for_inbound_webhook,
    wait_for_state,
)
from tests.compat.tap import Exchange, Tap
from tests.conftest import Server
from tests.delivery.receiver import Receiver
from tests.helpers import stored
from tests.links.origin import Origin

# heyoo's upload_media opens the file (``open(os.path.realpath(media), "rb")``) and never
# closes it: a ResourceWarning when the handle is collected, which this suite turns into an
# error. That is heyoo's own leak, unrelated to the server; only that one is ignored.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:Exception ignored in. <_io.FileIO name='[^']*\.jpg' mode='rb'"
    ":pytest.PytestUnraisableExceptionWarning"
)


@pytest.fixture
def messenger(tap: Tap, channel: Channel) -> Iterator[WhatsApp]:
    client = WhatsApp(token=channel.api_key, phone_number_id=channel.phone_number_id)
    # heyoo's own defaults, pointed at the tap: the paths stay /v14.0/... and /v15.0/...
    assert client.base_url == "https://graph.facebook.com/v14.0"
    assert client.v15_base_url == "https://graph.facebook.com/v15.0"
    assert client.url == f"https://graph.facebook.com/v14.0/{channel.phone_number_id}/messages"
    client.base_url = f"{tap.url}/v14.0"
    client.v15_base_url = f"{tap.url}/v15.0"
    client.url = f"{client.base_url}/{channel.phone_number_id}/messages"
    yield client


def only(exchanges: list[Exchange], method: str, path: str) -> Exchange:
    found = [e for e in exchanges if e.method == method and e.path == path]
    seen = "\n".join(f"{e.method} {e.target} -> {e.status}" for e in exchanges)
    assert len(found) == 1, f"expected one {method} {path}; heyoo sent:\n{seen}"
    return found[0]


def assert_bearer(exchange: Exchange, channel: Channel) -> None:
    assert exchange.headers.get("authorization") == f"Bearer {channel.api_key}", exchange.headers


def upload(messenger: WhatsApp, tap: Tap, channel: Channel) -> str:
    mark = tap.mark()
    answer = messenger.upload_media(str(IMAGE))
    exchange = only(tap.since(mark), "POST", f"/v14.0/{channel.phone_number_id}/media")
    assert exchange.status == 200, exchange.describe()
    assert answer is not None, exchange.describe()
    assert_bearer(exchange, channel)
    # requests_toolbelt's MultipartEncoder: file part with the guessed type, a type field.
    assert exchange.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert IMAGE_BYTES in exchange.body
    assert b"Content-Type: image/jpeg" in exchange.body
    assert b'name="messaging_product"\r\n\r\nwhatsapp' in exchange.body
    assert b'name="type"\r\n\r\nimage/jpeg' in exchange.body
    media_id = answer["id"]
    assert isinstance(media_id, str) and media_id.isdigit(), answer
    return media_id


def assert_sent(answer: Any, exchange: Exchange, server: Server) -> str:
    assert exchange.status == 200, exchange.describe()
    assert isinstance(answer, dict) and "error" not in answer, answer
    assert answer["contacts"] == [{"input": CUSTOMER, "wa_id": CUSTOMER}]
    wamid = answer["messages"][0]["id"]
    assert wamid.startswith("wamid."), answer
    row = wait_for_state(server, wamid, ("sent", "delivered", "read"))
    assert row["state"] in ("sent", "delivered", "read"), row
    return str(wamid)


# --- media --------------------------------------------------------------------------------


def test_upload_media_posts_to_the_numbers_media_edge(
    messenger: WhatsApp, tap: Tap, channel: Channel
) -> None:
    upload(messenger, tap, channel)


def test_send_uploaded_image_by_id(
    messenger: WhatsApp, tap: Tap, channel: Channel, compat_server: Server
) -> None:
    media_id = upload(messenger, tap, channel)
    mark = tap.mark()
    # heyoo's link=False means "image is a media ID"; no caption: heyoo sends "caption": null.
    answer = messenger.send_image(media_id, CUSTOMER, link=False)
    exchange = only(tap.since(mark), "POST", f"/v14.0/{channel.phone_number_id}/messages")
    assert_bearer(exchange, channel)
    assert exchange.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "image",
        "image": {"id": media_id, "caption": None},
    }
    wamid = assert_sent(answer, exchange, compat_server)
    assert stored(compat_server, wamid)["payload"]["image"]["id"] == media_id

    # With a caption too.
    mark = tap.mark()
    answer = messenger.send_image(media_id, CUSTOMER, caption="by id", link=False)
    exchange = only(tap.since(mark), "POST", f"/v14.0/{channel.phone_number_id}/messages")
    assert exchange.json["image"] == {"id": media_id, "caption": "by id"}
    assert_sent(answer, exchange, compat_server)


def test_send_image_by_link(
    messenger: WhatsApp, tap: Tap, channel: Channel, compat_server: Server, origin: Origin
) -> None:
    link = origin.serve("/heyoo/cat.jpg", IMAGE_BYTES, headers={"Content-Type": "image/jpeg"})
    mark = tap.mark()
    answer = messenger.send_image(link, CUSTOMER, caption="a cat")  # heyoo's default: a link
    exchange = only(tap.since(mark), "POST", f"/v14.0/{channel.phone_number_id}/messages")
    assert exchange.json["image"] == {"link": link, "caption": "a cat"}
    wamid = assert_sent(answer, exchange, compat_server)
    (outcome,) = stored(compat_server, wamid)["media"]
    assert outcome["outcome"] == "fetched" and outcome["link"] == link, outcome
    assert origin.count("/heyoo/cat.jpg") == 1

    # heyoo's docstring call, send_image(link, to): "caption": null.
    other = origin.serve("/heyoo/cat2.jpg", IMAGE_BYTES, headers={"Content-Type": "image/jpeg"})
    mark = tap.mark()
    answer = messenger.send_image(other, CUSTOMER)
    exchange = only(tap.since(mark), "POST", f"/v14.0/{channel.phone_number_id}/messages")
    assert exchange.json["image"] == {"link": other, "caption": None}
    assert_sent(answer, exchange, compat_server)
    assert origin.count("/heyoo/cat2.jpg") == 1


def test_query_media_url_and_download(
    messenger: WhatsApp, tap: Tap, channel: Channel, tmp_path: Path
) -> None:
    media_id = upload(messenger, tap, channel)
    mark = tap.mark()
    url = messenger.query_media_url(media_id)
    exchange = only(tap.since(mark), "GET", f"/v14.0/{media_id}")
    assert_bearer(exchange, channel)
    assert exchange.status == 200, exchange.describe()
    assert isinstance(url, str) and url.startswith(f"{tap.url}/"), url
    assert exchange.response_json["mime_type"] == "image/jpeg"

    mark = tap.mark()
    saved = messenger.download_media(url, "image/jpeg", file_path=str(tmp_path / "downloaded"))
    download = only(tap.since(mark), "GET", "/whatsapp_business/attachments/")
    assert_bearer(download, channel)
    # heyoo writes whatever the body is without looking at the status: check both.
    assert download.status == 200, download.describe()
    assert saved == str(tmp_path / "downloaded.jpeg")
    assert Path(saved).read_bytes() == IMAGE_BYTES


def test_an_upload_does_not_leak_heyoos_local_directory(
    messenger: WhatsApp, tap: Tap, channel: Channel, tmp_path: Path
) -> None:
    """heyoo names the file part with the full local path it was given (``"file": (media,
    open(...), type)``). A receiver keeps only the last component (RFC 7578 §4.2, RFC 2183
    §2.3); otherwise the path reaches whoever downloads the media, and a client that names
    its file from Content-Disposition (pywa) writes it outside the folder it asked for."""
    uploads, downloads = tmp_path / "uploads", tmp_path / "downloads"
    uploads.mkdir()
    downloads.mkdir()
    local = uploads / "cat.jpg"
    local.write_bytes(IMAGE_BYTES)
    mark = tap.mark()
    media_id = messenger.upload_media(str(local))["id"]
    sent = only(tap.since(mark), "POST", f"/v14.0/{channel.phone_number_id}/media")
    assert f'filename="{local}"'.encode() in sent.body  # what heyoo really sends

    url = messenger.query_media_url(media_id)
    mark = tap.mark()
    messenger.download_media(url, "image/jpeg", file_path=str(downloads / "heyoo"))
    download = only(tap.since(mark), "GET", "/whatsapp_business/attachments/")
    disposition = download.response_headers.get("content-disposition", "")
    assert str(uploads) not in disposition, disposition
    assert "cat.jpg" in disposition, disposition

    from pywa import WhatsApp as Pywa

    reader = Pywa(phone_id=channel.phone_number_id, token=channel.api_key)
    reader.api._session.base_url = f"{tap.url}/v23.0"
    try:
        saved = reader.download_media(url=reader.get_media_url(media_id).url, path=downloads)
    finally:
        reader.api._session.close()
    assert saved.parent == downloads, saved
    assert saved.read_bytes() == IMAGE_BYTES


def test_delete_media_then_querying_it_fails(
    messenger: WhatsApp, tap: Tap, channel: Channel
) -> None:
    media_id = upload(messenger, tap, channel)
    mark = tap.mark()
    assert messenger.delete_media(media_id) == {"success": True}
    exchange = only(tap.since(mark), "DELETE", f"/v14.0/{media_id}")
    assert_bearer(exchange, channel)
    mark = tap.mark()
    assert messenger.query_media_url(media_id) is None  # heyoo's way of reporting an error
    exchange = only(tap.since(mark), "GET", f"/v14.0/{media_id}")
    assert exchange.status in (400, 404), exchange.describe()
    assert exchange.response_json["error"]["code"] == 100
    # Deleting again: also None (the answer is an error, not 200).
    assert messenger.delete_media(media_id) is None


# --- text and read ------------------------------------------------------------------------


def test_send_text(messenger: WhatsApp, tap: Tap, channel: Channel, compat_server: Server) -> None:
    mark = tap.mark()
    answer = messenger.send_message("Hello from heyoo", CUSTOMER)
    exchange = only(tap.since(mark), "POST", f"/v14.0/{channel.phone_number_id}/messages")
    assert_bearer(exchange, channel)
    assert exchange.headers["content-type"] == "application/json"
    assert exchange.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "text",
        "text": {"preview_url": True, "body": "Hello from heyoo"},
    }
    wamid = assert_sent(answer, exchange, compat_server)
    assert stored(compat_server, wamid)["payload"]["text"]["body"] == "Hello from heyoo"


def test_mark_as_read(
    messenger: WhatsApp, tap: Tap, channel: Channel, compat_server: Server
) -> None:
    wamid = inbound_text(compat_server, channel, "hello heyoo")
    assert stored(compat_server, wamid)["state"] == "received"
    mark = tap.mark()
    assert messenger.mark_as_read(wamid) == {"success": True}
    # heyoo sends mark-as-read on its v15 base URL.
    exchange = only(tap.since(mark), "POST", f"/v15.0/{channel.phone_number_id}/messages")
    assert_bearer(exchange, channel)
    assert exchange.json == {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
    assert stored(compat_server, wamid)["state"] == "read"


# --- heyoo's webhook helpers on wabox's payloads ------------------------------------------


def test_heyoo_reads_wabox_webhooks(
    messenger: WhatsApp, channel: Channel, receiver: Receiver, compat_server: Server
) -> None:
    answer = messenger.send_message("status please", CUSTOMER)
    wamid = answer["messages"][0]["id"]
    deliveries = receiver.wait_for(wamid, 3)
    assert [messenger.get_delivery(d.json) for d in deliveries] == ["sent", "delivered", "read"]
    assert all(messenger.changed_field(d.json) == "messages" for d in deliveries)
    assert not any(messenger.is_message(d.json) for d in deliveries)

    inbound_id = inbound_text(compat_server, channel, "Is my order on its way?", name="Sheena")
    body = wait_for_inbound_webhook(receiver, inbound_id).json
    assert messenger.is_message(body)
    assert messenger.get_message_type(body) == "text"
    assert messenger.get_message(body) == "Is my order on its way?"
    assert messenger.get_message_id(body) == inbound_id
    assert messenger.get_mobile(body) == CUSTOMER
    assert messenger.get_name(body) == "Sheena"
    assert messenger.get_message_timestamp(body).isdigit()
