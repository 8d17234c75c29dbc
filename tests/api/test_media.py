"""Media in both dialects: upload, retrieve, download (with Range), delete (wire-facts §2)."""

from __future__ import annotations

import hashlib
import io
import secrets
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import obstore
import pytest
from obstore.store import LocalStore, ObjectStore, S3Store
from PIL import Image

from tests.conftest import API_KEY, ChannelInfo, Server, running_server, server_fixture
from tests.delivery.helpers import advance
from tests.helpers import assert_graph_error, eventually, message, register_template, stored
from wabox.media.types import MAX_UPLOAD_BYTES, UPLOAD_TYPES
from wabox.media.urls import signed_query


def jpeg(seed: int = 0) -> bytes:
    image = Image.new("RGB", (32, 24), (seed % 256, 80, 160))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def upload(
    client: httpx.Client,
    path: str,
    content: bytes,
    mime: str | None = "image/jpeg",
    data: dict[str, str] | None = None,
    filename: str = "photo.jpg",
) -> httpx.Response:
    file = (filename, content, mime) if mime is not None else (filename, content)
    fields = {"messaging_product": "whatsapp"} if data is None else data
    return client.post(path, data=fields, files={"file": file})


# The media tests run on the local folder (SQLite, then PostgreSQL) and on S3. Uploads come
# faster than 25/s here; the limit has a test of its own.
server = server_fixture("media", setups=("sqlite", "postgresql", "s3"), WABOX_MEDIA_UPLOAD_RATE="0")


@pytest.fixture(scope="module")
def default_channel(server: Server) -> ChannelInfo:
    return channel_info(server, API_KEY)


@pytest.fixture(scope="module")
def other_channel(server: Server) -> ChannelInfo:
    with server.admin() as admin:
        created = admin.post("/sandbox/channels", json={"name": "other"}).json()
    return channel_info(server, created["api_key"])


def channel_info(server: Server, api_key: str) -> ChannelInfo:
    with server.admin() as admin:
        channels = admin.get("/sandbox/channels").json()["channels"]
    (found,) = [c for c in channels if c["api_key"] == api_key]
    return ChannelInfo(found["phone_number_id"], found["display_phone_number"], api_key)


@pytest.fixture
def d360(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers={"D360-API-KEY": API_KEY}) as client:
        yield client


@pytest.fixture
def cloud(server: Server) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=server.base_url, headers=headers) as client:
        yield client


def blobs(server: Server, kind: str = "blobs/") -> list[str]:
    """The names of the stored blobs (their sha256), or of ``tmp/`` leftovers."""
    media_url = server.env.get("WABOX_MEDIA_URL")
    objects: ObjectStore
    if media_url is None:
        objects = LocalStore(server.data_dir / "media")
    else:
        bucket, _, prefix = media_url.removeprefix("s3://").partition("/")
        objects = S3Store(
            bucket,
            prefix=prefix,
            config={
                "endpoint": server.env["AWS_ENDPOINT_URL"],
                "access_key_id": "test",
                "secret_access_key": "test",
                "region": "us-east-1",
            },
            client_options={"allow_http": True},
        )
    names = [meta["path"] for batch in obstore.list(objects) for meta in batch]
    return sorted(name.rsplit("/", 1)[-1] for name in names if name.startswith(kind))


# --- upload and retrieve ----------------------------------------------------------------------


def test_upload_and_retrieve_in_both_dialects(
    d360: httpx.Client, cloud: httpx.Client, default_channel: ChannelInfo
) -> None:
    content = jpeg(1)
    pnid = default_channel.phone_number_id
    for client, upload_path, get_prefix in (
        (d360, "/media", ""),
        (cloud, f"/v21.0/{pnid}/media", "/v21.0"),
    ):
        response = upload(client, upload_path, content)
        assert response.status_code == 200, response.text
        assert set(response.json()) == {"id"}
        media_id = response.json()["id"]
        assert media_id.isdigit() and len(media_id) >= 15
        info = client.get(f"{get_prefix}/{media_id}")
        assert info.status_code == 200, info.text
        body = info.json()
        assert body == {
            "messaging_product": "whatsapp",
            "url": body["url"],
            "mime_type": "image/jpeg",
            "sha256": hashlib.sha256(content).hexdigest(),
            "file_size": len(content),
            "id": media_id,
        }
        url = urlsplit(body["url"])
        assert url.path == "/whatsapp_business/attachments/"
        assert set(parse_qs(url.query)) == {"mid", "ext", "hash"}


def test_the_file_part_decides_the_media_type_whatever_type_says(
    cloud: httpx.Client, default_channel: ChannelInfo
) -> None:
    """Meta takes the media type from the file part's Content-Type: a ``type`` field that
    disagrees, or is a kind ("image") rather than a MIME type, changes nothing, and a file
    part sent as application/octet-stream is refused whatever ``type`` says (reported
    against Meta: MissaelAnda/laravel-whatsapp#4, "Received file of type
    'application/octet-stream'" with type=image/png; fbsamples/whatsapp-api-examples#10)."""
    path = f"/v18.0/{default_channel.phone_number_id}/media"
    for declared in ("image/jpeg", "image/png", "image", "video/mp4"):
        fields = {"messaging_product": "whatsapp", "type": declared}
        uploaded = upload(cloud, path, jpeg(2), data=fields)
        assert uploaded.status_code == 200, (declared, uploaded.text)
        assert cloud.get(f"/v18.0/{uploaded.json()['id']}").json()["mime_type"] == "image/jpeg"
    untyped = upload(
        cloud,
        path,
        jpeg(2),
        mime="application/octet-stream",
        data={"messaging_product": "whatsapp", "type": "image/png"},
    )
    error = assert_graph_error(untyped, status=400, code=100)
    assert error["message"].endswith("Received file of type 'application/octet-stream'.")


def test_ttl_minutes_is_accepted_and_ignored(
    cloud: httpx.Client, default_channel: ChannelInfo
) -> None:
    """pywa sends ``ttl_minutes`` on uploads for "No Storage" numbers (pywa's
    ``upload_media(..., ttl_minutes=...)``); Meta accepts it, and wabox keeps the media as
    it keeps any upload."""
    path = f"/v18.0/{default_channel.phone_number_id}/media"
    fields = {"messaging_product": "whatsapp", "type": "image/jpeg", "ttl_minutes": "60"}
    uploaded = upload(cloud, path, jpeg(3), data=fields)
    assert uploaded.status_code == 200, uploaded.text
    assert cloud.get(f"/v18.0/{uploaded.json()['id']}").json()["mime_type"] == "image/jpeg"


def test_every_allowed_type_uploads(d360: httpx.Client) -> None:
    for mime in UPLOAD_TYPES:
        response = upload(d360, "/media", b"bytes of " + mime.encode(), mime=mime)
        assert response.status_code == 200, (mime, response.text)


@pytest.mark.parametrize(
    ("mime", "received"),
    [
        ("image/gif", "image/gif"),
        ("audio/ogg; codecs=opus", "audio/ogg; codecs=opus"),
        (None, "application/octet-stream"),
    ],
)
def test_refused_types_name_the_accepted_ones(
    d360: httpx.Client, mime: str | None, received: str
) -> None:
    content = b"GIF89a" if mime == "image/gif" else b"x"
    response = upload(d360, "/media", content, mime=mime, filename="f.bin")
    error = assert_graph_error(response, status=400, code=100)
    assert error["message"] == (
        "(#100) Param file must be a file with one of the following types: "
        + ", ".join(UPLOAD_TYPES)
        + f". Received file of type '{received}'."
    )


@pytest.mark.parametrize(
    ("fields", "contains"),
    [
        ({}, "The parameter messaging_product is required."),
        ({"messaging_product": "sms"}, 'must be one of {WHATSAPP} - got "sms"'),
        ({"messaging_product": "whatsapp", "colour": "red"}, 'Unexpected key "colour"'),
    ],
)
def test_form_field_rules(d360: httpx.Client, fields: dict[str, str], contains: str) -> None:
    assert_graph_error(
        upload(d360, "/media", jpeg(), data=fields), status=400, code=100, contains=contains
    )


def test_a_cloud_upload_may_name_messaging_product_in_the_query_string(
    server: Server, default_channel: ChannelInfo
) -> None:
    """Graph reads a POST's parameters from the query string too (Meta for Developers, Graph
    API, "Using the Graph API"): a multipart body with only the file part is an upload when
    ``messaging_product`` is in the URL. The body wins where both are given."""
    path = f"/v21.0/{default_channel.phone_number_id}/media"
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {default_channel.api_key}"}
    ) as client:
        only_file = client.post(
            path,
            params={"messaging_product": "whatsapp"},
            files={"file": ("photo.jpg", jpeg(), "image/jpeg")},
        )
        assert only_file.status_code == 200, only_file.text
        assert client.get(f"/v21.0/{only_file.json()['id']}").json()["mime_type"] == "image/jpeg"
        assert_graph_error(
            client.post(
                path,
                params={"messaging_product": "whatsapp"},
                data={"messaging_product": "sms"},
                files={"file": ("photo.jpg", jpeg(), "image/jpeg")},
            ),
            status=400,
            code=100,
            contains='got "sms"',
        )
        neither = client.post(path, files={"file": ("photo.jpg", jpeg(), "image/jpeg")})
        assert_graph_error(neither, status=400, code=100, contains="messaging_product is required")


def test_file_is_required_and_must_be_multipart(d360: httpx.Client) -> None:
    no_file = d360.post("/media", data={"messaging_product": "whatsapp"}, files={"x": ("a", b"")})
    assert_graph_error(no_file, status=400, code=100, contains='Unexpected key "x"')
    only_fields = d360.post(
        "/media",
        content=b'--b\r\nContent-Disposition: form-data; name="messaging_product"\r\n'
        b"\r\nwhatsapp\r\n--b--\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert_graph_error(only_fields, status=400, code=100, contains="The parameter file is required")
    json_body = d360.post("/media", json={"messaging_product": "whatsapp"})
    assert_graph_error(json_body, status=400, code=100, contains="multipart/form-data")
    truncated = d360.post(
        "/media",
        content=b'--b\r\nContent-Disposition: form-data; name="file"\r\n'
        b"Content-Type: image/jpeg\r\n\r\nabc",
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert_graph_error(truncated, status=400, code=100, contains="not valid multipart")


def test_too_large_is_refused_before_the_body(server: Server) -> None:
    """A declared Content-Length over the limit is answered before any byte of the body."""
    before = blobs(server)
    head = (
        "POST /media HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"D360-API-KEY: {API_KEY}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {MAX_UPLOAD_BYTES + 10**6}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(head.encode())
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}}"):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 400"), answer
    assert b"too large" in rest
    assert blobs(server) == before


def test_too_large_while_streaming_stores_nothing(server: Server) -> None:
    """A chunked upload (no Content-Length) past 100 MB is cut off and its bytes removed."""

    def body() -> Iterator[bytes]:
        yield (
            b'--b\r\nContent-Disposition: form-data; name="messaging_product"\r\n\r\n'
            b'whatsapp\r\n--b\r\nContent-Disposition: form-data; name="file"; '
            b'filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        )
        chunk = b"\0" * (1024 * 1024)
        for _ in range(101):
            yield chunk
        yield b"\r\n--b--\r\n"

    before = blobs(server)
    with httpx.Client(base_url=server.base_url, headers={"D360-API-KEY": API_KEY}) as client:
        response = client.post(
            "/media",
            content=body(),
            headers={"Content-Type": "multipart/form-data; boundary=b"},
            timeout=60,
        )
    assert_graph_error(response, status=400, code=100, contains="too large")
    assert blobs(server) == before
    assert blobs(server, "tmp/") == []


def test_a_100_mb_upload_streams(server: Server) -> None:
    """Peak RSS of the server grows by less than 32 MB for a 100 MB file (VmHWM is the peak)."""
    assert server.process is not None

    def peak_rss() -> int:
        status = Path(f"/proc/{server.process.pid}/status").read_text()  # type: ignore[union-attr]
        return int(
            next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]
        )

    size = 100 * 1024 * 1024
    digest = hashlib.sha256()

    def body() -> Iterator[bytes]:
        yield (
            b'--b\r\nContent-Disposition: form-data; name="messaging_product"\r\n\r\n'
            b'whatsapp\r\n--b\r\nContent-Disposition: form-data; name="file"; '
            b'filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        )
        for n in range(size // (1024 * 1024)):
            chunk = n.to_bytes(4, "big") * (256 * 1024)
            digest.update(chunk)
            yield chunk
        yield b"\r\n--b--\r\n"

    before = peak_rss()
    with httpx.Client(base_url=server.base_url, headers={"D360-API-KEY": API_KEY}) as client:
        response = client.post(
            "/media",
            content=body(),
            headers={"Content-Type": "multipart/form-data; boundary=b"},
            timeout=120,
        )
        assert response.status_code == 200, response.text
        info = client.get(f"/{response.json()['id']}").json()
    growth_kb = peak_rss() - before
    assert growth_kb < 32 * 1024, f"peak RSS grew by {growth_kb} kB"
    assert info["file_size"] == size
    assert info["sha256"] == digest.hexdigest()


def test_same_bytes_twice_are_stored_once(d360: httpx.Client, server: Server) -> None:
    content = jpeg(3) + secrets.token_bytes(8)
    first = upload(d360, "/media", content).json()["id"]
    second = upload(d360, "/media", content).json()["id"]
    assert first != second
    sha = hashlib.sha256(content).hexdigest()
    assert blobs(server).count(sha) == 1


# --- download ---------------------------------------------------------------------------------


def _url(client: httpx.Client, media_id: str, prefix: str = "") -> str:
    response = client.get(f"{prefix}/{media_id}")
    assert response.status_code == 200, response.text
    return str(response.json()["url"])


@pytest.mark.parametrize(
    ("sent", "disposition"),
    [
        ("/home/ada/uploads/cat.jpg", 'attachment; filename="cat.jpg"'),
        ("C:\\Users\\ada\\cat.jpg", 'attachment; filename="cat.jpg"'),
        ("café.jpg", "attachment; filename*=UTF-8''caf%C3%A9.jpg; filename=\"caf?.jpg\""),
    ],
)
def test_downloads_name_the_file_without_the_uploaders_folders(
    d360: httpx.Client, sent: str, disposition: str
) -> None:
    """Only the last part of an uploaded name is kept (RFC 7578 §4.2); a plain name is the
    header's only parameter, as pywa reads it."""
    media_id = upload(d360, "/media", jpeg(7), filename=sent).json()["id"]
    response = httpx.get(_url(d360, media_id), headers={"D360-API-KEY": API_KEY})
    assert response.headers["content-disposition"] == disposition


def test_download_with_either_key_and_any_host(d360: httpx.Client, server: Server) -> None:
    content = jpeg(4) * 3
    media_id = upload(d360, "/media", content, filename="holiday photo.jpg").json()["id"]
    url = _url(d360, media_id)
    for headers in ({"D360-API-KEY": API_KEY}, {"Authorization": f"Bearer {API_KEY}"}):
        response = httpx.get(url, headers=headers)
        assert response.status_code == 200
        assert response.content == content
        assert response.headers["content-type"] == "image/jpeg"
        assert response.headers["content-length"] == str(len(content))
        assert "holiday photo.jpg" in response.headers["content-disposition"].replace("%20", " ")
    # wire-facts §2.4: a 360dialog client swaps the host for its own base URL.
    swapped = server.base_url.replace("127.0.0.1", "localhost") + url[url.index("/whatsapp") :]
    assert httpx.get(swapped, headers={"D360-API-KEY": API_KEY}).content == content


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-9", 0, 10), ("bytes=10-", 10, None), ("bytes=-5", -5, None), ("bytes=3-3", 3, 4)],
)
def test_download_ranges(d360: httpx.Client, header: str, start: int, end: int | None) -> None:
    content = bytes(range(256)) * 4
    media_id = upload(d360, "/media", content, mime="application/pdf", filename="r.pdf").json()[
        "id"
    ]
    response = httpx.get(_url(d360, media_id), headers={"D360-API-KEY": API_KEY, "Range": header})
    assert response.status_code == 206
    expected = content[start:end]
    assert response.content == expected
    first = start % len(content)
    assert response.headers["content-range"] == (
        f"bytes {first}-{first + len(expected) - 1}/{len(content)}"
    )


@pytest.mark.parametrize("header", ["bytes=5000-", "bytes=9-3", "bytes=0-1,5-6", "items=0-1"])
def test_unsatisfiable_ranges(d360: httpx.Client, header: str) -> None:
    media_id = upload(d360, "/media", b"0123456789", mime="text/plain", filename="t.txt").json()[
        "id"
    ]
    response = httpx.get(_url(d360, media_id), headers={"D360-API-KEY": API_KEY, "Range": header})
    assert_graph_error(response, status=416, code=100)
    assert response.headers["content-range"] == "bytes */10"


def _secret(server: Server) -> bytes:
    with sqlite3.connect(server.data_dir / "wabox.sqlite3") as connection:
        row = connection.execute("SELECT value FROM settings WHERE key='url_secret'").fetchone()
    return bytes.fromhex(row[0])


def test_tampered_and_expired_urls_are_404(d360: httpx.Client, server: Server) -> None:
    media_id = upload(d360, "/media", jpeg(5)).json()["id"]
    url = _url(d360, media_id)
    tampered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    response = httpx.get(tampered, headers={"D360-API-KEY": API_KEY})
    assert_graph_error(response, status=404, code=100, contains="expired or is not valid")
    if "WABOX_DATABASE_URL" in server.env:
        return  # the secret lives in PostgreSQL there; the signature check is the same code
    past = signed_query(_secret(server), media_id, ttl=-1)
    expired = f"{server.base_url}/whatsapp_business/attachments/?{past}"
    assert httpx.get(expired, headers={"D360-API-KEY": API_KEY}).status_code == 404
    fresh = signed_query(_secret(server), media_id, ttl=60, now=time.time())
    ok = f"{server.base_url}/whatsapp_business/attachments/?{fresh}"
    assert httpx.get(ok, headers={"D360-API-KEY": API_KEY}).status_code == 200


def test_download_needs_a_key(d360: httpx.Client) -> None:
    url = _url(d360, upload(d360, "/media", jpeg(6)).json()["id"])
    assert_graph_error(httpx.get(url), status=401, code=190)


# --- other channels ---------------------------------------------------------------------------


def test_another_channel_sees_nothing(
    d360: httpx.Client, server: Server, other_channel: ChannelInfo, default_channel: ChannelInfo
) -> None:
    media_id = upload(d360, "/media", jpeg(7)).json()["id"]
    url = _url(d360, media_id)
    other = {"D360-API-KEY": other_channel.api_key}
    base = server.base_url
    assert_graph_error(
        httpx.get(f"{base}/{media_id}", headers=other), status=400, code=100, subcode=33
    )
    assert_graph_error(
        httpx.delete(f"{base}/{media_id}", headers=other), status=400, code=100, subcode=33
    )
    assert_graph_error(httpx.get(url, headers=other), status=404, code=100)
    bearer = {"Authorization": f"Bearer {API_KEY}"}
    foreign_filter = httpx.get(
        f"{base}/v21.0/{media_id}",
        params={"phone_number_id": other_channel.phone_number_id},
        headers=bearer,
    )
    assert_graph_error(foreign_filter, status=400, code=100, subcode=33)
    own_filter = httpx.get(
        f"{base}/v21.0/{media_id}",
        params={"phone_number_id": default_channel.phone_number_id},
        headers=bearer,
    )
    assert own_filter.status_code == 200
    with httpx.Client(base_url=base, headers=bearer) as client:
        upload_elsewhere = upload(client, f"/v21.0/{other_channel.phone_number_id}/media", jpeg())
    assert_graph_error(upload_elsewhere, status=400, code=100, subcode=33)
    with httpx.Client(base_url=base, headers=other) as client:
        sent = client.post("/messages", json=message("image", {"id": media_id}))
    assert_graph_error(sent, status=400, code=100, contains="not a valid whatsapp business")


# --- delete and expiry ------------------------------------------------------------------------


def test_delete_makes_the_id_fail_everywhere(d360: httpx.Client, server: Server) -> None:
    content = jpeg(8) + secrets.token_bytes(8)
    media_id = upload(d360, "/media", content).json()["id"]
    url = _url(d360, media_id)
    assert d360.post("/messages", json=message("image", {"id": media_id})).status_code == 200
    deleted = d360.delete(f"/{media_id}")
    assert deleted.status_code == 200 and deleted.json() == {"success": True}
    assert_graph_error(d360.get(f"/{media_id}"), status=400, code=100, subcode=33)
    assert_graph_error(d360.delete(f"/{media_id}"), status=400, code=100, subcode=33)
    assert httpx.get(url, headers={"D360-API-KEY": API_KEY}).status_code == 404
    assert_graph_error(
        d360.post("/messages", json=message("image", {"id": media_id})), status=400, code=100
    )
    assert hashlib.sha256(content).hexdigest() not in blobs(server)


def test_bytes_stay_while_another_id_uses_them(
    d360: httpx.Client, cloud: httpx.Client, server: Server
) -> None:
    content = jpeg(9) + secrets.token_bytes(8)
    sha = hashlib.sha256(content).hexdigest()
    first = upload(d360, "/media", content).json()["id"]
    second = upload(d360, "/media", content).json()["id"]
    assert cloud.delete(f"/v19.0/{first}").json() == {"success": True}
    assert sha in blobs(server)
    assert httpx.get(_url(d360, second), headers={"D360-API-KEY": API_KEY}).content == content
    assert d360.delete(f"/{second}").status_code == 200
    assert sha not in blobs(server)


def test_expired_media_is_refused_then_swept(server: Server, d360: httpx.Client) -> None:
    shared = jpeg(11) + secrets.token_bytes(8)
    alone = jpeg(12) + secrets.token_bytes(8)
    keep, gone, other = (upload(d360, "/media", c).json()["id"] for c in (shared, shared, alone))
    with server.admin() as admin:
        for media_id in (gone, other):
            assert admin.post(f"/sandbox/media/{media_id}/expire").json() == {"success": True}
        assert_graph_error(
            admin.post("/sandbox/media/999/expire"), status=400, code=100, subcode=33
        )
        assert_graph_error(d360.get(f"/{gone}"), status=400, code=100, subcode=33)
        sent = d360.post("/messages", json=message("image", {"id": other}))
        assert_graph_error(sent, status=400, code=100, contains="not a valid whatsapp business")
        swept = admin.post("/sandbox/media/sweep").json()
    assert swept["rows"] >= 2 and swept["blobs"] >= 1
    assert hashlib.sha256(alone).hexdigest() not in blobs(server)
    assert hashlib.sha256(shared).hexdigest() in blobs(server)
    assert d360.get(f"/{keep}").status_code == 200


def test_media_expires_and_the_sweeper_runs_by_itself(tmp_path: Path) -> None:
    """Expiry follows the clock; the sweeper's rounds are real seconds, at the clock's time."""
    with (
        running_server(
            tmp_path, clock="virtual", WABOX_MEDIA_TTL="1", WABOX_SWEEP_INTERVAL="1"
        ) as server,
        httpx.Client(base_url=server.base_url, headers={"D360-API-KEY": API_KEY}) as client,
    ):
        content = jpeg(10)
        media_id = upload(client, "/media", content).json()["id"]
        assert client.get(f"/{media_id}").status_code == 200
        advance(server, 1.2)
        assert_graph_error(client.get(f"/{media_id}"), status=400, code=100, subcode=33)
        sent = client.post("/messages", json=message("image", {"id": media_id}))
        assert_graph_error(sent, status=400, code=100)
        sha = hashlib.sha256(content).hexdigest()
        eventually(lambda: sha not in blobs(server), interval=0.2, what="the sweeper runs")


def test_uploads_are_limited_per_channel(tmp_path: Path) -> None:
    with (
        running_server(tmp_path, clock="virtual", WABOX_MEDIA_UPLOAD_RATE="3") as server,
        httpx.Client(base_url=server.base_url, headers={"D360-API-KEY": API_KEY}) as client,
    ):
        answers = [upload(client, "/media", jpeg(n)) for n in range(6)]
        limited = [a for a in answers if a.status_code != 200]
        assert len(limited) >= 3
        error = assert_graph_error(limited[0], status=400, code=4)
        assert error["message"] == "(#4) API Too Many Calls"
        assert "3 requests per second" in error["error_data"]["details"]
        advance(server, 1)
        assert upload(client, "/media", jpeg(9)).status_code == 200
        with server.admin() as admin:
            other = admin.post("/sandbox/channels", json={}).json()["api_key"]
        other_client = httpx.Client(base_url=server.base_url, headers={"D360-API-KEY": other})
        with other_client:
            assert upload(other_client, "/media", jpeg(1)).status_code == 200


def _wait_for_state(server: Server, wamid: str) -> dict[str, object]:
    def left_accepted() -> dict[str, object]:
        row = stored(server, wamid)
        assert row["state"] != "accepted", row
        return row

    return eventually(left_accepted, interval=0.1)


@pytest.mark.parametrize(
    ("kind", "mime", "content", "extra", "details"),
    [
        ("image", "image/jpeg", b"\x89PNG\r\n\x1a\n" + bytes(64), {}, "does not match"),
        ("sticker", "image/webp", None, {}, "Stickers must be 512x512 pixels; this one is 32x24."),
        ("audio", "audio/mpeg", b"ID3" + bytes(64), {"voice": True}, "must be OGG/OPUS"),
        ("video", "image/jpeg", None, {}, "cannot be sent as video"),
    ],
)
def test_broken_media_rules_fail_the_message_after_accepting_it(
    server: Server,
    d360: httpx.Client,
    kind: str,
    mime: str,
    content: bytes | None,
    extra: dict[str, object],
    details: str,
) -> None:
    if content is None:
        out = io.BytesIO()
        Image.new("RGB", (32, 24)).save(out, "WEBP" if mime == "image/webp" else "JPEG")
        content = out.getvalue()
    media_id = upload(d360, "/media", content, mime=mime, filename="f").json()["id"]
    sent = d360.post("/messages", json=message(kind, {"id": media_id, **extra}))
    assert sent.status_code == 200, sent.text
    row = _wait_for_state(server, sent.json()["messages"][0]["id"])
    assert row["state"] == "failed"
    failed = row["events"][-1]  # type: ignore[index]
    assert failed["status"] == "failed"
    assert failed["details"]["code"] == 131053
    assert failed["details"]["title"] == "Media upload error"
    assert details in failed["details"]["details"]


def test_good_media_is_not_failed(server: Server, d360: httpx.Client) -> None:
    media_id = upload(d360, "/media", jpeg(13)).json()["id"]
    sent = d360.post("/messages", json=message("image", {"id": media_id, "caption": "ok"}))
    wamid = sent.json()["messages"][0]["id"]
    broken = upload(d360, "/media", b"not a jpeg", mime="image/jpeg").json()["id"]
    probe = d360.post("/messages", json=message("image", {"id": broken}))
    assert _wait_for_state(server, probe.json()["messages"][0]["id"])["state"] == "failed"
    good = _wait_for_state(server, wamid)
    assert good["state"] in ("sent", "delivered", "read")
    assert good["events"][1]["status"] == "sent"  # type: ignore[index]


def test_template_header_media_is_checked_too(server: Server, d360: httpx.Client) -> None:
    broken = upload(d360, "/media", b"%PDF-1.4 but declared png", mime="image/png").json()["id"]
    header = {"type": "header", "parameters": [{"type": "image", "image": {"id": broken}}]}
    with server.admin() as admin:
        register_template(admin, "image_header", language="en", header="IMAGE", body="Hi")
    template = {"name": "image_header", "language": {"code": "en"}, "components": [header]}
    sent = d360.post("/messages", json=message("template", template))
    row = _wait_for_state(server, sent.json()["messages"][0]["id"])
    assert row["state"] == "failed"
    assert "does not match its declared type image/png" in str(row["events"])
