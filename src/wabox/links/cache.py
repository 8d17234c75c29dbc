"""How long a fetched link may be reused, under the channel's policy.

``seed`` (the default) follows the seed document's rules, which are not RFC 9111's:

- ``Cache-Control: no-store`` or ``private`` → never cached. These win over every other
  directive, as in RFC 9111 (§5.2.2.5, and ``private`` is a shared-cache prohibition).
- ``no-cache`` → cached, revalidated on every use with ``If-Modified-Since`` (the seed
  requires ``Last-Modified``); with only an ``ETag`` it revalidates with ``If-None-Match``,
  and with neither it is not cached. ``no-cache`` wins over ``max-age``.
- ``max-age=n`` → reused for n seconds (less the ``Age`` the response already has), then
  fetched again. A malformed value ("abc", "-1", "1.5") makes the response stale at once,
  so it is not cached (RFC 9111 §4.2.1); of several values the smallest wins.
- ``Last-Modified`` with no freshness directive → revalidated on every use, as with
  ``no-cache``: the seed pairs it with ``no-cache`` and names no other use.
- ``ETag`` → used only when neither ``Cache-Control`` nor ``Last-Modified`` is present:
  then cached and revalidated on every use with ``If-None-Match``. Meta calls this case
  "internal logic" it does not disclose; this is wabox's documented choice.
- No caching header at all (or a ``Cache-Control`` with none of the directives above and
  no ``Last-Modified``) → not cached. ``Expires`` and ``Pragma`` are not in the seed and are
  ignored.

``fixed-10m`` is Meta's behaviour since 10 September 2024 (wire-facts §0.1): headers are
ignored and every successful fetch is reused for 10 minutes, keyed on the exact link.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

LinkCachePolicy = Literal["seed", "fixed-10m"]
Revalidation = Literal["if-modified-since", "if-none-match"]
FIXED_TTL = 600.0


@dataclass(frozen=True, slots=True)
class CacheRule:
    """What a response allows: not stored, stored fresh for a while, or stored to revalidate."""

    store: bool
    fresh_for: float = 0.0
    revalidate: Revalidation | None = None
    why: str = ""


def cache_control(value: str) -> dict[str, list[str | None]]:
    """Directives of a (possibly comma-joined) ``Cache-Control`` value, names lowercased."""
    directives: dict[str, list[str | None]] = {}
    for part in _split(value):
        name, sep, argument = part.partition("=")
        name = name.strip().lower()
        if not name:
            continue
        arg = argument.strip().strip('"') if sep else None
        directives.setdefault(name, []).append(arg)
    return directives


def _split(value: str) -> list[str]:
    """Split on commas outside quoted strings (``private="a, b"`` is one directive)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _max_age(arguments: list[str | None]) -> int | None:
    """The smallest valid delta-seconds, or None when any value is malformed."""
    ages = []
    for argument in arguments:
        if argument is None or not argument.isdigit():
            return None
        ages.append(int(argument))
    return min(ages)


def _age(headers: Mapping[str, str]) -> int:
    raw = headers.get("age", "").strip()
    return int(raw) if raw.isdigit() else 0


def rule_for(policy: LinkCachePolicy, headers: Mapping[str, str]) -> CacheRule:
    """The rule for a 200 response; ``headers`` keys are lowercase."""
    if policy == "fixed-10m":
        return CacheRule(True, FIXED_TTL, None, "fixed-10m policy: reused for 600 s")
    return seed_rule(headers)


def seed_rule(headers: Mapping[str, str]) -> CacheRule:
    raw = headers.get("cache-control")
    directives = cache_control(raw) if raw is not None else {}
    last_modified = headers.get("last-modified")
    etag = headers.get("etag")
    for forbidding in ("no-store", "private"):
        if forbidding in directives:
            return CacheRule(False, why=f"Cache-Control: {forbidding}")
    if "no-cache" in directives:
        if last_modified is not None:
            return CacheRule(True, 0.0, "if-modified-since", "no-cache with Last-Modified")
        if etag is not None:
            return CacheRule(True, 0.0, "if-none-match", "no-cache with ETag")
        return CacheRule(False, why="no-cache without Last-Modified")
    if "max-age" in directives:
        max_age = _max_age(directives["max-age"])
        if max_age is None:
            return CacheRule(False, why="malformed max-age")
        fresh_for = max_age - _age(headers)
        if fresh_for <= 0:
            return CacheRule(False, why=f"max-age={max_age} already used up")
        return CacheRule(True, float(fresh_for), None, f"max-age={max_age}")
    if last_modified is not None:
        return CacheRule(True, 0.0, "if-modified-since", "Last-Modified")
    if etag is not None and raw is None:
        return CacheRule(True, 0.0, "if-none-match", "ETag only")
    return CacheRule(False, why="no caching headers")
