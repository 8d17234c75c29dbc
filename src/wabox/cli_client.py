"""``wabox send``, ``wabox media`` and ``wabox tail``: the sending side from a terminal.

``send`` and ``media`` talk to any 360dialog or Cloud API host through ``wabox.client``
(``--base-url``, ``--api-key``, ``--dialect``); ``tail`` follows a wabox server's admin API.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from wabox.client import Client, HeaderMedia, SentMessage, WhatsAppError

send_app = typer.Typer(help="Send a message (media: upload then send by ID, or by --link).")
media_app = typer.Typer(help="Upload, look up, download and delete media.")
console = Console()
errors = Console(stderr=True)

BaseUrl = Annotated[
    str,
    typer.Option("--base-url", envvar="WABOX_BASE_URL", help="The API host (wabox or real)."),
]
ApiKey = Annotated[
    str,
    typer.Option("--api-key", envvar="WABOX_API_KEY", help="D360-API-KEY, or the Cloud API token."),
]
DialectOption = Annotated[
    str, typer.Option("--dialect", envvar="WABOX_DIALECT", help="360dialog or cloud.")
]
PhoneNumberId = Annotated[
    str | None,
    typer.Option(
        "--phone-number-id", envvar="WABOX_PHONE_NUMBER_ID", help="Needed with --dialect cloud."
    ),
]
To = Annotated[str, typer.Option("--to", help="The recipient's number, e.g. 16505551234.")]
LOCAL = "http://127.0.0.1:8360"


@contextmanager
def _client(
    base_url: str, api_key: str, dialect: str, phone_number_id: str | None
) -> Iterator[Client]:
    if dialect == "360dialog":
        client = Client.for_360dialog(api_key, base_url=base_url)
    elif dialect == "cloud":
        if not phone_number_id:
            raise typer.BadParameter("--dialect cloud needs --phone-number-id")
        client = Client.for_cloud_api(api_key, phone_number_id, base_url=base_url)
    else:
        raise typer.BadParameter("360dialog or cloud", param_hint="--dialect")
    try:
        with client:
            yield client
    except WhatsAppError as exc:
        errors.print(f"[red]error ({exc.code}) {exc.title}[/red]: {exc.details}", highlight=False)
        raise typer.Exit(1) from exc
    except httpx.TransportError as exc:
        errors.print(f"[red]cannot reach {base_url}: {exc}[/red]")
        raise typer.Exit(1) from exc


def _show(result: Any) -> None:
    console.print_json(data=dataclasses.asdict(result))


def _upload(client: Client, path: Path, mime_type: str | None = None) -> str:
    """Upload with a progress bar (on a terminal), answer the media ID."""
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=errors,
        transient=True,
    ) as bar:
        task = bar.add_task(f"upload {path.name}", total=path.stat().st_size)
        return client.upload_media(
            path, mime_type, progress=lambda sent, total: bar.update(task, completed=sent)
        )


def _send_media(
    kind: str,
    to: str,
    file: Path | None,
    link: str | None,
    media_id: str | None,
    fields: dict[str, Any],
    connection: tuple[str, str, str, str | None],
) -> None:
    if sum(x is not None for x in (file, link, media_id)) != 1:
        raise typer.BadParameter("give exactly one of --file, --link and --media-id")
    with _client(*connection) as client:
        if file is not None:
            media_id = _upload(client, file)
        send = getattr(client, f"send_{kind}")
        sent: SentMessage = send(to, media_id=media_id, link=link, **fields)
    _show(sent)


def _media_command(kind: str) -> None:
    """``wabox send <kind>`` with the options that kind takes."""

    def command(
        to: To,
        file: Annotated[Path | None, typer.Option(help="Upload this file, then send it.")] = None,
        link: Annotated[str | None, typer.Option(help="Send by hosted link instead.")] = None,
        media_id: Annotated[str | None, typer.Option(help="An uploaded media ID.")] = None,
        caption: Annotated[str | None, typer.Option(help="image, video, document.")] = None,
        filename: Annotated[str | None, typer.Option(help="document only.")] = None,
        voice: Annotated[bool, typer.Option(help="audio only: a voice note.")] = False,
        base_url: BaseUrl = LOCAL,
        api_key: ApiKey = "",
        dialect: DialectOption = "360dialog",
        phone_number_id: PhoneNumberId = None,
    ) -> None:
        fields: dict[str, Any] = {}
        if caption is not None:
            fields["caption"] = caption
        if filename is not None:
            fields["filename"] = filename
        if voice:
            fields["voice"] = True
        if file is not None and not file.is_file():
            raise typer.BadParameter(f"no such file: {file}", param_hint="--file")
        connection = (base_url, api_key, dialect, phone_number_id)
        try:
            _send_media(kind, to, file, link, media_id, fields, connection)
        except (ValueError, TypeError) as exc:
            raise typer.BadParameter(str(exc)) from exc

    command.__doc__ = f"Send a{'n' if kind[0] in 'aeiou' else ''} {kind} message."
    send_app.command(kind)(command)


for _kind in ("image", "video", "audio", "document", "sticker"):
    _media_command(_kind)


@send_app.command("text")
def send_text(
    to: To,
    body: Annotated[str, typer.Option(help="The text (up to 4096 characters).")],
    reply_to: Annotated[str | None, typer.Option(help="Quote this wamid.")] = None,
    base_url: BaseUrl = LOCAL,
    api_key: ApiKey = "",
    dialect: DialectOption = "360dialog",
    phone_number_id: PhoneNumberId = None,
) -> None:
    """Send a text message."""
    with _client(base_url, api_key, dialect, phone_number_id) as client:
        _show(client.send_text(to, body, reply_to=reply_to))


@send_app.command("template")
def send_template(
    to: To,
    name: Annotated[str, typer.Option(help="The template's name.")],
    language: Annotated[str, typer.Option(help="Its language code.")] = "en_US",
    param: Annotated[list[str] | None, typer.Option(help="A body parameter; repeat.")] = None,
    header_text: Annotated[str | None, typer.Option(help="A text header's parameter.")] = None,
    header_type: Annotated[str | None, typer.Option(help="image, video or document.")] = None,
    header_id: Annotated[str | None, typer.Option(help="The header media's ID.")] = None,
    header_link: Annotated[str | None, typer.Option(help="The header media's link.")] = None,
    base_url: BaseUrl = LOCAL,
    api_key: ApiKey = "",
    dialect: DialectOption = "360dialog",
    phone_number_id: PhoneNumberId = None,
) -> None:
    """Send a template message (the only kind allowed outside the 24-hour window)."""
    header: HeaderMedia | str | None = header_text
    if header_type is not None:
        if header_type not in ("image", "video", "document"):
            raise typer.BadParameter("image, video or document", param_hint="--header-type")
        header = HeaderMedia(header_type, id=header_id, link=header_link)  # type: ignore[arg-type]
    with _client(base_url, api_key, dialect, phone_number_id) as client:
        _show(client.send_template(to, name, language, body_params=param or (), header=header))


@media_app.command("upload")
def media_upload(
    path: Annotated[Path, typer.Argument(help="The file.", exists=True, dir_okay=False)],
    mime_type: Annotated[str | None, typer.Option(help="Guessed when left out.")] = None,
    base_url: BaseUrl = LOCAL,
    api_key: ApiKey = "",
    dialect: DialectOption = "360dialog",
    phone_number_id: PhoneNumberId = None,
) -> None:
    """Upload a file; prints its media ID."""
    with _client(base_url, api_key, dialect, phone_number_id) as client:
        console.print_json(data={"id": _upload(client, path, mime_type)})


@media_app.command("get")
def media_get(
    media_id: Annotated[str, typer.Argument(help="The media ID.")],
    base_url: BaseUrl = LOCAL,
    api_key: ApiKey = "",
    dialect: DialectOption = "360dialog",
    phone_number_id: PhoneNumberId = None,
) -> None:
    """The media's download URL (valid 5 minutes), type, size and sha256."""
    with _client(base_url, api_key, dialect, phone_number_id) as client:
        _show(client.get_media(media_id))


@media_app.command("download")
def media_download(
    media: Annotated[str, typer.Argument(help="A media ID, or a URL from `media get`.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write it.")],
    base_url: BaseUrl = LOCAL,
    api_key: ApiKey = "",
    dialect: DialectOption = "360dialog",
    phone_number_id: PhoneNumberId = None,
) -> None:
    """Download media to a file (360dialog URLs are fetched from the API's own host)."""
    with _client(base_url, api_key, dialect, phone_number_id) as client:
        client.download_media(media, to=out)
    console.print(f"saved {out} ({out.stat().st_size} bytes)")


@media_app.command("delete")
def media_delete(
    media_id: Annotated[str, typer.Argument(help="The media ID.")],
    base_url: BaseUrl = LOCAL,
    api_key: ApiKey = "",
    dialect: DialectOption = "360dialog",
    phone_number_id: PhoneNumberId = None,
) -> None:
    """Delete uploaded media."""
    with _client(base_url, api_key, dialect, phone_number_id) as client:
        client.delete_media(media_id)
    console.print(f"deleted {media_id}")


def tail(
    client: httpx.Client, channel: str | None, duration: float | None, interval: float = 0.5
) -> None:
    """Print each new message, status and webhook attempt as it happens, oldest first."""
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
