"""The asset server over real HTTP: headers, validators, ranges, HEAD, policies, traversal."""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest

from tests.assets.conftest import running_assets
from wabox.assets.server import (
    DEFAULT_POLICY,
    NO_CACHE,
    NO_STORE,
    CachePolicy,
    byte_range,
    content_type,
)

DATA = bytes(range(256)) * 1200  # 300 KiB: several streamed chunks
SECRET = b"TOP SECRET outside the served folder"
TYPES = {
    "voice.ogg": "audio/ogg",
    "voice.opus": "audio/ogg",
    "sticker.webp": "image/webp",
    "clip.mp4": "video/mp4",
    "clip.3gp": "video/3gpp",
    "doc.pdf": "application/pdf",
    "photo.jpg": "image/jpeg",
    "PHOTO.JPEG": "image/jpeg",
    "photo.png": "image/png",
    "song.mp3": "audio/mpeg",
    "song.m4a": "audio/mp4",
    "song.aac": "audio/aac",
    "song.amr": "audio/amr",
    "notes.txt": "text/plain",
    "sheet.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "letter.docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "slides.pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "old.doc": "application/msword",
    "old.xls": "application/vnd.ms-excel",
    "old.ppt": "application/vnd.ms-powerpoint",
    "data.json": "application/json",
    "blob.unknownext": "application/octet-stream",
}


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A served folder with a secret beside it and symlinks leading in and out."""
    base = tmp_path_factory.mktemp("server")
    (base / "secret.txt").write_bytes(SECRET)
    (base / "outside").mkdir()
    (base / "outside" / "secret.txt").write_bytes(SECRET)
    folder = base / "public"
    folder.mkdir()
    (folder / "data.bin").write_bytes(DATA)
    (folder / "empty.txt").write_bytes(b"")
    (folder / ".hidden.txt").write_bytes(SECRET)
    (folder / "sub").mkdir()
    (folder / "sub" / "inner.txt").write_bytes(b"inner")
    (folder / "escape.txt").symlink_to(base / "secret.txt")
    (folder / "escape_dir").symlink_to(base / "outside")
    (folder / "alias.bin").symlink_to(folder / "data.bin")
    for name in TYPES:
        (folder / name).write_bytes(b"x")
    return folder


@pytest.fixture(scope="module")
def base(public: Path) -> Iterator[str]:
    with running_assets(public, DEFAULT_POLICY) as url:
        yield url


@pytest.fixture
def client(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=10) as client:
        yield client


def raw_get(base: str, target: str) -> tuple[int, bytes]:
    """A request line sent as written: httpx removes ``..`` segments before sending."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


# --- a 200 and its headers ---


def test_get_sends_the_file_with_every_header(client: httpx.Client, public: Path) -> None:
    response = client.get("/data.bin")
    info = (public / "data.bin").stat()
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["last-modified"] == formatdate(info.st_mtime, usegmt=True)
    assert re.fullmatch(r'"[0-9a-f]+-[0-9a-f]+"', response.headers["etag"])  # strong: no W/
    assert response.headers["cache-control"] == "max-age=3600"
    assert response.headers["accept-ranges"] == "bytes"


@pytest.mark.parametrize(("name", "expected"), TYPES.items())
def test_content_type_follows_the_extension(client: httpx.Client, name: str, expected: str) -> None:
    response = client.get(f"/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == expected


def test_content_type_table_does_not_depend_on_the_platform() -> None:
    assert content_type("a.ogg") == "audio/ogg"
    assert content_type("a.OPUS") == "audio/ogg"
    assert content_type("no-extension") == "application/octet-stream"


def test_etag_and_last_modified_change_when_the_file_does(
    client: httpx.Client, public: Path
) -> None:
    path = public / "changing.bin"
    path.write_bytes(b"first")
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    first = client.get("/changing.bin")
    path.write_bytes(b"other")  # same size
    os.utime(path, ns=(1_700_000_100_000_000_000, 1_700_000_100_000_000_000))
    second = client.get("/changing.bin")
    assert second.content == b"other"
    assert first.headers["etag"] != second.headers["etag"]
    assert first.headers["last-modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert second.headers["last-modified"] == "Tue, 14 Nov 2023 22:15:00 GMT"
    stale = client.get("/changing.bin", headers={"If-None-Match": first.headers["etag"]})
    assert stale.status_code == 200


def test_head_answers_the_headers_of_get_without_a_body(client: httpx.Client) -> None:
    get = client.get("/data.bin")
    head = client.head("/data.bin")
    assert head.status_code == 200
    assert head.content == b""
    for name in ("content-type", "content-length", "etag", "last-modified", "cache-control"):
        assert head.headers[name] == get.headers[name]


def test_empty_file(client: httpx.Client) -> None:
    response = client.get("/empty.txt")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "0"


def test_other_methods_are_refused(client: httpx.Client) -> None:
    response = client.post("/data.bin", content=b"x")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_large_files_are_streamed_not_read_whole(client: httpx.Client, public: Path) -> None:
    """A 4 GiB (sparse) file starts arriving at once, and a tail range is instant."""
    huge = public / "huge.bin"
    with huge.open("wb") as file:
        file.truncate(4 << 30)
    try:
        started = time.monotonic()
        with client.stream("GET", "/huge.bin") as response:
            first = next(response.iter_raw())
            waited = time.monotonic() - started
        assert response.headers["content-length"] == str(4 << 30)
        assert first and set(first) == {0}
        assert waited < 2
        tail = client.get("/huge.bin", headers={"Range": "bytes=-3"})
        assert tail.status_code == 206
        assert tail.headers["content-range"] == f"bytes {(4 << 30) - 3}-{(4 << 30) - 1}/{4 << 30}"
        assert client.get("/data.bin").content == DATA  # still serving after the hang-up
    finally:
        huge.unlink()


# --- conditional requests ---


def test_if_none_match_with_the_etag_is_a_304(client: httpx.Client) -> None:
    etag = client.get("/data.bin").headers["etag"]
    for value in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        response = client.get("/data.bin", headers={"If-None-Match": value})
        assert response.status_code == 304, value
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["cache-control"] == "max-age=3600"
        assert "last-modified" in response.headers
    assert client.get("/data.bin", headers={"If-None-Match": '"nope"'}).status_code == 200
    two_fields = [("If-None-Match", '"nope"'), ("If-None-Match", etag)]
    assert client.get("/data.bin", headers=two_fields).status_code == 304


def test_if_modified_since(client: httpx.Client, public: Path) -> None:
    last_modified = client.get("/data.bin").headers["last-modified"]
    mtime = (public / "data.bin").stat().st_mtime
    later = formatdate(mtime + 60, usegmt=True)
    earlier = formatdate(mtime - 60, usegmt=True)
    for value, status in ((last_modified, 304), (later, 304), (earlier, 200), ("garbage", 200)):
        response = client.get("/data.bin", headers={"If-Modified-Since": value})
        assert response.status_code == status, value
    head = client.head("/data.bin", headers={"If-Modified-Since": last_modified})
    assert head.status_code == 304


def test_if_none_match_takes_precedence_over_if_modified_since(client: httpx.Client) -> None:
    first = client.get("/data.bin")
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    # RFC 9110 §13.2.2: with If-None-Match present, If-Modified-Since is not evaluated.
    mismatch = {"If-None-Match": '"other"', "If-Modified-Since": last_modified}
    assert client.get("/data.bin", headers=mismatch).status_code == 200
    match = {"If-None-Match": etag, "If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}
    assert client.get("/data.bin", headers=match).status_code == 304


# --- ranges ---


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=100-", 100, len(DATA) - 1),
        ("bytes=-5", len(DATA) - 5, len(DATA) - 1),
        ("bytes=10-999999999", 10, len(DATA) - 1),
        ("bytes=-999999999", 0, len(DATA) - 1),
    ],
)
def test_a_single_range_is_a_206(client: httpx.Client, header: str, first: int, last: int) -> None:
    response = client.get("/data.bin", headers={"Range": header})
    assert response.status_code == 206
    assert response.content == DATA[first : last + 1]
    assert response.headers["content-range"] == f"bytes {first}-{last}/{len(DATA)}"
    assert response.headers["content-length"] == str(last - first + 1)
    assert response.headers["etag"] == client.head("/data.bin").headers["etag"]


@pytest.mark.parametrize("header", [f"bytes={len(DATA)}-", "bytes=999999999-999999999", "bytes=-0"])
def test_an_unsatisfiable_range_is_a_416(client: httpx.Client, header: str) -> None:
    response = client.get("/data.bin", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(DATA)}"


def test_any_range_of_an_empty_file_is_a_416(client: httpx.Client) -> None:
    response = client.get("/empty.txt", headers={"Range": "bytes=0-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */0"


@pytest.mark.parametrize(
    "header", ["bytes=0-1, 5-6", "bytes=9-3", "items=0-9", "bytes=abc", "bytes=-"]
)
def test_other_ranges_get_the_whole_file(client: httpx.Client, header: str) -> None:
    response = client.get("/data.bin", headers={"Range": header})
    assert response.status_code == 200
    assert response.content == DATA


def test_if_range_guards_the_range(client: httpx.Client) -> None:
    first = client.get("/data.bin")
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    for current in (etag, last_modified):
        response = client.get("/data.bin", headers={"Range": "bytes=0-3", "If-Range": current})
        assert response.status_code == 206, current
    for stale in ('"old"', f"W/{etag}", "Thu, 01 Jan 1970 00:00:00 GMT"):
        response = client.get("/data.bin", headers={"Range": "bytes=0-3", "If-Range": stale})
        assert response.status_code == 200, stale
        assert response.content == DATA


def test_head_ignores_range(client: httpx.Client) -> None:
    response = client.head("/data.bin", headers={"Range": "bytes=0-9"})
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(DATA))


def test_byte_range_parsing() -> None:
    assert byte_range("bytes=0-0", 1) == (0, 0)
    assert byte_range("BYTES = 2 - 4", 10) == (2, 4)
    assert byte_range("bytes=-3", 2) == (0, 1)
    assert byte_range("bytes=0-", 0) == "unsatisfiable"
    assert byte_range("bytes=-1", 0) == "unsatisfiable"
    assert byte_range("bytes=١-٢", 10) is None  # only ASCII digits


# --- what is never served ---


@pytest.mark.parametrize(
    "target",
    [
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/%2e%2e%2fsecret.txt",
        "/..%2fsecret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/%2fetc%2fpasswd",
        "/escape.txt",
        "/escape_dir/secret.txt",
        "/.hidden.txt",
        "/sub/inner.txt%00",
        "/sub%5c..%5c..%5csecret.txt",
        "/missing.jpg",
        "/",
        "/sub",
        "/sub/",
        "/escape_dir/",
    ],
)
def test_nothing_outside_the_folder_and_no_listings(client: httpx.Client, target: str) -> None:
    response = client.get(target)
    assert response.status_code == 404, target
    assert SECRET not in response.content
    assert b"inner.txt" not in response.content


@pytest.mark.parametrize(
    "target", ["/../secret.txt", "/sub/../../secret.txt", "/sub/../escape.txt", "//../secret.txt"]
)
def test_literal_dot_dot_segments_are_refused(base: str, target: str) -> None:
    status, answer = raw_get(base, target)
    assert status == 404, target
    assert SECRET not in answer


def test_files_and_symlinks_inside_the_folder_are_served(client: httpx.Client) -> None:
    assert client.get("/sub/inner.txt").content == b"inner"
    assert client.get("/alias.bin").content == DATA
    assert client.get("/data.bin?cache-buster=1").content == DATA  # the query is not a path


# --- cache policies ---


@pytest.mark.parametrize(
    ("policy", "header"),
    [
        (CachePolicy.max_age(60), "max-age=60"),
        (CachePolicy.max_age(0), "max-age=0"),
        (NO_CACHE, "no-cache"),
        (NO_STORE, "no-store"),
        (DEFAULT_POLICY, "max-age=3600"),
    ],
)
def test_each_policy_is_the_cache_control_of_every_answer(
    public: Path, policy: CachePolicy, header: str
) -> None:
    with running_assets(public, policy) as url, httpx.Client(base_url=url) as client:
        full = client.get("/data.bin")
        etag = full.headers["etag"]
        partial = client.get("/data.bin", headers={"Range": "bytes=0-0"})
        unchanged = client.get("/data.bin", headers={"If-None-Match": etag})
    assert (full.status_code, partial.status_code, unchanged.status_code) == (200, 206, 304)
    for response in (full, partial, unchanged):
        assert response.headers["cache-control"] == header


def test_policy_values_are_checked() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        CachePolicy.max_age(-1)
    with pytest.raises(ValueError, match="takes no seconds"):
        CachePolicy("no-store", 5)
