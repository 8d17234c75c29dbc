"""``wabox serve``: start the sandbox on its embedded defaults (SQLite + a local folder).

The server's modules (the app, uvicorn, the store and the media libraries) are imported when
the command runs, after the settings are read, so a wrong setting stops the start at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

import wabox
from wabox.cli.connection import DataDir
from wabox.cli.output import out

if TYPE_CHECKING:
    from rich.console import Console

    from wabox.config import Config
    from wabox.runtime import Runtime


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
    from wabox.config import Config

    console = out()
    try:
        config = Config.from_env(host=host, port=port, data_dir=data_dir, ui_open=ui_open)
        check_settings(config)
    except (ValueError, OSError) as exc:
        console.print(f"[red]wabox cannot start: {exc}[/red]", highlight=False)
        raise typer.Exit(2) from exc

    import uvicorn

    from wabox.app import create_app
    from wabox.http_protocol import BodyPassingProtocol

    shown_host = f"[{config.host}]" if ":" in config.host else config.host
    base_url = f"http://{shown_host}:{config.port}"
    application = create_app(config, on_ready=lambda runtime: banner(console, runtime, base_url))
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


def check_settings(config: Config) -> None:
    """Settings that need reading before the server starts: a mistake stops the start
    with one line naming it, instead of a traceback from the app's startup."""
    from wabox.delivery.scenarios import load_scenario_file
    from wabox.schema.sandbox import channel_defaults

    channel_defaults(config.channel_defaults)
    if config.scenarios is not None:
        load_scenario_file(config.scenarios)


def banner(console: Console, runtime: Runtime, base_url: str) -> None:
    """Mailpit-style: everything a developer needs to point a client at this server."""
    from wabox.ui.signin import inbox_link

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


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url
