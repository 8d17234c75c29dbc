"""The ``wabox`` command: ``serve`` the sandbox; manage a running server's ``channel``s and
``template``s; send as a customer (``inbound``); ``send`` and manage ``media`` as the
business (``cli_client.py``); ``tail`` a server."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

import wabox
from wabox.cli_assets import assets_app
from wabox.cli_client import media_app, send_app
from wabox.cli_client import tail as follow
from wabox.client._core import detect_mime
from wabox.config import Config
from wabox.runtime import ADMIN_TOKEN, Runtime
from wabox.ui.routes import inbox_link

app = typer.Typer(help="wabox: WhatsApp Business messaging in a box.", no_args_is_help=True)
channel_app = typer.Typer(help="Manage the channels (business numbers) of a running server.")
app.add_typer(channel_app, name="channel")
template_app = typer.Typer(help="Manage the message templates of a running server's channels.")
app.add_typer(template_app, name="template")
app.add_typer(send_app, name="send")
app.add_typer(media_app, name="media")
app.add_typer(assets_app, name="assets")
console = Console()

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", envvar="WABOX_DATA_DIR", help="Folder for the database and media."),
]


def banner(runtime: Runtime, base_url: str) -> None:
    """Mailpit-style: everything a developer needs to point a client at this server."""
    channel = runtime.default_channel
    assert channel is not None  # made by open_runtime just before
    inbox = base_url + "/" if runtime.config.ui_open else inbox_link(base_url, runtime.admin_token)
    rows = (
        ("Inbox", inbox),
        ("Cloud API", f"{base_url}/v21.0/{channel.phone_number_id}/messages  (any vX.Y)"),
        ("360dialog", f"{base_url}/messages"),
        ("Docs", f"{base_url}/docs  ·  {base_url}/openapi.json"),
        ("phone_number_id", channel.phone_number_id),
        ("Display number", f"+{channel.display_phone_number}"),
        ("WABA id", channel.waba_id),
        ("API key", channel.api_key),
        ("Admin token", runtime.admin_token),
        ("Database", _redact(runtime.config.resolved_database_url)),
    )
    console.print(f"[bold]wabox {wabox.__version__}[/bold] is ready", soft_wrap=True)
    for label, value in rows:
        console.print(
            f"  [bold green]{label:<16}[/bold green] {value}", soft_wrap=True, highlight=False
        )


def check_settings(config: Config) -> None:
    """Settings that need reading before the server starts: a mistake stops the start
    with one line naming it, instead of a traceback from the app's startup."""
    from wabox.delivery.scenarios import load_scenario_file
    from wabox.schema.sandbox import channel_defaults

    channel_defaults(config.channel_defaults)
    if config.scenarios is not None:
        load_scenario_file(config.scenarios)


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on.", envvar="WABOX_HOST")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on.", envvar="WABOX_PORT")
    ] = None,
    data_dir: DataDir = None,
    ui_open: Annotated[
        bool | None,
        typer.Option(
            "--ui-open", help="Open the web inbox without the token link (local use only)."
        ),
    ] = None,
) -> None:
    """Start the server on its embedded defaults (SQLite + a local folder)."""
    import uvicorn

    from wabox.app import create_app
    from wabox.http_protocol import BodyPassingProtocol

    try:
        config = Config.from_env(host=host, port=port, data_dir=data_dir, ui_open=ui_open)
        check_settings(config)
    except (ValueError, OSError) as exc:
        console.print(f"[red]wabox cannot start: {exc}[/red]", highlight=False)
        raise typer.Exit(2) from exc
    shown_host = f"[{config.host}]" if ":" in config.host else config.host
    base_url = f"http://{shown_host}:{config.port}"
    application = create_app(config, on_ready=lambda runtime: banner(runtime, base_url))
    uvicorn.run(
        application,
        host=config.host,
        port=config.port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http=BodyPassingProtocol,
        timeout_graceful_shutdown=5,
    )


def _admin_client(base_url: str, admin_token: str | None, data_dir: Path | None) -> httpx.Client:
    token = admin_token or _local_admin_token(data_dir or Config().data_dir)
    if token is None:
        raise typer.BadParameter(
            "give --admin-token (or WABOX_ADMIN_TOKEN)", param_hint="--admin-token"
        )
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _local_admin_token(data_dir: Path) -> str | None:
    """The token a server on this data dir persisted, so local use needs no flag."""
    from wabox.store.settings import read_local_setting

    return read_local_setting(data_dir / "wabox.sqlite3", ADMIN_TOKEN)


BaseUrl = Annotated[
    str, typer.Option("--base-url", envvar="WABOX_BASE_URL", help="The running server.")
]
AdminToken = Annotated[
    str | None,
    typer.Option("--admin-token", envvar="WABOX_ADMIN_TOKEN", help="Sandbox admin token."),
]


def _call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    try:
        response = client.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        console.print(f"[red]cannot reach {client.base_url}: {exc}[/red]")
        raise typer.Exit(1) from exc
    body = response.json()
    if response.is_error:
        console.print(f"[red]{body.get('error', {}).get('message', response.text)}[/red]")
        raise typer.Exit(1)
    return body


@channel_app.command("list")
def channel_list(
    base_url: BaseUrl = "http://127.0.0.1:8360",
    admin_token: AdminToken = None,
    data_dir: DataDir = None,
) -> None:
    """List channels with their phone_number_id, number and API key."""
    with _admin_client(base_url, admin_token, data_dir) as client:
        body = _call(client, "GET", "/sandbox/channels")
    table = Table("phone_number_id", "display number", "waba_id", "api_key", "name")
    for channel in body["channels"]:
        table.add_row(
            channel["phone_number_id"],
            "+" + channel["display_phone_number"],
            channel["waba_id"],
            channel["api_key"],
            channel["name"],
        )
    console.print(table)


@channel_app.command("create")
def channel_create(
    phone_number_id: Annotated[
        str | None, typer.Option(help="All digits; generated if left out.")
    ] = None,
    display_phone_number: Annotated[str | None, typer.Option(help="E.g. +1 555 010 0001.")] = None,
    waba_id: Annotated[str | None, typer.Option(help="All digits; generated if left out.")] = None,
    api_key: Annotated[str | None, typer.Option(help="Generated if left out.")] = None,
    name: Annotated[str | None, typer.Option(help="A label for people.")] = None,
    webhook_url: Annotated[
        str | None, typer.Option(help="Where its webhooks go (http or https).")
    ] = None,
    verify_token: Annotated[
        str | None,
        typer.Option(help="Meta's verify token: the URL must echo the verification GET."),
    ] = None,
    app_secret: Annotated[
        str | None, typer.Option(help="Signs every webhook (X-Hub-Signature-256).")
    ] = None,
    base_url: BaseUrl = "http://127.0.0.1:8360",
    admin_token: AdminToken = None,
    data_dir: DataDir = None,
) -> None:
    """Create a channel (a business number with its own API key)."""
    if webhook_url is None and (verify_token or app_secret):
        raise typer.BadParameter("--verify-token and --app-secret need --webhook-url")
    spec: dict[str, object] = {
        key: value
        for key, value in {
            "phone_number_id": phone_number_id,
            "display_phone_number": display_phone_number,
            "waba_id": waba_id,
            "api_key": api_key,
            "name": name,
        }.items()
        if value is not None
    }
    if webhook_url is not None:
        webhook = {"url": webhook_url, "verify_token": verify_token, "app_secret": app_secret}
        spec["settings"] = {"webhook": {k: v for k, v in webhook.items() if v is not None}}
    with _admin_client(base_url, admin_token, data_dir) as client:
        channel = _call(client, "POST", "/sandbox/channels", json=spec)
    console.print_json(data=channel)


@channel_app.command("delete")
def channel_delete(
    phone_number_id: Annotated[str, typer.Argument(help="The channel to delete.")],
    base_url: BaseUrl = "http://127.0.0.1:8360",
    admin_token: AdminToken = None,
    data_dir: DataDir = None,
) -> None:
    """Delete a channel with its messages and media."""
    with _admin_client(base_url, admin_token, data_dir) as client:
        _call(client, "DELETE", f"/sandbox/channels/{phone_number_id}")
    console.print(f"deleted channel {phone_number_id}")


MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")


@app.command()
def inbound(
    sender: Annotated[str, typer.Option("--from", help="The customer's number (wa_id).")],
    text: Annotated[str | None, typer.Option(help="A text message.")] = None,
    kind: Annotated[
        str | None,
        typer.Option("--type", help="image, video, audio, document or sticker."),
    ] = None,
    file: Annotated[
        Path | None, typer.Option(help="The customer's own file (else a bundled sample).")
    ] = None,
    sample: Annotated[
        str | None, typer.Option(help="A bundled sample, e.g. sticker_animated.webp.")
    ] = None,
    mime_type: Annotated[str | None, typer.Option(help="Of --file; guessed if left out.")] = None,
    caption: Annotated[str | None, typer.Option(help="For image, video, document.")] = None,
    filename: Annotated[str | None, typer.Option(help="For document.")] = None,
    voice: Annotated[bool, typer.Option(help="Audio recorded as a voice note.")] = False,
    reply_to: Annotated[
        str | None, typer.Option(help="The wamid of the business message quoted.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="The customer's profile name.")] = None,
    channel: Annotated[
        str | None, typer.Option(help="phone_number_id; the default channel if left out.")
    ] = None,
    base_url: BaseUrl = "http://127.0.0.1:8360",
    admin_token: AdminToken = None,
    data_dir: DataDir = None,
) -> None:
    """Send a message to a channel as its customer: the webhook fires, the window opens."""
    body: dict[str, Any] = {"from": sender}
    for key, value in (("name", name), ("channel", channel)):
        if value is not None:
            body[key] = value
    if reply_to is not None:
        body["context"] = {"id": reply_to}
    if (text is None) == (kind is None):
        raise typer.BadParameter("give either --text or --type", param_hint="--text")
    if text is not None:
        body |= {"type": "text", "text": {"body": text}}
    else:
        assert kind is not None
        if kind not in MEDIA_KINDS:
            raise typer.BadParameter(f"one of {', '.join(MEDIA_KINDS)}", param_hint="--type")
        media: dict[str, Any] = {"caption": caption, "filename": filename, "sample": sample}
        if kind == "audio":
            media["voice"] = voice
        if file is not None:
            content = file.read_bytes()
            # As the client's uploads do: by name (.opus and .ogg are audio/ogg), else bytes.
            guessed = mime_type or detect_mime(file.name, content[:64])
            data = base64.b64encode(content).decode()
            media |= {
                "data": data,
                "mime_type": guessed,
                "filename": filename or (file.name if kind == "document" else None),
            }
        body |= {"type": kind, kind: {k: v for k, v in media.items() if v is not None}}
    with _admin_client(base_url, admin_token, data_dir) as client:
        answer = _call(client, "POST", "/sandbox/inbound", json=body)
    console.print_json(data=answer)


@template_app.command("create")
def template_create(
    name: Annotated[str, typer.Argument(help="Lower case, digits and _.")],
    body: Annotated[str, typer.Option(help="The body, with {{1}}, {{2}} … placeholders.")],
    language: Annotated[str, typer.Option(help="E.g. en_US.")] = "en_US",
    category: Annotated[str, typer.Option(help="marketing, utility or authentication.")] = (
        "utility"
    ),
    header_text: Annotated[str | None, typer.Option(help="A text header.")] = None,
    header_format: Annotated[
        str | None, typer.Option(help="A media header: IMAGE, VIDEO or DOCUMENT.")
    ] = None,
    footer: Annotated[str | None, typer.Option(help="The footer text.")] = None,
    status: Annotated[
        str, typer.Option(help="APPROVED, PENDING, REJECTED, PAUSED or DISABLED.")
    ] = "APPROVED",
    channel: Annotated[
        str | None, typer.Option(help="phone_number_id; the default channel if left out.")
    ] = None,
    base_url: BaseUrl = "http://127.0.0.1:8360",
    admin_token: AdminToken = None,
    data_dir: DataDir = None,
) -> None:
    """Create a template on a channel."""
    components: list[dict[str, Any]] = []
    if header_text is not None:
        components.append({"type": "HEADER", "format": "TEXT", "text": header_text})
    elif header_format is not None:
        components.append({"type": "HEADER", "format": header_format})
    components.append({"type": "BODY", "text": body})
    if footer is not None:
        components.append({"type": "FOOTER", "text": footer})
    spec: dict[str, Any] = {
        "name": name,
        "language": language,
        "category": category,
        "status": status,
        "components": components,
    }
    if channel is not None:
        spec["channel"] = channel
    with _admin_client(base_url, admin_token, data_dir) as client:
        created = _call(client, "POST", "/sandbox/templates", json=spec)
    console.print_json(data=created)


@template_app.command("list")
def template_list(
    channel: Annotated[str | None, typer.Option(help="Only this phone_number_id.")] = None,
    base_url: BaseUrl = "http://127.0.0.1:8360",
    admin_token: AdminToken = None,
    data_dir: DataDir = None,
) -> None:
    """List templates with their id, channel, status and category."""
    params = {"channel": channel} if channel else {}
    with _admin_client(base_url, admin_token, data_dir) as client:
        found = _call(client, "GET", "/sandbox/templates", params=params)
    table = Table("id", "channel", "name", "language", "category", "status")
    for template in found["templates"]:
        table.add_row(
            template["id"],
            template["channel"],
            template["name"],
            template["language"],
            template["category"],
            template["status"],
        )
    console.print(table)


@template_app.command("status")
def template_status(
    template_id: Annotated[str, typer.Argument(help="The template's id.")],
    status: Annotated[str, typer.Argument(help="APPROVED, PENDING, REJECTED, PAUSED, DISABLED.")],
    base_url: BaseUrl = "http://127.0.0.1:8360",
    admin_token: AdminToken = None,
    data_dir: DataDir = None,
) -> None:
    """Set a template's status, as Meta's review or quality rating would."""
    with _admin_client(base_url, admin_token, data_dir) as client:
        updated = _call(
            client, "PATCH", f"/sandbox/templates/{template_id}", json={"status": status}
        )
    console.print(f"template {updated['name']} ({updated['language']}) is {updated['status']}")


@app.command()
def tail(
    channel: Annotated[str | None, typer.Option(help="Only this phone_number_id.")] = None,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: never).")
    ] = None,
    base_url: BaseUrl = "http://127.0.0.1:8360",
    admin_token: AdminToken = None,
    data_dir: DataDir = None,
) -> None:
    """Follow a running server: messages, statuses and webhook attempts as they happen."""
    with _admin_client(base_url, admin_token, data_dir) as client:
        try:
            follow(client, channel, duration)
        except KeyboardInterrupt:
            pass
        except httpx.TransportError as exc:
            console.print(f"[red]cannot reach {base_url}: {exc}[/red]")
            raise typer.Exit(1) from exc


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
