"""``wabox serve``: start the sandbox on its embedded defaults (SQLite + a local folder).

The server's modules (the app, uvicorn, the store and the media libraries) are imported when
the command runs, after the settings are read, so a wrong setting stops the start at once.
A database this wabox cannot work on (a newer schema, or an unmigrated one with
``--no-migrate``) stops it too, with one line. ``--workers N`` runs N processes on one port
(uvicorn's supervisor restarts one that dies); they share the database, so N > 1 needs
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Annotated, Any

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
    workers: Annotated[
        int | None,
        typer.Option(
            help="Processes sharing the port (WABOX_WORKERS); more than 1 needs PostgreSQL."
        ),
    ] = None,
    role: Annotated[
        str | None,
        typer.Option(
            help="all, api (HTTP only) or worker (background work only) (WABOX_ROLE).",
            show_default="all",
        ),
    ] = None,
    migrate: Annotated[
        bool | None,
        typer.Option(
            "--migrate/--no-migrate",
            help="Migrate the database on start (WABOX_MIGRATE); with --no-migrate, refuse "
            "a database `wabox migrate` has not brought to this version.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Start the server on its embedded defaults (SQLite + a local folder)."""
    from wabox.config import Config

    console = out()
    try:
        config = Config.from_env(
            host=host,
            port=port,
            data_dir=data_dir,
            ui_open=ui_open,
            workers=workers,
            role=role,
            migrate=migrate,
        )
        check_settings(config)
        asyncio.run(check_database(config))
    except (ValueError, OSError, RuntimeError) as exc:
        console.print(f"[red]wabox cannot start: {exc}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from exc

    import uvicorn

    from wabox.http_protocol import BodyPassingProtocol

    shown_host = f"[{config.host}]" if ":" in config.host else config.host
    base_url = f"http://{shown_host}:{config.port}"
    options: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "log_level": "warning",
        "access_log": False,
        "loop": "uvloop",
        "http": BodyPassingProtocol,
        "timeout_graceful_shutdown": 5,
    }
    if config.workers == 1:
        from wabox.app import create_app

        def show(runtime: Runtime) -> None:
            if config.runs_http_api:
                banner(console, runtime, base_url)

        uvicorn.run(create_app(config, on_ready=show), **options)
        return
    # The first start's work (migrations, generated settings, the default channel) happens
    # once, here, so the banner can say what every process serves; each process then reads
    # the same settings from the environment.
    if config.runs_http_api:
        asyncio.run(_show_banner(console, config, base_url))
    os.environ.update(_environment(config))
    uvicorn.run("wabox.app:app_from_env", factory=True, workers=config.workers, **options)


def check_settings(config: Config) -> None:
    """Settings that need reading before the server starts: a mistake stops the start
    with one line naming it, instead of a traceback from the app's startup."""
    from wabox.delivery.scenarios import load_scenario_file
    from wabox.schema.sandbox import channel_defaults

    if (problem := config.problem()) is not None:
        raise ValueError(problem)
    channel_defaults(config.channel_defaults)
    if config.scenarios is not None:
        load_scenario_file(config.scenarios)


async def check_database(config: Config) -> None:
    """A database this wabox cannot work on stops the start here, in one line."""
    from wabox.store.database import (
        SchemaProblem,
        create_engine,
        schema_problem,
        schema_revision,
    )

    engine = create_engine(config.resolved_database_url)
    try:
        revision = await schema_revision(engine)
    except Exception as exc:  # the driver's own errors: unreachable, refused, no such db
        raise RuntimeError(f"cannot open the database: {exc}") from exc
    finally:
        await engine.dispose()
    if (problem := schema_problem(revision, migrating=config.migrate)) is not None:
        raise SchemaProblem(problem)


async def _show_banner(console: Console, config: Config, base_url: str) -> None:
    from wabox.runtime import open_runtime

    runtime = await open_runtime(config)
    try:
        banner(console, runtime, base_url)
    finally:
        await runtime.close()


def _environment(config: Config) -> dict[str, str]:
    """The settings flags gave, as the ``WABOX_*`` variables each process reads."""
    given = {
        "WABOX_HOST": config.host,
        "WABOX_PORT": str(config.port),
        "WABOX_DATA_DIR": str(config.data_dir),
        "WABOX_UI_OPEN": "1" if config.ui_open else "0",
        "WABOX_ROLE": config.role,
        "WABOX_MIGRATE": "1" if config.migrate else "0",
    }
    return given


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
        ("Database", redact(runtime.config.resolved_database_url)),
    )
    console.print(f"[bold]wabox {wabox.__version__}[/bold] is ready", soft_wrap=True)
    for label, value in rows:
        console.print(
            f"  [bold green]{label:<16}[/bold green] {value}", soft_wrap=True, highlight=False
        )


def redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url
