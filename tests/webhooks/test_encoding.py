"""Webhook bodies escaped as Meta escapes them, so a signature check that works here works
against Meta (Meta for Developers, Messenger Platform, Webhooks, "Validate Event Payloads":
non-ASCII as lowercase \\uXXXX, "/" as "\\/", "<" as "\\u003C", "%" as "\\u0025", "@" as
"\\u0040"; the Graph API's "Getting Started with Webhooks": "äöå" → "\\u00e4\\u00f6\\u00e5").
"""

from __future__ import annotations

import json

import pytest

from wabox.webhooks.encoding import meta_json


def test_the_documented_example() -> None:
    assert meta_json({"t": "äöå"}) == b'{"t":"\\u00e4\\u00f6\\u00e5"}'


def test_characters_beyond_the_basic_plane_become_surrogate_pairs_in_lowercase() -> None:
    assert meta_json("😀") == b'"\\ud83d\\ude00"'
    assert meta_json("𝄞") == b'"\\ud834\\udd1e"'


def test_slash_less_than_percent_and_at_are_escaped() -> None:
    assert meta_json("image/jpeg") == b'"image\\/jpeg"'
    assert meta_json("a@b.c 5% <b>") == b'"a\\u0040b.c 5\\u0025 \\u003Cb>"'


@pytest.mark.parametrize(
    "text",
    [
        "Grüße aus Köln",
        "Привет, как дела?",
        "مرحبا بك",
        "你好，世界",
        "नमस्ते",
        "שלום",
        "👍🏽 family: 👨‍👩‍👧‍👦 flag: 🇧🇷",
        'quotes " and \\ backslash\n and a \\/ already',
        "\x00\x1f control",
    ],
)
def test_any_text_comes_back_unchanged_and_the_bytes_are_ascii(text: str) -> None:
    body = meta_json({"profile": {"name": text}, "text": {"body": text}})
    assert body.isascii()
    assert json.loads(body) == {"profile": {"name": text}, "text": {"body": text}}
    for char in "/<%@":
        assert char.encode() not in body.replace(b"\\/", b"")
