"""pywa, unchanged from PyPI, against wabox.

The only change to the client is the documented redirection: after constructing
``pywa.WhatsApp``, ``wa.api._session.base_url`` is set to ``http://127.0.0.1:<port>/v23.0``
(the port is the recording tap in front of wabox, see ``tap.py``). Everything else is pywa's
public API, and each test also checks the request pywa actually sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pywa import WhatsApp
from pywa.errors import WhatsAppError
from pywa.handlers import MessageHandler, MessageStatusHandler, RawUpdateHandler
from pywa.types import Message, MessageStatus, MessageStatusType, MessageType
from pywa.types.media import Media, MediaURL
from pywa.utils import HUB_SIG

from tests.compat.conftest import (
    APP_SECRET,
    CUSTOMER,
    IMAGE,
    IMAGE_BYTES,
    Channel,
    inbound_text,
    new_channel,
    wait_for_inbound_webhook,
    wait_for_state,
)
from tests.compat.tap import Exchange, Tap
from tests.conftest import Server
from tests.delivery.receiver import Receiver
from tests.helpers import eventually, free_port, stored
from tests.links.origin import Origin

VERSION = "v23.0"


def pywa_client(tap: Tap, channel: Channel) -> WhatsApp:
    wa = WhatsApp(phone_id=channel.phone_number_id, token=channel.api_key)
    wa.api._session.base_url = f"{tap.url}/{VERSION}"
    return wa


@pytest.fixture
def wa(tap: Tap, channel: Channel) -> Iterator[WhatsApp]:
    client = pywa_client(tap, channel)
    try:
        yield client
    finally:
        client.api._session.close()


def only(exchanges: list[Exchange], method: str, path: str) -> Exchange:
    found = [e for e in exchanges if e.method == method and e.path == path]
    seen = "\n".join(f"{e.method} {e.target} -> {e.status}" for e in exchanges)
    assert len(found) == 1, f"expected one {method} {path}; pywa sent:\n{seen}"
    return found[0]


def assert_bearer(exchange: Exchange, channel: Channel) -> None:
    assert exchange.headers.get("authorization") == f"Bearer {channel.api_key}", exchange.headers


def upload(wa: WhatsApp, tap: Tap, channel: Channel) -> Media:
    mark = tap.mark()
    media = wa.upload_media(media=IMAGE)
    sent = tap.since(mark)
    # pywa posts the file to the number's /media edge in one request (no upload session).
    assert [(e.method, e.path) for e in sent] == [
        ("POST", f"/{VERSION}/{channel.phone_number_id}/media")
    ], [e.describe() for e in sent]
    exchange = sent[0]
    assert exchange.status == 200, exchange.describe()
    assert_bearer(exchange, channel)
    assert exchange.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert IMAGE_BYTES in exchange.body
    assert b'name="messaging_product"\r\n\r\nwhatsapp' in exchange.body
    assert b"Content-Type: image/jpeg" in exchange.body
    assert isinstance(media, Media)
    assert media.id == exchange.response_json["id"] and media.id.isdigit()
    assert media.uploaded_to == channel.phone_number_id
    return media


# --- media --------------------------------------------------------------------------------


def test_upload_media_posts_the_file_to_the_numbers_media_edge(
    wa: WhatsApp, tap: Tap, channel: Channel
) -> None:
    media = upload(wa, tap, channel)
    assert media.filename == IMAGE.name


def test_send_uploaded_image_by_id(
    wa: WhatsApp, tap: Tap, channel: Channel, compat_server: Server
) -> None:
    media = upload(wa, tap, channel)
    for image in (media, media.id):  # a Media object, then the bare ID string
        mark = tap.mark()
        sent = wa.send_image(to=CUSTOMER, image=image, caption="by id")
        exchange = only(tap.since(mark), "POST", f"/{VERSION}/{channel.phone_number_id}/messages")
        assert_bearer(exchange, channel)
        assert exchange.json == {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": CUSTOMER,
            "type": "image",
            "image": {"id": media.id, "caption": "by id"},
        }
        assert exchange.status == 200, exchange.describe()
        assert sent.id.startswith("wamid.")
        assert sent.input == CUSTOMER
        row = wait_for_state(compat_server, sent.id, ("sent", "delivered", "read"))
        assert row["state"] in ("sent", "delivered", "read"), row
        assert row["channel"] == channel.phone_number_id
        assert row["payload"]["image"]["id"] == media.id


def test_send_image_by_link(
    wa: WhatsApp, tap: Tap, channel: Channel, compat_server: Server, origin: Origin
) -> None:
    link = origin.serve("/pywa/cat.jpg", IMAGE_BYTES, headers={"Content-Type": "image/jpeg"})
    mark = tap.mark()
    sent = wa.send_image(to=CUSTOMER, image=link, caption="by link")
    exchange = only(tap.since(mark), "POST", f"/{VERSION}/{channel.phone_number_id}/messages")
    # pywa passes the URL on as a link (it does not download and re-upload it).
    assert exchange.json["image"] == {"link": link, "caption": "by link"}, exchange.describe()
    assert len(tap.since(mark)) == 1
    assert exchange.status == 200, exchange.describe()
    row = wait_for_state(compat_server, sent.id, ("sent", "delivered", "read"))
    assert row["state"] in ("sent", "delivered", "read"), row
    (outcome,) = row["media"]
    assert outcome["outcome"] == "fetched" and outcome["link"] == link, outcome
    assert origin.count("/pywa/cat.jpg") == 1


def test_get_media_url_and_download(
    wa: WhatsApp, tap: Tap, channel: Channel, tmp_path: Path
) -> None:
    media = upload(wa, tap, channel)
    mark = tap.mark()
    info = wa.get_media_url(media_id=media.id)
    exchange = only(tap.since(mark), "GET", f"/{VERSION}/{media.id}")
    assert_bearer(exchange, channel)
    assert exchange.status == 200, exchange.describe()
    assert isinstance(info, MediaURL)
    assert info.id == media.id
    assert info.mime_type == "image/jpeg"
    assert info.file_size == len(IMAGE_BYTES)
    assert info.sha256 == hashlib.sha256(IMAGE_BYTES).hexdigest()
    # The URL names this server as the client reached it (here: the tap).
    assert info.url.startswith(f"{tap.url}/"), info.url

    mark = tap.mark()
    saved = wa.download_media(url=info.url, path=tmp_path)
    download = only(tap.since(mark), "GET", "/whatsapp_business/attachments/")
    assert_bearer(download, channel)  # pywa sends its token with the download, as on Meta
    assert download.status == 200, download.describe()
    assert saved.parent == tmp_path
    assert saved.read_bytes() == IMAGE_BYTES
    assert wa.get_media_bytes(url=info.url) == IMAGE_BYTES
    # The Media object's own helpers go the same way (get the URL, then download).
    assert media.get_bytes() == IMAGE_BYTES


def test_download_media_saves_under_the_uploaded_file_name(
    wa: WhatsApp, tap: Tap, channel: Channel, tmp_path: Path
) -> None:
    """Without ``filename=``, pywa names the file from the download's Content-Disposition
    (``pywa._helpers.get_filename_from_httpx_response_headers``: the text after the first
    ``filename=``, with quotes stripped from its ends)."""
    media = upload(wa, tap, channel)
    info = wa.get_media_url(media_id=media.id)
    mark = tap.mark()
    saved = wa.download_media(url=info.url, path=tmp_path)
    download = only(tap.since(mark), "GET", "/whatsapp_business/attachments/")
    disposition = download.response_headers.get("content-disposition")
    assert saved.name == IMAGE.name, (
        f"pywa saved the download as {saved.name!r}; wabox sent "
        f"Content-Disposition: {disposition!r}"
    )
    assert saved.read_bytes() == IMAGE_BYTES


def test_delete_media_then_getting_it_fails(wa: WhatsApp, tap: Tap, channel: Channel) -> None:
    media = upload(wa, tap, channel)
    mark = tap.mark()
    assert wa.delete_media(media_id=media.id).success is True
    exchange = only(tap.since(mark), "DELETE", f"/{VERSION}/{media.id}")
    assert_bearer(exchange, channel)
    assert exchange.query == {}
    with pytest.raises(WhatsAppError) as raised:
        wa.get_media_url(media_id=media.id)
    assert raised.value.code == 100
    assert raised.value.status_code in (400, 404)
    assert media.id in raised.value.message

    # pywa's phone_id=None sends ?phone_number_id=<the client's number> (Meta's guard).
    second = upload(wa, tap, channel)
    mark = tap.mark()
    assert second.delete(phone_id=None).success is True
    exchange = only(tap.since(mark), "DELETE", f"/{VERSION}/{second.id}")
    assert exchange.query == {"phone_number_id": [channel.phone_number_id]}
    with pytest.raises(WhatsAppError) as raised:
        second.get_bytes()
    assert raised.value.code == 100


# --- text and read ------------------------------------------------------------------------


def test_send_text(wa: WhatsApp, tap: Tap, channel: Channel, compat_server: Server) -> None:
    mark = tap.mark()
    sent = wa.send_message(to=CUSTOMER, text="Hello from pywa")
    exchange = only(tap.since(mark), "POST", f"/{VERSION}/{channel.phone_number_id}/messages")
    assert exchange.headers["content-type"] == "application/json"
    assert exchange.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "text",
        "text": {"body": "Hello from pywa", "preview_url": False},
    }
    assert exchange.status == 200, exchange.describe()
    assert sent.id == exchange.response_json["messages"][0]["id"]
    assert sent.id.startswith("wamid.")
    assert sent.chat.id == CUSTOMER
    row = stored(compat_server, sent.id)
    assert row["type"] == "text" and row["payload"]["text"]["body"] == "Hello from pywa"


def test_mark_as_read(wa: WhatsApp, tap: Tap, channel: Channel, compat_server: Server) -> None:
    wamid = inbound_text(compat_server, channel, "did you get my photo?")
    assert stored(compat_server, wamid)["state"] == "received"
    mark = tap.mark()
    assert wa.mark_message_as_read(message_id=wamid).success is True
    exchange = only(tap.since(mark), "POST", f"/{VERSION}/{channel.phone_number_id}/messages")
    assert exchange.json == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": wamid,
    }
    assert stored(compat_server, wamid)["state"] == "read"
    # A wamid this number never received is an error pywa raises.
    with pytest.raises(WhatsAppError) as raised:
        wa.mark_message_as_read(message_id="wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUFBQUFBQUFB")
    assert raised.value.code == 100


# --- webhooks through pywa's own handler --------------------------------------------------


def pywa_receiver(channel: Channel) -> tuple[WhatsApp, list[Any]]:
    """A pywa client as a bot runs it: its webhook handler validates the signature with
    ``app_secret`` and drops updates for another WABA or phone number (``filter_updates``)."""
    wa = WhatsApp(
        phone_id=channel.phone_number_id,
        token=channel.api_key,
        server=None,
        verify_token="compat-verify",
        app_secret=APP_SECRET,
        waba_id=channel.waba_id,
    )
    got: list[Any] = []
    wa.add_handlers(
        MessageStatusHandler(lambda _, status: got.append(status)),
        MessageHandler(lambda _, message: got.append(message)),
    )
    return wa, got


def feed(wa: WhatsApp, got: list[Any], body: bytes, signature: str | None) -> Any:
    """What pywa's webhook route does with one POST; returns the update pywa built."""
    assert wa.webhook_update_validator(update=body, hmac_header=signature) is None, signature
    before = len(got)
    assert wa.webhook_update_handler(update=body) == ("ok", 200)
    assert len(got) == before + 1, f"pywa built no update from {body!r}"
    return got[-1]


def test_pywa_parses_wabox_webhooks_with_signature_validation(
    wa: WhatsApp, channel: Channel, receiver: Receiver, compat_server: Server
) -> None:
    sent = wa.send_message(to=CUSTOMER, text="status please")
    deliveries = receiver.wait_for(sent.id, 3)
    assert [d.status["status"] for d in deliveries] == ["sent", "delivered", "read"]
    inbound_id = inbound_text(compat_server, channel, "Hi! Is my order on its way?")
    inbound = wait_for_inbound_webhook(receiver, inbound_id)

    bot, got = pywa_receiver(channel)
    parsed = []
    for delivery in deliveries:
        signature = delivery.headers.get(HUB_SIG.lower())
        assert signature is not None and signature.startswith("sha256="), delivery.headers
        update = feed(bot, got, delivery.body, signature)
        assert isinstance(update, MessageStatus), update
        parsed.append(update)
    assert [u.status for u in parsed] == [
        MessageStatusType.SENT,
        MessageStatusType.DELIVERED,
        MessageStatusType.READ,
    ]
    assert {u.id for u in parsed} == {sent.id}
    assert all(u.from_user.wa_id == CUSTOMER for u in parsed)
    assert all(u.error is None for u in parsed)
    assert parsed[0].timestamp <= parsed[1].timestamp <= parsed[2].timestamp

    message = feed(bot, got, inbound.body, inbound.headers.get(HUB_SIG.lower()))
    assert isinstance(message, Message)
    assert message.type == MessageType.TEXT
    assert message.id == inbound_id
    assert message.text == "Hi! Is my order on its way?"
    assert message.from_user.wa_id == CUSTOMER
    assert message.from_user.name == "Sheena"

    # Validation is really on: a body changed after signing, or no signature, is refused.
    tampered = deliveries[0].body.replace(b'"sent"', b'"read"')
    assert tampered != deliveries[0].body
    signature = deliveries[0].headers[HUB_SIG.lower()]
    assert bot.webhook_update_validator(update=tampered, hmac_header=signature) == (
        "Forbidden",
        403,
    )
    assert bot.webhook_update_validator(update=deliveries[0].body, hmac_header=None) == (
        "Unauthorized",
        401,
    )
    bot.api._session.close()


def test_pywa_downloads_an_inbound_image_from_its_webhook(
    channel: Channel, receiver: Receiver, compat_server: Server, tmp_path: Path
) -> None:
    """A customer's photo: pywa builds ``Message.image`` from wabox's webhook and downloads it
    with the webhook's own ``url`` (pywa uses it for 5 minutes instead of asking again)."""
    with compat_server.admin() as admin:
        response = admin.post(
            "/sandbox/inbound",
            json={
                "channel": channel.phone_number_id,
                "from": CUSTOMER,
                "type": "image",
                "image": {"sample": "image.jpg", "caption": "this one"},
            },
        )
    assert response.status_code == 200, response.text
    wamid = response.json()["id"]
    delivery = wait_for_inbound_webhook(receiver, wamid)
    bot, got = pywa_receiver(channel)
    message = feed(bot, got, delivery.body, delivery.headers.get(HUB_SIG.lower()))
    assert isinstance(message, Message)
    assert message.type == MessageType.IMAGE
    assert message.caption == "this one"
    assert message.image is not None
    assert message.image.id == response.json()["media_id"]
    assert message.image.mime_type == "image/jpeg"
    assert message.image.get_bytes() == IMAGE_BYTES
    assert message.image.download(path=tmp_path).read_bytes() == IMAGE_BYTES
    bot.api._session.close()


# --- pywa's own webhook server as wabox's receiver ----------------------------------------


@contextlib.contextmanager
def running_pywa_server(wa: WhatsApp, port: int) -> Iterator[None]:
    import uvicorn

    config = uvicorn.Config(
        wa._server, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    eventually(lambda: server.started, what="pywa's webhook server starts")
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(10)


def test_pywa_webhook_server_verifies_and_receives_wabox_webhooks(
    compat_server: Server, tap: Tap
) -> None:
    """pywa's own Starlette webhook route (challenge, signature, dispatch) as the callback URL:
    wabox's verification GET must pass pywa's challenge handler, and its signed POSTs must be
    accepted and parsed."""
    from starlette.applications import Starlette

    port = free_port()
    bot = WhatsApp(
        server=Starlette(),
        webhook_endpoint="/pywa-hook",
        verify_token="compat-verify-token",
        app_secret=APP_SECRET,
    )
    updates: list[Any] = []
    raw: list[Any] = []
    bot.add_handlers(
        MessageStatusHandler(lambda _, status: updates.append(status)),
        MessageHandler(lambda _, message: updates.append(message)),
        RawUpdateHandler(lambda _, update: raw.append(update)),
    )
    with running_pywa_server(bot, port):
        channel = new_channel(
            compat_server,
            webhook={
                "url": f"http://127.0.0.1:{port}/pywa-hook",
                "verify_token": "compat-verify-token",
                "app_secret": APP_SECRET,
            },
        )
        # The handshake really went through pywa: a wrong verify token is refused by pywa
        # (403), so wabox refuses the callback URL.
        with compat_server.admin() as admin:
            refused = admin.post(
                "/sandbox/channels",
                json={
                    "settings": {
                        "webhook": {
                            "url": f"http://127.0.0.1:{port}/pywa-hook",
                            "verify_token": "not-pywas-token",
                            "app_secret": APP_SECRET,
                        }
                    }
                },
            )
        assert refused.status_code >= 400, refused.text
        assert "403" in refused.text, refused.text
        wa = pywa_client(tap, channel)
        sent = wa.send_message(to=CUSTOMER, text="through pywa's server")
        inbound_id = inbound_text(compat_server, channel, "and back")

        def handled() -> tuple[list[MessageStatus], list[Message]]:
            statuses = [u for u in updates if isinstance(u, MessageStatus) and u.id == sent.id]
            messages = [u for u in updates if isinstance(u, Message) and u.id == inbound_id]
            assert len(statuses) >= 3 and messages, (updates, raw)
            return statuses, messages

        statuses, messages = eventually(handled, timeout=15)
        wa.api._session.close()
    assert sorted(s.status for s in statuses) == sorted(
        [MessageStatusType.SENT, MessageStatusType.DELIVERED, MessageStatusType.READ]
    ), (updates, raw)
    assert messages[0].text == "and back"
    with compat_server.admin() as admin:
        found = admin.get(
            "/sandbox/webhooks", params={"channel": channel.phone_number_id, "limit": 100}
        ).json()["deliveries"]
    assert found and all(d["state"] == "delivered" for d in found), found


# --- the async client ---------------------------------------------------------------------


def test_async_client_media_text_and_read(
    tap: Tap, channel: Channel, compat_server: Server, origin: Origin, tmp_path: Path
) -> None:
    from pywa_async import WhatsApp as AsyncWhatsApp

    link = origin.serve("/pywa-async/cat.jpg", IMAGE_BYTES, headers={"Content-Type": "image/jpeg"})
    inbound_id = inbound_text(compat_server, channel, "async hello")

    async def scenario() -> dict[str, Any]:
        wa = AsyncWhatsApp(phone_id=channel.phone_number_id, token=channel.api_key)
        wa.api._session.base_url = f"{tap.url}/{VERSION}"
        try:
            media = await wa.upload_media(media=IMAGE)
            by_id = await wa.send_image(to=CUSTOMER, image=media, caption="async id")
            by_link = await wa.send_image(to=CUSTOMER, image=link)
            info = await wa.get_media_url(media_id=media.id)
            saved = await wa.download_media(url=info.url, path=tmp_path)
            deleted = await wa.delete_media(media_id=media.id)
            try:
                await wa.get_media_url(media_id=media.id)
                after_delete: Any = None
            except WhatsAppError as error:
                after_delete = error
            text = await wa.send_message(to=CUSTOMER, text="async text")
            read = await wa.mark_message_as_read(message_id=inbound_id)
        finally:
            await wa.api._session.aclose()
        return {
            "media": media,
            "by_id": by_id,
            "by_link": by_link,
            "info": info,
            "saved": saved,
            "deleted": deleted,
            "after_delete": after_delete,
            "text": text,
            "read": read,
        }

    result = asyncio.run(scenario())
    pnid = channel.phone_number_id
    assert result["media"].id.isdigit()
    assert result["info"].sha256 == hashlib.sha256(IMAGE_BYTES).hexdigest()
    assert Path(result["saved"]).read_bytes() == IMAGE_BYTES
    assert result["deleted"].success is True
    assert isinstance(result["after_delete"], WhatsAppError)
    assert result["after_delete"].code == 100
    assert result["read"].success is True
    assert stored(compat_server, inbound_id)["state"] == "read"
    for key in ("by_id", "by_link", "text"):
        row = wait_for_state(compat_server, result[key].id, ("sent", "delivered", "read"))
        assert row["state"] in ("sent", "delivered", "read"), (key, row)
    paths = [(e.method, e.path) for e in tap.exchanges]
    assert paths == [
        ("POST", f"/{VERSION}/{pnid}/media"),
        ("POST", f"/{VERSION}/{pnid}/messages"),
        ("POST", f"/{VERSION}/{pnid}/messages"),
        ("GET", f"/{VERSION}/{result['media'].id}"),
        ("GET", "/whatsapp_business/attachments/"),
        ("DELETE", f"/{VERSION}/{result['media'].id}"),
        ("GET", f"/{VERSION}/{result['media'].id}"),
        ("POST", f"/{VERSION}/{pnid}/messages"),
        ("POST", f"/{VERSION}/{pnid}/messages"),
    ], paths
    assert tap.exchanges[2].json["image"] == {"link": link}
