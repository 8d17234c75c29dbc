"""Meta's verification GET: a callback URL is accepted only if it echoes the challenge
(wire-facts §5.4)."""

from __future__ import annotations

import secrets

import aiohttp

from wabox.errors import CallbackVerificationFailed

TIMEOUT = 5.0


async def verify_callback(url: str, verify_token: str) -> None:
    """GET ``url?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…``; raises
    ``CallbackVerificationFailed`` unless the answer is 200 with the challenge as its body."""
    challenge = str(secrets.randbelow(9 * 10**9) + 10**9)
    params = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": verify_token}
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session,
            session.get(url, params=params, allow_redirects=False) as response,
        ):
            body = (await response.content.read(4096)).decode("utf-8", "replace").strip()
            status, reason = response.status, response.reason or ""
    except TimeoutError:
        raise CallbackVerificationFailed(
            f"Callback verification failed with the following errors: no answer within "
            f"{TIMEOUT:g} s"
        ) from None
    except aiohttp.ClientError as exc:
        raise CallbackVerificationFailed(
            f"Callback verification failed with the following errors: {type(exc).__name__}: {exc}"
        ) from None
    if status != 200:
        raise CallbackVerificationFailed(
            f"Callback verification failed with the following errors: HTTP Status Code = "
            f"{status}; HTTP Message = {reason}"
        )
    if body != challenge:
        raise CallbackVerificationFailed(
            "Callback verification failed with the following errors: the response body was "
            f"not the challenge (expected {challenge}, got {body[:64]!r})"
        )
