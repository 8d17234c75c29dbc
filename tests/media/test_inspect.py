"""The send-time media rules (wire-facts §3) on real files: tests/data/ and Pillow images."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from wabox.media.inspect import check, size_problem

DATA = Path(__file__).parent.parent / "data"


def data(name: str) -> bytes:
    return (DATA / name).read_bytes()


def image(fmt: str, mode: str = "RGB", size: tuple[int, int] = (64, 48), **save: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, 128 if mode in ("L", "P") else (10, 20, 30)[: len(mode)]).save(
        out, fmt, **save
    )
    return out.getvalue()


def animated_webp(size: tuple[int, int] = (512, 512)) -> bytes:
    frames = [Image.new("RGB", size, (i * 40, 0, 0)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=100)
    return out.getvalue()


@pytest.mark.parametrize(
    ("kind", "mime", "content", "voice"),
    [
        ("image", "image/jpeg", image("JPEG"), False),
        ("image", "image/png", image("PNG", "RGBA"), False),
        ("sticker", "image/webp", image("WEBP", size=(512, 512)), False),
        ("sticker", "image/webp", animated_webp(), False),
        ("audio", "audio/ogg", data("voice_mono.ogg"), True),
        ("audio", "audio/ogg", data("voice_mono.ogg"), False),
        ("audio", "audio/mpeg", data("tone.mp3"), False),
        ("audio", "audio/aac", data("tone.aac"), False),
        ("audio", "audio/mp4", data("tone.m4a"), False),
        ("audio", "audio/amr", b"#!AMR\n" + b"\x7c" * 50, False),
        ("video", "video/mp4", data("clip.mp4"), False),
        ("video", "video/3gpp", data("clip.3gp"), False),
        ("document", "application/pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", False),
        ("document", "text/plain", "Grüße, 你好\n".encode(), False),
        ("document", "application/msword", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), False),
        (
            "document",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            b"PK\x03\x04" + bytes(100),
            False,
        ),
    ],
)
def test_valid_media_passes(kind: str, mime: str, content: bytes, voice: bool) -> None:
    assert check(kind, mime, content, voice=voice) is None


@pytest.mark.parametrize(
    ("kind", "mime", "content", "voice", "expected"),
    [
        ("image", "image/webp", image("WEBP"), False, "cannot be sent as image"),
        ("sticker", "image/png", image("PNG"), False, "sticker takes image/webp"),
        ("video", "audio/mp4", data("tone.m4a"), False, "video takes video/3gpp, video/mp4"),
        ("image", "image/jpeg", image("PNG"), False, "does not match its declared type image/jpeg"),
        ("document", "application/pdf", b"hello", False, "does not match"),
        ("document", "text/plain", b"\x00\x01binary", False, "does not match"),
        ("image", "image/jpeg", image("JPEG", "L"), False, "this image's mode is L"),
        ("image", "image/png", image("PNG", "P"), False, "this image's mode is P"),
        ("image", "image/jpeg", image("JPEG", "CMYK"), False, "this image's mode is CMYK"),
        ("sticker", "image/webp", image("WEBP", size=(500, 512)), False, "this one is 500x512"),
        ("audio", "audio/mpeg", data("tone.mp3"), True, "Voice messages must be OGG/OPUS"),
        ("audio", "audio/ogg", data("vorbis.ogg"), True, "OGG file holds Vorbis"),
        ("audio", "audio/ogg", data("vorbis.ogg"), False, "OGG audio must use the OPUS codec"),
        ("audio", "audio/ogg", data("stereo_opus.ogg"), True, "this file has 2 channels"),
        ("video", "video/mp4", data("clip_mpeg4.mp4"), False, "this video track is MPEG-4 Visual"),
        ("video", "video/mp4", data("mp3_audio.mp4"), False, "this audio track is MPEG Audio"),
        ("video", "video/mp4", data("two_audio.mp4"), False, "this one has 2"),
    ],
)
def test_broken_rules_are_named(
    kind: str, mime: str, content: bytes, voice: bool, expected: str
) -> None:
    problem = check(kind, mime, content, voice=voice)
    assert problem is not None and expected in problem, problem


def test_sticker_size_limits() -> None:
    noisy = Image.frombytes("RGB", (512, 512), os.urandom(512 * 512 * 3))
    out = io.BytesIO()
    noisy.save(out, "WEBP", lossless=True)
    big = out.getvalue()
    assert len(big) > 100 * 1024
    problem = check("sticker", "image/webp", big)
    assert problem is not None and "Static sticker size" in problem and "100.0 KB" in problem


@pytest.mark.parametrize(
    ("kind", "size", "expected"),
    [
        ("image", 5 * 1024 * 1024 + 1, "Image file size 5.00 MB exceeds the 5.00 MB limit."),
        ("video", 17 * 1024 * 1024, "exceeds the 16.00 MB limit"),
        ("audio", 16 * 1024 * 1024 + 1, "exceeds the 16.00 MB limit"),
        ("document", 101 * 1024 * 1024, "exceeds the 100.00 MB limit"),
    ],
)
def test_size_limits(kind: str, size: int, expected: str) -> None:
    problem = size_problem(kind, size)
    assert problem is not None and expected in problem
    assert size_problem(kind, 1000) is None
