"""``wabox tail``: follow a running server's messages, statuses and webhook attempts."""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wabox.cli.connection import LOCAL, Admin, AdminToken, BaseUrl, DataDir
from wabox.cli.output import out

if TYPE_CHECKING:
    import httpx


def tail(
    channel: Annotated[str | None, typer.Option(help="Only this phone_number_id.")] = None,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: never).")
    ] = None,
    base_url: BaseUrl = LOCAL,
    admin_token: AdminToken = None,
    data_dir: DataDir = None,
) -> None:
    """Follow a running server: messages, statuses and webhook attempts as they happen."""
    admin = Admin(base_url, admin_token, data_dir)
    # Ctrl-C is how a follow ends: exit 0 (suppress is inside, so the client closes normally).
    with admin.client() as client, contextlib.suppress(KeyboardInterrupt):
        follow(client, channel, duration)


def follow(
    client: httpx.Client, channel: str | None, duration: float | None, interval: float = 0.5
) -> None:
    """Print each new message, status and webhook attempt as it happens, oldest first.

    Without ``duration`` what happened before the first look is skipped, as ``tail -f``
    starts at the end; with it, everything in the window is printed.
    """
    console = out()
    seen_events: dict[str, int] = {}
    seen_attempts: dict[int, int] = {}
    first = True
    stop = time.monotonic() + duration if duration is not None else None
    params = {"limit": "200", **({"channel": channel} if channel else {})}
    while stop is None or time.monotonic() < stop:
        messages = client.get("/sandbox/messages", params=params).json()["messages"]
        deliveries = client.get("/sandbox/webhooks", params=params).json()["deliveries"]
        lines: list[tuple[float, str]] = []
        for message in messages:
            events = message["events"]
            done = seen_events.get(message["wamid"], 0)
            for event in events[done:]:
                lines.append((event["timestamp"], _event_line(message, event)))
            seen_events[message["wamid"]] = len(events)
        for delivery in deliveries:
            attempts = delivery["attempts"]
            for attempt in attempts[seen_attempts.get(delivery["id"], 0) :]:
                lines.append((attempt["at"], _attempt_line(delivery, attempt)))
            seen_attempts[delivery["id"]] = len(attempts)
        if not first or duration is not None:
            for _, line in sorted(lines):
                console.print(line, highlight=False, soft_wrap=True)
        first = False
        time.sleep(interval)


def _clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(at)) + f".{int(at % 1 * 1000):03d}"


def _event_line(message: dict[str, Any], event: dict[str, Any]) -> str:
    arrow = "→" if message["direction"] == "outbound" else "←"
    line = f"{_clock(event['timestamp'])} {arrow} +{message['to']} {message['type']} "
    line += f"{event['status']} {message['wamid']}"
    details = event.get("details")
    if isinstance(details, dict) and "code" in details:
        line += f" ({details['code']} {details.get('title', '')}: {details.get('details', '')})"
    return line


def _attempt_line(delivery: dict[str, Any], attempt: dict[str, Any]) -> str:
    answer = attempt.get("http_status") or attempt.get("error") or "no answer"
    return (
        f"{_clock(attempt['at'])} ⇢ webhook {delivery['event']} "
        f"{delivery.get('message_id') or ''} {answer} in {attempt['latency_ms']:.1f} ms"
    )
