"""Probing a receiver's security with webhooks it must refuse, as an attacker would send them.

Meta signs every webhook POST with ``X-Hub-Signature-256`` (the HMAC-SHA256 of the body
with the app secret) and expects the receiver to check it, and its verification GET
carries the ``hub.verify_token`` the receiver chose (Meta for Developers, Graph API,
"Getting Started with Webhooks": Verification Requests and Validating Payloads). A probe
sends one bad request and says what the receiver answered:

- ``unsigned``: a webhook without the signature header;
- ``bad_signature``: signed with a key that is not the app secret;
- ``old_secret``: signed with the channel's previous app secret;
- ``replay``: the channel's last delivered webhook again, byte for byte with its valid
  signature (Meta delivers a webhook more than once: a receiver must take it idempotently,
  so this is reported, not flagged);
- ``wrong_verify_token``: the verification GET with a token that is not the channel's.

A receiver that answers 2xx to a badly signed webhook, or echoes the challenge for a wrong
token, is flagged.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Literal

import aiohttp
from yarl import URL

from wabox.schema.sandbox import WebhookConfig
from wabox.webhooks.signing import HEADER, signature

ProbeKind = Literal["unsigned", "bad_signature", "old_secret", "replay", "wrong_verify_token"]
KINDS: tuple[ProbeKind, ...] = (
    "unsigned",
    "bad_signature",
    "old_secret",
    "replay",
    "wrong_verify_token",
)
TIMEOUT = 5.0
ANSWER_BYTES = 1024

_REFUSE = {
    "unsigned": "a webhook without X-Hub-Signature-256",
    "bad_signature": "a webhook signed with a wrong key",
    "old_secret": "a webhook signed with the previous app secret",
}


@dataclass(frozen=True, slots=True)
class Answer:
    status: int | None
    latency_ms: float
    body: str
    error: str | None


@dataclass(frozen=True, slots=True)
class Probe:
    """What was sent, what came back, and what it means."""

    kind: ProbeKind
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    answer: Answer
    verdict: str
    flagged: bool


async def send_probe(
    kind: ProbeKind,
    config: WebhookConfig,
    body: bytes,
    *,
    key: str | None = None,
    replayed_signature: str | None = None,
) -> Probe:
    """Send one probe. ``body``: the webhook to POST (for ``replay``, the delivered one);
    ``key``: what to sign with (``old_secret``: the previous app secret)."""
    if kind == "wrong_verify_token":
        return await _wrong_token(config)
    headers = {"Content-Type": "application/json", **config.headers}
    if kind == "bad_signature":
        headers[HEADER] = signature(body, key or secrets.token_hex(16))
    elif kind == "old_secret":
        assert key is not None
        headers[HEADER] = signature(body, key)
    elif kind == "replay" and replayed_signature is not None:
        headers[HEADER] = replayed_signature
    answer = await _request("POST", config.url, headers=headers, body=body)
    ok = answer.status is not None and 200 <= answer.status < 300
    if kind == "replay":
        verdict = (
            "accepted the replay: make sure it is handled once (Meta may deliver a webhook "
            "more than once)"
            if ok
            else "refused the replay: Meta retries a refused webhook for up to 7 days"
        )
        return Probe(kind, "POST", config.url, headers, body, answer, verdict, False)
    if ok:
        verdict = (
            f"FLAGGED: the receiver accepted {_REFUSE[kind]}; it must check "
            "X-Hub-Signature-256 against the raw body and refuse it"
        )
    else:
        verdict = f"refused {_REFUSE[kind]}, as it should"
    return Probe(kind, "POST", config.url, headers, body, answer, verdict, ok)


async def _wrong_token(config: WebhookConfig) -> Probe:
    token = "wrong-" + secrets.token_hex(8)
    challenge = str(secrets.randbelow(9 * 10**9) + 10**9)
    params = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": token}
    answer = await _request("GET", config.url, params=params)
    echoed = answer.status == 200 and answer.body.strip() == challenge
    verdict = (
        "FLAGGED: the receiver echoed the challenge for a wrong hub.verify_token; it must "
        "answer 403 unless the token is its own"
        if echoed
        else "refused the wrong hub.verify_token, as it should"
    )
    url = str(URL(config.url).update_query(params))
    return Probe("wrong_verify_token", "GET", url, {}, b"", answer, verdict, echoed)


async def _request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    params: dict[str, str] | None = None,
) -> Answer:
    started = time.monotonic()
    try:
        async with (
            aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=TIMEOUT), trust_env=False
            ) as session,
            session.request(
                method, url, headers=headers, data=body, params=params, allow_redirects=False
            ) as response,
        ):
            text = (await response.content.read(ANSWER_BYTES)).decode("utf-8", "replace")
            return Answer(response.status, _since(started), text, None)
    except TimeoutError:
        return Answer(None, _since(started), "", f"no answer within {TIMEOUT:g} s")
    except aiohttp.ClientError as exc:
        return Answer(None, _since(started), "", f"{type(exc).__name__}: {exc}")


def _since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 3)
