"""Who is calling: a channel's API key (either dialect) or the sandbox admin token."""

from __future__ import annotations

import secrets
from typing import Literal

from starlette.requests import Request

from wabox.errors import AuthError, ObjectNotFound, TokenInvalid
from wabox.runtime import Runtime
from wabox.schema.sandbox import Channel

Dialect = Literal["360dialog", "cloud"]


def presented_key(request: Request) -> str | None:
    """The key in ``D360-API-KEY`` or ``Authorization: Bearer``; both dialects take either."""
    key = request.headers.get("d360-api-key")
    if key:
        return key.strip()
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


async def authenticate(request: Request, runtime: Runtime, dialect: Dialect) -> Channel:
    key = presented_key(request)
    channels = runtime.database.channels
    channel = (channels.cached(key) or await channels.by_api_key(key)) if key else None
    if channel is not None:
        return channel
    if dialect == "360dialog":
        raise AuthError("Invalid api_key")
    if key is None:
        raise TokenInvalid("An access token is required to request this resource.")
    raise TokenInvalid("Invalid OAuth access token - Cannot parse access token")


async def channel_for_path(request: Request, runtime: Runtime, phone_number_id: str) -> Channel:
    """A Cloud API call: the token's channel must be the one in the path.

    A foreign or unknown phone_number_id gets the same answer, so a key cannot probe which
    other channels exist.
    """
    channel = await authenticate(request, runtime, "cloud")
    if channel.phone_number_id != phone_number_id:
        raise ObjectNotFound.for_object(request.method, phone_number_id)
    return channel


def require_admin(request: Request, runtime: Runtime) -> None:
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(
        token.strip().encode(), runtime.admin_token.encode()
    ):
        raise TokenInvalid("The sandbox API needs Authorization: Bearer <admin token>.")
