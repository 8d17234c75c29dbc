"""Who may see the inbox, and which channel a page is about.

Closed by default: ``wabox serve`` prints a link carrying the admin token (``/?token=…``),
which sets an HttpOnly, SameSite=Strict cookie and redirects to the clean URL, as Jupyter
does; ``WABOX_UI_OPEN=1`` opens it without the token, for a purely local sandbox. The
cookie holds an HMAC of the token, never the token itself.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from wabox.runtime import Runtime
from wabox.schema.sandbox import Channel
from wabox.ui.render import page

COOKIE = "wabox_ui"


class NotSignedIn(Exception):
    """No valid cookie: the page explains how to get in."""


class NoChannel(Exception):
    """The server has no channel at all (every one deleted): nothing to show."""


def inbox_link(base_url: str, token: str) -> str:
    return f"{base_url}/?{urlencode({'token': token})}"


def sign_in(runtime: Runtime, token: str) -> Response:
    """The token link: the cookie and the clean URL, or the sign-in page for a wrong token."""
    if not secrets.compare_digest(token.encode(), runtime.admin_token.encode()):
        return page("signin.html", 401, wrong=True)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, _cookie_value(runtime), httponly=True, samesite="strict", path="/")
    return response


def signed_in(request: Request) -> Runtime:
    """The runtime, for a request that carries the cookie (or for an open inbox)."""
    runtime: Runtime = request.state.runtime
    if runtime.config.ui_open:
        return runtime
    cookie = request.cookies.get(COOKIE, "")
    if not secrets.compare_digest(cookie.encode(), _cookie_value(runtime).encode()):
        raise NotSignedIn
    return runtime


def _cookie_value(runtime: Runtime) -> str:
    return hmac.new(runtime.url_secret, runtime.admin_token.encode(), hashlib.sha256).hexdigest()


async def pick_channel(runtime: Runtime, phone_number_id: str | None) -> Channel:
    """The channel asked for (another process's too), else the default one, else any: a
    deleted one falls back."""
    channel = await runtime.database.channels.find(phone_number_id or runtime.default_channel_id)
    if channel is None:
        channel = next(iter(await runtime.database.channels.listed()), None)
    if channel is None:
        raise NoChannel
    return channel


async def not_signed_in(request: Request, exc: Exception) -> Response:
    return page("signin.html", 401, wrong=False)


async def no_channel(request: Request, exc: Exception) -> Response:
    return page("missing.html", 404, what="channel (create one with `wabox channel create`)")
