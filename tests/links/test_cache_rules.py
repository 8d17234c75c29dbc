"""The seed's caching rules and the fixed-10m policy, header by header (links/cache.py)."""

from __future__ import annotations

import pytest

from wabox.links.cache import CacheRule, cache_control, rule_for

LM = "Tue, 22 Feb 2025 22:22:22 GMT"


@pytest.mark.parametrize(
    ("headers", "store", "fresh_for", "revalidate"),
    [
        ({"cache-control": "max-age=604800"}, True, 604800, None),
        ({"cache-control": "public, max-age=60"}, True, 60, None),
        ({"cache-control": "MAX-AGE=60"}, True, 60, None),
        ({"cache-control": "max-age=60", "age": "15"}, True, 45, None),
        ({"cache-control": "max-age=60", "age": "60"}, False, 0, None),
        ({"cache-control": "max-age=0"}, False, 0, None),
        ({"cache-control": "max-age=60, max-age=30"}, True, 30, None),
        ({"cache-control": "max-age=abc"}, False, 0, None),
        ({"cache-control": "max-age=-1"}, False, 0, None),
        ({"cache-control": "max-age=1.5"}, False, 0, None),
        ({"cache-control": "max-age"}, False, 0, None),
        ({"cache-control": "no-cache", "last-modified": LM}, True, 0, "if-modified-since"),
        ({"cache-control": "no-cache", "etag": '"v1"'}, True, 0, "if-none-match"),
        (
            {"cache-control": "no-cache", "last-modified": LM, "etag": '"v1"'},
            True,
            0,
            "if-modified-since",
        ),
        ({"cache-control": "no-cache"}, False, 0, None),
        (
            {"cache-control": "no-cache, max-age=600", "last-modified": LM},
            True,
            0,
            "if-modified-since",
        ),
        ({"cache-control": "no-store"}, False, 0, None),
        ({"cache-control": "no-store, max-age=600"}, False, 0, None),
        ({"cache-control": "max-age=600, no-store", "last-modified": LM}, False, 0, None),
        ({"cache-control": "private"}, False, 0, None),
        ({"cache-control": 'private="set-cookie", max-age=600'}, False, 0, None),
        ({"cache-control": "no-cache, private", "last-modified": LM}, False, 0, None),
        ({"last-modified": LM}, True, 0, "if-modified-since"),
        ({"etag": '"33a64df5"'}, True, 0, "if-none-match"),
        ({"etag": '"33a64df5"', "cache-control": "public"}, False, 0, None),
        ({"etag": '"33a64df5"', "last-modified": LM}, True, 0, "if-modified-since"),
        ({"cache-control": "public"}, False, 0, None),
        ({"expires": "Wed, 21 Oct 2099 07:28:00 GMT"}, False, 0, None),
        ({}, False, 0, None),
    ],
)
def test_seed_rules(
    headers: dict[str, str], store: bool, fresh_for: float, revalidate: str | None
) -> None:
    rule = rule_for("seed", headers)
    assert (rule.store, rule.fresh_for, rule.revalidate) == (store, fresh_for, revalidate)
    assert rule.why


@pytest.mark.parametrize(
    "headers",
    [{}, {"cache-control": "no-store"}, {"cache-control": "private"}, {"etag": '"x"'}],
)
def test_fixed_policy_ignores_every_header(headers: dict[str, str]) -> None:
    assert rule_for("fixed-10m", headers) == CacheRule(
        True, 600.0, None, "fixed-10m policy: reused for 600 s"
    )


def test_cache_control_parsing_keeps_quoted_commas_together() -> None:
    assert cache_control('private="a, b", Max-Age="60" ,, no-cache') == {
        "private": ["a, b"],
        "max-age": ["60"],
        "no-cache": [None],
    }
