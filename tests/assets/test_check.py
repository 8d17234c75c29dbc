"""``check`` against real files on a real asset server: caching and sendability per type."""

from __future__ import annotations

import io
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.assets.conftest import copy_samples, running_assets
from tests.links.origin import running_origin, unanswered_port
from wabox.assets.check import KINDS, check
from wabox.assets.server import DEFAULT_POLICY, NO_CACHE, NO_STORE, CachePolicy
from wabox.media.inspect import MB

DATA = Path(__file__).parent.parent / "data"
PREFIX = "Downloading media from weblink failed"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("check") / "public"
    copy_samples(folder)
    shutil.copy(DATA / "stereo_opus.ogg", folder / "stereo.ogg")
    shutil.copy(DATA / "clip_mpeg4.mp4", folder / "mpeg4.mp4")
    shutil.copy(DATA / "clip.3gp", folder / "clip.3gp")
    grey = io.BytesIO()
    Image.new("L", (8, 8), 128).save(grey, "JPEG")
    (folder / "grey.jpg").write_bytes(grey.getvalue())
    (folder / "big.jpg").write_bytes(b"\xff\xd8\xff" + bytes(6 * MB))
    (folder / "lies.jpg").write_bytes((folder / "document.pdf").read_bytes())
    (folder / "page.html").write_bytes(b"<html></html>")
    return folder


@pytest.fixture(scope="module")
def default_url(folder: Path) -> Iterator[str]:
    with running_assets(folder, DEFAULT_POLICY) as url:
        yield url


@pytest.mark.parametrize(
    ("name", "mime_type", "kind"),
    [
        ("image.jpg", "image/jpeg", "image"),
        ("sticker.webp", "image/webp", "sticker"),
        ("voice.ogg", "audio/ogg", "audio"),
        ("video.mp4", "video/mp4", "video"),
        ("clip.3gp", "video/3gpp", "video"),
        ("document.pdf", "application/pdf", "document"),
    ],
)
def test_each_sample_is_sendable_as_its_own_type_only(
    default_url: str, folder: Path, name: str, mime_type: str, kind: str
) -> None:
    result = check(f"{default_url}/{name}")
    size = (folder / name).stat().st_size
    assert (result.status, result.error, result.content_type) == (200, None, mime_type)
    assert result.content_length == size
    assert result.size == size
    assert result.sendable_as == [kind]
    assert list(result.kinds) == list(KINDS)
    for other in KINDS:
        if other != kind:
            reason = result.kinds[other].reason
            assert reason is not None
            assert reason.startswith(f"Media of type {mime_type} cannot be sent as {other}; ")


def test_a_jpeg_is_an_image_and_nothing_else(default_url: str) -> None:
    """wabox's document list (wire-facts §3) has no image types, so not even a document."""
    kinds = check(f"{default_url}/image.jpg").kinds
    assert kinds["image"].sendable and kinds["image"].reason is None
    assert kinds["document"].reason is not None
    assert "cannot be sent as document; document takes text/plain," in kinds["document"].reason
    assert kinds["sticker"].reason == (
        "Media of type image/jpeg cannot be sent as sticker; sticker takes image/webp."
    )
    assert kinds["audio"].reason is not None and "audio takes audio/aac" in kinds["audio"].reason
    assert kinds["video"].reason == (
        "Media of type image/jpeg cannot be sent as video; video takes video/3gpp, video/mp4."
    )


@pytest.mark.parametrize(
    ("name", "kind", "reason"),
    [
        ("grey.jpg", "image", "Images must be 8-bit, RGB or RGBA; this image's mode is L."),
        ("lies.jpg", "image", "The file's content does not match its declared type image/jpeg."),
        ("big.jpg", "image", "Image file size 6.00 MB exceeds the 5.00 MB limit."),
        (
            "stereo.ogg",
            "audio",
            "OGG audio must be mono (OPUS, 1 channel); this file has 2 channels.",
        ),
        ("mpeg4.mp4", "video", "Videos must be H.264 (AVC); this video track is MPEG-4 Visual."),
    ],
)
def test_content_and_size_rules_use_inspects_words(
    default_url: str, name: str, kind: str, reason: str
) -> None:
    result = check(f"{default_url}/{name}")
    assert result.status == 200
    assert result.kinds[kind].sendable is False
    assert result.kinds[kind].reason == reason
    assert result.sendable_as == []


def test_a_file_over_the_limit_is_not_downloaded(default_url: str) -> None:
    result = check(f"{default_url}/big.jpg")
    assert result.content_length == 6 * MB + 3
    assert result.size is None


def test_a_type_no_message_takes(default_url: str) -> None:
    result = check(f"{default_url}/page.html")
    assert (result.status, result.content_type, result.content_length) == (200, "text/html", 13)
    assert result.size is None
    assert result.sendable_as == []
    assert result.kinds["document"].reason is not None
    assert result.kinds["document"].reason.startswith(
        "Media of type text/html cannot be sent as document"
    )
    assert result.cache["seed"].cached  # the headers allow it; the fetch would still fail


@pytest.mark.parametrize(
    ("policy", "cached", "fresh_for", "revalidate", "why"),
    [
        (CachePolicy.max_age(120), True, 120.0, None, "max-age=120"),
        (DEFAULT_POLICY, True, 3600.0, None, "max-age=3600"),
        (CachePolicy.max_age(0), False, 0.0, None, "max-age=0 already used up"),
        (NO_CACHE, True, 0.0, "if-modified-since", "no-cache with Last-Modified"),
        (NO_STORE, False, 0.0, None, "Cache-Control: no-store"),
    ],
)
def test_cacheability_under_the_seed_rules_and_fixed_10m(
    folder: Path,
    policy: CachePolicy,
    cached: bool,
    fresh_for: float,
    revalidate: str | None,
    why: str,
) -> None:
    with running_assets(folder, policy) as url:
        result = check(f"{url}/sticker.webp")
    assert result.caching_headers["cache-control"] == policy.header
    assert set(result.caching_headers) == {"cache-control", "last-modified", "etag"}
    seed = result.cache["seed"]
    assert (seed.cached, seed.fresh_for, seed.revalidate, seed.why) == (
        cached,
        fresh_for,
        revalidate,
        why,
    )
    fixed = result.cache["fixed-10m"]
    assert (fixed.cached, fixed.fresh_for, fixed.revalidate) == (True, 600.0, None)
    assert result.sendable_as == ["sticker"]


def test_a_missing_file_fails_as_a_send_would(default_url: str) -> None:
    result = check(f"{default_url}/missing.jpg")
    details = f"{PREFIX} with http code 404, status message Not Found"
    assert (result.status, result.error, result.failure) == (404, details, "http_status")
    assert result.cache == {}
    assert result.caching_headers == {}
    assert [(v.sendable, v.reason) for v in result.kinds.values()] == [(False, details)] * 5


def test_a_refused_connection(folder: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    result = check(f"http://127.0.0.1:{port}/image.jpg")
    assert result.status is None
    assert result.failure == "refused"
    assert result.error == f"{PREFIX}: the connection to 127.0.0.1:{port} was refused."
    assert result.sendable_as == []


def test_the_connect_timeout_is_the_fetchers() -> None:
    with unanswered_port() as port:
        result = check(f"http://127.0.0.1:{port}/image.jpg", connect_timeout=0.3)
    assert result.failure == "connect_timeout"
    assert result.error == f"{PREFIX}: connecting to the host took longer than 0.3 s."


def test_redirects_are_followed_as_the_fetcher_does(default_url: str) -> None:
    with running_origin() as origin:
        moved = origin.serve(
            "/moved.jpg", status=302, headers={"Location": f"{default_url}/image.jpg"}
        )
        result = check(moved)
    assert result.status == 200
    assert result.content_type == "image/jpeg"
    assert result.sendable_as == ["image"]


def test_loopback_is_fetched_but_a_default_server_would_refuse_it(default_url: str) -> None:
    refused = check(f"{default_url}/image.jpg")
    assert refused.sendable_as == ["image"]
    assert refused.guard is not None
    assert "127.0.0.1 is a loopback address" in refused.guard
    assert "WABOX_LINK_ALLOW" in refused.guard
    allowed = check(f"{default_url}/image.jpg", link_allow="127.0.0.1")
    assert allowed.guard is None
    by_name = check(default_url.replace("127.0.0.1", "localhost") + "/image.jpg")
    assert by_name.guard is not None and "localhost resolves to" in by_name.guard
