"""``wabox migrate``: bring the database to this wabox's schema, for deployments that
migrate first and start their processes with ``--no-migrate``."""

from __future__ import annotations

import asyncio

import typer

from wabox.cli.connection import DataDir
from wabox.cli.output import out


def migrate(data_dir: DataDir = None) -> None:
    """Migrate the database (WABOX_DATABASE_URL, else the data dir's SQLite) and exit."""
    from wabox.cli.serve import redact
    from wabox.config import Config
    from wabox.store.database import create_engine
    from wabox.store.database import migrate as upgrade

    console = out()
    config = Config.from_env(data_dir=data_dir)
    url = config.resolved_database_url

    async def run() -> tuple[str | None, str]:
        engine = create_engine(url)
        try:
            return await upgrade(engine)
        finally:
            await engine.dispose()

    try:
        before, after = asyncio.run(run())
    except Exception as exc:  # a newer schema, or the driver's: unreachable, no such db
        console.print(f"[red]wabox cannot migrate: {exc}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from exc
    where = redact(url)
    if before == after:
        console.print(f"{where} is at revision {after} already", highlight=False, soft_wrap=True)
    else:
        console.print(
            f"migrated {where} from revision {before or '(empty)'} to {after}",
            highlight=False,
            soft_wrap=True,
        )
