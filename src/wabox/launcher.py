"""The ``wabox`` command's entry point: a clear word when only the client is installed."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from wabox.cli import main as cli

        cli()
    except ImportError as exc:
        # wabox.cli loads only typer; each command imports the rest of the server extra
        # when it runs, so a missing library can surface here too. Our own are bugs.
        if (exc.name or "wabox").partition(".")[0] == "wabox":
            raise
        sys.stderr.write(
            f"wabox: the command needs the server's dependencies ({exc.name} is missing): "
            "pip install 'wabox[server]'\n"
        )
        raise SystemExit(1) from exc
