"""The ``wabox`` command's entry point: a clear word when only the client is installed."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from wabox.cli import main as cli
    except ImportError as exc:
        sys.stderr.write(
            f"wabox: the command needs the server's dependencies ({exc.name} is missing): "
            "pip install 'wabox[server]'\n"
        )
        raise SystemExit(1) from exc
    cli()
