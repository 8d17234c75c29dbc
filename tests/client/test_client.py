"""``wabox.client`` against a live wabox, in both dialects: every method, every error."""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from tests.conftest import API_KEY, Server
from tests.delivery.receiver import Receiver
from tests.links.origin import Origin
from wabox.client import (
    AsyncClient,
    AuthenticationError,
    Client,
    HeaderMedia,
    InvalidRequest,
    MediaDownloadError,
    MediaUploadError,
    NotFound,
    PermissionDenied,
    RateLimited,
    RecipientError,
    ReEngagementRequired,
    ServiceUnavailable,
    TemplateError,
    TemplateNotFound,
    WhatsAppError,
    parse_webhook,
    verify_handshake,
    verify_signature,
)
from wabox.client.errors import from_response
from wabox.samples import sample_path

TO = "16505553300"
JPEG = sample_path("image.jpg")


def stored(server: Server, wamid: str) -> dict[str, Any]:
    with server.admin() as admin:
        found = admin.get("/sandbox/messages", params={"limit": 1000}).json()["messages"]
    return dict(next(m for m in found if m["wamid"] == wamid))


def test_upload_from_a_path_bytes_or_a_file_with_progress(wa: Client) -> None:
    seen: list[tuple[int, int | None]] = []
    by_path = wa.upload_media(JPEG, progress=lambda sent, total: seen.append((sent, total)))
    size = JPEG.stat().st_size
    assert seen and seen[-1] == (size, size)
    assert all(a[0] < b[0] for a, b in itertools.pairwise(seen))
    by_bytes = wa.upload_media(JPEG.read_bytes())  # no name: the MIME type from the bytes
    with JPEG.open("rb") as file:
        by_file = wa.upload_media(file, filename="photo.jpg")
    infos = [wa.get_media(media_id) for media_id in (by_path, by_bytes, by_file)]
    assert {(i.mime_type, i.file_size) for i in infos} == {("image/jpeg", size)}
    pdf = wa.upload_media(io.BytesIO(sample_path("document.pdf").read_bytes()))
    assert wa.get_media(pdf).mime_type == "application/pdf"


def test_every_media_kind_by_path_id_and_link(wa: Client, server: Server, origin: Origin) -> None:
    image = wa.send_image(TO, path=JPEG, caption="from a path")
    payload = stored(server, image.id)["payload"]
    assert payload["image"]["caption"] == "from a path"
    assert payload["image"]["id"].isdigit()  # uploaded first, then sent by ID
    assert image.wa_id == TO and image.input == TO
    by_id = wa.send_image(TO, media_id=payload["image"]["id"])
    assert stored(server, by_id.id)["payload"]["image"] == {"id": payload["image"]["id"]}
    link = origin.serve("/client.jpg", JPEG.read_bytes(), headers={"Content-Type": "image/jpeg"})
    by_link = wa.send_image(TO, link=link)
    assert stored(server, by_link.id)["payload"]["image"] == {"link": link}
    document = wa.send_document(TO, path=sample_path("document.pdf"), caption="invoice")
    assert stored(server, document.id)["payload"]["document"]["filename"] == "document.pdf"
    voice = wa.send_audio(TO, path=sample_path("voice.ogg"), voice=True)
    assert stored(server, voice.id)["payload"]["audio"]["voice"] is True
    video = wa.send_video(TO, path=sample_path("video.mp4"))
    sticker = wa.send_sticker(TO, path=sample_path("sticker.webp"))
    for sent in (image, by_id, by_link, document, voice, video, sticker):
        assert sent.id.startswith("wamid.")
    with pytest.raises(ValueError, match="exactly one"):
        wa.send_image(TO, media_id="1", link="https://x/y.jpg")
    with pytest.raises(ValueError, match="exactly one"):
        wa.send_video(TO)


def test_get_download_and_delete(wa: Client, tmp_path: Path) -> None:
    media_id = wa.upload_media(JPEG)
    info = wa.get_media(media_id)
    assert info.id == media_id and info.file_size == JPEG.stat().st_size
    assert wa.download_media(media_id) == JPEG.read_bytes()
    saved = wa.download_media(info.url, to=tmp_path / "copy.jpg")
    assert isinstance(saved, Path) and saved.read_bytes() == JPEG.read_bytes()
    sink = io.BytesIO()
    wa.download_media(media_id, to=sink)
    assert sink.getvalue() == JPEG.read_bytes()
    assert wa.delete_media(media_id) is True
    with pytest.raises(NotFound) as missing:
        wa.get_media(media_id)
    assert (missing.value.code, missing.value.subcode) == (100, 33)
    assert missing.value.fbtrace_id and missing.value.http_status == 400


def test_360dialog_downloads_rewrite_the_host(server: Server) -> None:
    """The URL names Meta's CDN host; 360dialog clients fetch it from the API's own host."""
    with Client.for_360dialog(API_KEY, base_url=server.base_url) as wa:
        info = wa.get_media(wa.upload_media(JPEG))
        foreign = "https://lookaside.fbsbx.com" + info.url.split(server.base_url, 1)[1]
        assert wa.download_media(foreign) == JPEG.read_bytes()


def test_text_template_reaction_and_mark_read(wa: Client, server: Server) -> None:
    with server.admin() as admin:
        admin.post(
            "/sandbox/templates",
            json={"name": "client_receipt", "language": "en_US", "category": "UTILITY",
                  "components": [{"type": "HEADER", "format": "DOCUMENT"},
                                 {"type": "BODY", "text": "Receipt for {{1}}"}]},
        )  # fmt: skip
        said = admin.post("/sandbox/inbound", json={"from": TO, "text": {"body": "hi"}}).json()
    text = wa.send_text(TO, "Hello\nthere", reply_to=said["id"])
    assert stored(server, text.id)["payload"]["context"] == {"message_id": said["id"]}
    pdf = wa.upload_media(sample_path("document.pdf"))
    template = wa.send_template(
        TO,
        "client_receipt",
        body_params=["Ada"],
        header=HeaderMedia("document", id=pdf, filename="receipt.pdf"),
    )
    assert stored(server, template.id)["rendered"]["body"] == "Receipt for Ada"
    reaction = wa.send_reaction(TO, text.id, "👍")
    assert stored(server, reaction.id)["payload"]["reaction"]["emoji"] == "👍"
    assert wa.mark_read(said["id"], typing=True) is True
    assert stored(server, said["id"])["state"] == "read"


def test_a_customer_known_by_bsuid_is_sent_to_as_recipient(wa: Client, server: Server) -> None:
    """A BSUID given as the client's ``to`` goes as ``recipient``, as Meta wants it
    ("Business-scoped user IDs": BSUIDs in ``to`` are not read as BSUIDs)."""
    with server.admin() as admin:
        admin.post("/sandbox/inbound", json={"username": "client.user", "text": {"body": "hi"}})
        (customer,) = [
            c["wa_id"]
            for c in admin.get("/sandbox/conversations").json()["conversations"]
            if c["username"] == "client.user"
        ]
    sent = wa.send_text(customer, "Hello by BSUID")
    assert (sent.user_id, sent.wa_id, sent.input) == (customer, "", customer)
    assert "to" not in stored(server, sent.id)["payload"]
    assert stored(server, sent.id)["payload"]["recipient"] == customer


def test_typed_errors(wa: Client, server: Server) -> None:
    with pytest.raises(InvalidRequest) as unknown:
        wa.send_image(TO, media_id="999000999")
    assert unknown.value.code == 100 and "not a valid" in unknown.value.details
    with pytest.raises(TemplateNotFound) as no_template:
        wa.send_template(TO, "no_such_template")
    assert no_template.value.http_status == 404 and no_template.value.code == 132001
    with server.admin() as admin:
        admin.post(
            "/sandbox/templates",
            json={"name": "client_one", "language": "en_US", "category": "UTILITY",
                  "components": [{"type": "BODY", "text": "Hi {{1}}"}]},
        )  # fmt: skip
    with pytest.raises(TemplateError) as mismatch:
        wa.send_template(TO, "client_one", body_params=["a", "b"])
    assert mismatch.value.code == 132000 and not isinstance(mismatch.value, TemplateNotFound)
    with pytest.raises(InvalidRequest) as unread:
        wa.mark_read("wamid.nothing")
    assert unread.value.code == 100


def test_a_wrong_key_is_an_authentication_error(server: Server, channel: dict[str, Any]) -> None:
    clients = (
        Client.for_360dialog("wrong-key-0000", base_url=server.base_url),
        Client.for_cloud_api(
            "wrong-key-0000", channel["phone_number_id"], base_url=server.base_url
        ),
    )
    for client in clients:
        with client, pytest.raises(AuthenticationError) as denied:
            client.send_text(TO, "hi")
        assert denied.value.http_status == 401


def limited_channel(server: Server, **settings: Any) -> str:
    with server.admin() as admin:
        created = admin.post("/sandbox/channels", json={"settings": settings})
    assert created.status_code == 201, created.text
    return str(created.json()["api_key"])


def test_rate_limits_raise_with_a_hint_and_throughput_is_retried(server: Server) -> None:
    key = limited_channel(server, throughput=2, pair_rate_limit=False)
    with Client.for_360dialog(key, base_url=server.base_url, retries=0) as once:
        with pytest.raises(RateLimited) as limited:
            for n in range(3):
                once.send_text(f"1650555340{n}", "hi")
        assert (limited.value.code, limited.value.retry_after) == (130429, 1.0)
    with Client.for_360dialog(key, base_url=server.base_url, retries=4) as patient:
        started = time.monotonic()
        sent = [patient.send_text(f"1650555341{n}", "hi") for n in range(4)]
        assert len({s.id for s in sent}) == 4
        assert time.monotonic() - started >= 0.25  # it waited instead of failing
    pair = limited_channel(server, throughput=None, pair_rate_limit=True)
    with Client.for_360dialog(pair, base_url=server.base_url) as wa:
        for _ in range(45):
            wa.send_text("16505553420", "hi")
        with pytest.raises(RateLimited) as paired:
            wa.send_text("16505553420", "one too many")
        assert (paired.value.code, paired.value.retry_after) == (131056, 6.0)


class Flaky(BaseHTTPRequestHandler):
    """Answers 131000 ("Something went wrong") to the first ``failures`` requests."""

    failures = 2
    seen: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.seen.append(self.path)
        if len(self.seen) <= self.failures:
            body = {"error": {"message": "(#131000) Something went wrong", "code": 131000,
                              "type": "OAuthException", "fbtrace_id": "trace"}}  # fmt: skip
            status = 500
        else:
            body = {"id": "123", "url": "http://x/y", "mime_type": "image/jpeg",
                    "sha256": "ab", "file_size": 3}  # fmt: skip
            status = 200
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextlib.contextmanager
def flaky_server(failures: int) -> Iterator[str]:
    Flaky.failures, Flaky.seen = failures, []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_transient_errors_are_retried_with_backoff_then_raised() -> None:
    with flaky_server(2) as url, Client.for_360dialog("k", base_url=url, retries=2) as wa:
        assert wa.get_media("123").file_size == 3
        assert len(Flaky.seen) == 3
    with flaky_server(5) as url, Client.for_360dialog("k", base_url=url, retries=2) as wa:
        with pytest.raises(ServiceUnavailable) as down:
            wa.get_media("123")
        assert down.value.code == 131000 and down.value.fbtrace_id == "trace"
        assert len(Flaky.seen) == 3


def test_webhooks_signature_handshake_and_parsing(
    server: Server, channel: dict[str, Any], receiver: Receiver
) -> None:
    secret = "client-secret-42"
    with server.admin() as admin:
        created = admin.post(
            "/sandbox/channels",
            json={"settings": {"webhook": {"url": receiver.url, "app_secret": secret,
                                           "verify_token": "let-me-in"}}},
        )  # fmt: skip
    assert created.status_code == 201, created.text
    other = created.json()
    with Client.for_360dialog(other["api_key"], base_url=server.base_url) as wa:
        sent = wa.send_text(TO, "watch the webhooks")
        assert "read" in _wait_statuses(receiver, sent.id)
        with server.admin() as admin:
            admin.post(
                "/sandbox/inbound",
                json={"from": TO, "channel": other["phone_number_id"], "name": "Ada",
                      "type": "image", "image": {"caption": "look"}},
            )  # fmt: skip
        posts = _wait_posts(receiver, lambda v: "messages" in v)
        for post in receiver.received:
            header = post.headers.get("X-Hub-Signature-256") or post.headers.get(
                "x-hub-signature-256"
            )
            assert verify_signature(post.body, header, secret)
            assert not verify_signature(post.body + b" ", header, secret)
            assert not verify_signature(post.body, header, "another-secret")
        statuses = [
            s for post in receiver.for_message(sent.id) for e in parse_webhook(post.body)
            for s in e.statuses
        ]  # fmt: skip
        assert [s.status for s in statuses][:3] == ["sent", "delivered", "read"]
        assert statuses[0].pricing is not None and statuses[0].pricing.category == "service"
        (event,) = parse_webhook(posts[0].body)
        assert event.phone_number_id == other["phone_number_id"]
        (inbound,) = event.messages
        assert (inbound.type, inbound.from_, inbound.profile_name) == ("image", TO, "Ada")
        assert inbound.media is not None and inbound.media.caption == "look"
        assert wa.download_media(inbound.media.id) == JPEG.read_bytes()
    query = {"hub.mode": "subscribe", "hub.verify_token": "let-me-in", "hub.challenge": "42"}
    assert verify_handshake(query, "let-me-in") == "42"
    assert verify_handshake({**query, "hub.verify_token": "nope"}, "let-me-in") is None
    with pytest.raises(ValueError):
        parse_webhook(b'{"object": "page"}')


def test_async_failures_become_typed_errors(
    server: Server, receiver: Receiver, origin: Origin
) -> None:
    """131047 and 131053 arrive in a failed status; ``exception()`` gives their class."""
    with server.admin() as admin:
        created = admin.post(
            "/sandbox/channels",
            json={"settings": {"webhook": {"url": receiver.url}, "enforce_window": True}},
        )
    key = created.json()["api_key"]
    with Client.for_360dialog(key, base_url=server.base_url) as wa:
        closed = wa.send_text("16505553500", "nobody wrote")
        with server.admin() as admin:
            admin.patch(
                f"/sandbox/channels/{created.json()['phone_number_id']}",
                json={"settings": {"enforce_window": False}},
            )
        broken = wa.send_image("16505553500", link=origin.serve("/nope.jpg", b"", status=404))
    failures = {}
    for wamid in (closed.id, broken.id):
        _wait_statuses(receiver, wamid, "failed")
        (post,) = [p for p in receiver.for_message(wamid) if p.status["status"] == "failed"]
        (status,) = parse_webhook(post.body)[0].statuses
        failures[wamid] = status.errors[0].exception()
    assert isinstance(failures[closed.id], ReEngagementRequired)
    assert failures[closed.id].code == 131047
    assert isinstance(failures[broken.id], MediaUploadError)
    assert failures[broken.id].code == 131053


def _wait_statuses(receiver: Receiver, wamid: str, wanted: str = "read") -> list[str]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        found = receiver.statuses(wamid)
        if wanted in found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no {wanted} status for {wamid}: {receiver.statuses(wamid)}")


def _wait_posts(receiver: Receiver, check: Any) -> list[Any]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        found = [
            r for r in list(receiver.received)
            if check(r.json["entry"][0]["changes"][0]["value"])
        ]  # fmt: skip
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("no such webhook")


def test_the_async_client(server: Server, channel: dict[str, Any], tmp_path: Path) -> None:
    async def run() -> None:
        async with AsyncClient.for_cloud_api(
            API_KEY, channel["phone_number_id"], base_url=server.base_url, version="v21.0"
        ) as wa:
            sent = await wa.send_document(TO, path=sample_path("document.pdf"))
            media_id = stored(server, sent.id)["payload"]["document"]["id"]
            info = await wa.get_media(media_id)
            assert info.mime_type == "application/pdf"
            data = await wa.download_media(media_id)
            assert data == sample_path("document.pdf").read_bytes()
            path = await wa.download_media(info.url, to=tmp_path / "a.pdf")
            assert isinstance(path, Path) and path.stat().st_size == info.file_size
            assert await wa.delete_media(media_id) is True
            with pytest.raises(NotFound):
                await wa.get_media(media_id)
            text = await wa.send_text(TO, "async hello")
            assert stored(server, text.id)["payload"]["text"]["body"] == "async hello"

    asyncio.run(run())


def test_async_with_closes_with_aclose_and_close_is_its_alias() -> None:
    """httpx's pairing: sync ``close``, async ``aclose``; ``close`` stays for old callers."""
    closed: list[str] = []

    class Watched(AsyncClient):
        async def aclose(self) -> None:
            closed.append("aclose")
            await super().aclose()

    async def run() -> None:
        async with Watched.for_360dialog("k", base_url="http://127.0.0.1:9") as wa:
            pass
        assert closed == ["aclose"] and wa._http.is_closed
        old = Watched.for_360dialog("k", base_url="http://127.0.0.1:9")
        await old.close()
        assert closed == ["aclose", "aclose"] and old._http.is_closed

    asyncio.run(run())


def test_the_client_imports_without_the_server_dependencies() -> None:
    """``import wabox.client`` works where only httpx is installed: the server's libraries
    are made unimportable in a fresh interpreter."""
    blocked = ["starlette", "uvicorn", "sqlalchemy", "aiosqlite", "asyncpg", "alembic",
               "msgspec", "obstore", "aiohttp", "PIL", "mutagen", "pymediainfo", "jinja2",
               "redis", "prometheus_client", "multipart", "typer", "rich", "limits"]  # fmt: skip
    code = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
import wabox.client
from wabox.client import Client, parse_webhook
client = Client.for_360dialog("k", base_url="http://127.0.0.1:9")
assert client.target.download_url("https://lookaside.fbsbx.com/a/?b=1") == "http://127.0.0.1:9/a/?b=1"
loaded = sorted(m for m in sys.modules if m.startswith("wabox."))
print(loaded)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    loaded = eval(result.stdout)  # a list literal printed by the child
    assert all(name.startswith("wabox.client") for name in loaded), loaded
    assert httpx.__name__ == "httpx"


def test_a_recipient_not_on_whatsapp_is_a_recipient_error(
    server: Server, receiver: Receiver
) -> None:
    with server.admin() as admin:
        created = admin.post(
            "/sandbox/channels", json={"settings": {"webhook": {"url": receiver.url}}}
        ).json()
        admin.post(
            "/sandbox/scenarios",
            json={"match": "16505553600", "channel": created["phone_number_id"],
                  "not_on_whatsapp": True},
        )  # fmt: skip
    with Client.for_360dialog(created["api_key"], base_url=server.base_url) as wa:
        sent = wa.send_text("16505553600", "anyone there?")
    _wait_statuses(receiver, sent.id, "failed")
    (post,) = [p for p in receiver.for_message(sent.id) if p.status["status"] == "failed"]
    error = parse_webhook(post.body)[0].statuses[0].errors[0].exception()
    assert isinstance(error, RecipientError) and error.code == 131026


@pytest.mark.parametrize(
    ("status", "code", "subcode", "expected"),
    [
        (403, 10, None, PermissionDenied),
        (403, 200, None, PermissionDenied),
        (400, 131052, None, MediaDownloadError),
        (400, 132016, None, TemplateError),
        (400, 100, 33, NotFound),
        (503, 2, None, ServiceUnavailable),
        (400, 4, None, RateLimited),
        (401, 190, 463, AuthenticationError),
        (400, 131999, None, WhatsAppError),
    ],
)
def test_each_code_family_has_its_class(
    status: int, code: int, subcode: int | None, expected: type[WhatsAppError]
) -> None:
    body: dict[str, Any] = {
        "error": {"message": f"(#{code}) Something", "type": "OAuthException", "code": code,
                  "error_data": {"messaging_product": "whatsapp", "details": "why"},
                  "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam"},
    }  # fmt: skip
    if subcode is not None:
        body["error"]["error_subcode"] = subcode
    error = from_response(status, body)
    assert type(error) is expected
    assert (error.code, error.title, error.details, error.http_status) == (
        code, "Something", "why", status,
    )  # fmt: skip
    assert error.fbtrace_id == "Az8or2yhqkZfEZ-_4Qn_Bam"
    plain = from_response(401, {"error": "Invalid api_key"})  # 360dialog's own body
    assert isinstance(plain, AuthenticationError) and plain.title == "Invalid api_key"


def test_mime_types_from_the_name_else_the_first_bytes() -> None:
    from wabox.client._core import detect_mime

    assert detect_mime("note.opus", b"") == "audio/ogg"  # the standard table says audio/opus
    assert detect_mime("sticker.webp", b"") == "image/webp"
    assert detect_mime(None, JPEG.read_bytes()[:64]) == "image/jpeg"
    assert detect_mime(None, b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert detect_mime(None, b"\x00\x01") == "application/octet-stream"
