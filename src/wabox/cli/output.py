"""Where the commands write: rich consoles on stdout and stderr, made when a command prints.

A console made per command reads ``COLUMNS`` and the streams of the moment it runs (a test's
``CliRunner`` swaps both), and rich is not imported until something is printed.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def out() -> Console:
    """The console on stdout: results, and the sandbox commands' errors."""
    from rich.console import Console

    return Console()


def err() -> Console:
    """The console on stderr: progress bars, and the business commands' errors."""
    from rich.console import Console

    return Console(stderr=True)


def show(result: Any) -> None:
    """A client result (a dataclass) as JSON on stdout."""
    out().print_json(data=dataclasses.asdict(result))
