"""Assertions and waits shared by the tests."""

from __future__ import annotations

import asyncio
import inspect
import re
import socket
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

if TYPE_CHECKING:
    from tests.conftest import Server

FBTRACE = re.compile(r"^[A-Za-z0-9_-]{23}$")
T = TypeVar("T")


def free_port(address: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


class _Patience:
    """The deadline of one wait, and what the check gave last (for the failure message)."""

    def __init__(self, check: Callable[[], object], timeout: float, what: str | None) -> None:
        self.check = check
        self.timeout = timeout
        self.what = what
        self.deadline = time.monotonic() + timeout
        self.last: object = None
        self.raised: BaseException | None = None

    def saw(self, value: object = None, raised: BaseException | None = None) -> None:
        self.last, self.raised = value, raised

    def over(self) -> bool:
        return time.monotonic() >= self.deadline

    def failure(self) -> AssertionError:
        last = f"raised {self.raised!r}" if self.raised is not None else f"returned {self.last!r}"
        error = AssertionError(
            f"{self.describe()}: still not true after {self.timeout:g} s; the last call {last}"
        )
        error.__cause__ = self.raised
        return error

    def describe(self) -> str:
        if self.what is not None:
            return self.what
        name = getattr(self.check, "__qualname__", repr(self.check))
        if name.endswith("<lambda>"):
            try:
                return inspect.getsource(self.check).strip()
            except (OSError, TypeError):
                pass
        return name


def eventually(
    check: Callable[[], T | None],
    *,
    timeout: float = 10,
    interval: float = 0.02,
    ignoring: tuple[type[BaseException], ...] = (AssertionError,),
    what: str | None = None,
) -> T:
    """Call ``check`` until it returns a truthy value, and return that value.

    An exception of ``ignoring`` (an ``assert`` inside the check, by default) means "not
    yet", like a falsy value. After ``timeout`` seconds it fails with what the check gave or
    raised last. It waits for events the test cannot await (a webhook arrives, a row changes
    state, a process answers), never for time to pass: delays are the virtual clock's.
    """
    patience = _Patience(check, timeout, what)
    while True:
        try:
            value = check()
        except ignoring as exc:
            patience.saw(raised=exc)
        else:
            if value:
                return value
            patience.saw(value)
        if patience.over():
            raise patience.failure()
        time.sleep(interval)


async def aeventually(
    check: Callable[[], T | Awaitable[T | None] | None],
    *,
    timeout: float = 10,
    interval: float = 0.005,
    ignoring: tuple[type[BaseException], ...] = (AssertionError,),
    what: str | None = None,
) -> T:
    """``eventually`` inside an event loop: ``check`` may be a coroutine function, and the
    loop runs other tasks between calls (``interval=0`` just yields to them)."""
    patience = _Patience(check, timeout, what)
    while True:
        try:
            value = check()
            if inspect.isawaitable(value):
                value = await value
        except ignoring as exc:
            patience.saw(raised=exc)
        else:
            if value:
                return value  # type: ignore[return-value]
            patience.saw(value)
        if patience.over():
            raise patience.failure()
        await asyncio.sleep(interval)


def stored(server: Server, wamid: str) -> dict[str, Any]:
    """One message as wabox stores it: ``GET /sandbox/messages?wamid=``."""
    with server.admin() as admin:
        response = admin.get("/sandbox/messages", params={"wamid": wamid})
    assert response.status_code == 200, response.text
    found = response.json()["messages"]
    assert [m["wamid"] for m in found] == [wamid], f"wabox stores no message {wamid}: {found}"
    return dict(found[0])


def assert_graph_error(
    response: httpx.Response,
    *,
    status: int,
    code: int,
    message: str | None = None,
    contains: str | None = None,
    subcode: int | None = None,
) -> dict[str, Any]:
    """The response is the Graph envelope (wire-facts §4.1) with this status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert error["type"] in ("OAuthException", "GraphMethodException")
    assert FBTRACE.match(error["fbtrace_id"]), error["fbtrace_id"]
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert isinstance(error["error_data"]["details"], str)
    if message is not None:
        assert error["message"] == message, error["message"]
    if contains is not None:
        assert contains in error["message"] + error["error_data"]["details"], error
    if subcode is None:
        assert "error_subcode" not in error
    else:
        assert error["error_subcode"] == subcode
    return dict(error)


def message(type_: str, body: Any, to: str = "16505551234", **extra: Any) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": type_,
        type_: body,
        **extra,
    }


def register_template(
    admin: httpx.Client,
    name: str,
    *,
    channel: str | None = None,
    language: str = "en_US",
    header: str | None = None,
    body: str = "Hello {{1}}",
    category: str = "UTILITY",
    **extra: Any,
) -> dict[str, Any]:
    """An approved template through the admin API (kept if the channel already has it);
    ``header`` is a format: TEXT (text "Header"), IMAGE, VIDEO or DOCUMENT."""
    components: list[dict[str, Any]] = []
    if header == "TEXT":
        components.append({"type": "HEADER", "format": "TEXT", "text": "Header"})
    elif header is not None:
        components.append({"type": "HEADER", "format": header})
    components.append({"type": "BODY", "text": body})
    spec = {"name": name, "language": language, "category": category, "components": components}
    if channel is not None:
        spec["channel"] = channel
    response = admin.post("/sandbox/templates", json={**spec, **extra})
    if response.status_code == 400 and "already exists" in response.text:
        found = admin.get("/sandbox/templates", params={"name": name}).json()["templates"]
        return next(
            t
            for t in found
            if t["language"] == language and t["channel"] == (channel or t["channel"])
        )
    assert response.status_code == 201, response.text
    return dict(response.json())
