"""``wabox assets``: host your own media links (``serve``); see one as wabox does (``check``).

The tools (``wabox.assets``: uvicorn, the link fetcher, the media rules) are imported when a
command runs. Their defaults are repeated here for ``--help``; a test holds them equal.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from wabox.cli.output import out
from wabox.config import Config

if TYPE_CHECKING:
    from wabox.assets.check import CheckResult

app = typer.Typer(
    help="Host media links for wabox or Meta, and check how a link would be fetched.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
# wabox.assets.server's DEFAULT_HOST, DEFAULT_PORT and DEFAULT_POLICY's max-age.
HOST = "127.0.0.1"
PORT = 8361
MAX_AGE = 3600
# The server's own link timeouts (WABOX_LINK_TIMEOUT, WABOX_LINK_CONNECT_TIMEOUT).
_SERVER = Config()
_HEADER_NAMES = {"etag": "ETag", "cache-control": "Cache-Control", "last-modified": "Last-Modified"}


@app.command("serve")
def serve_assets(
    directory: Annotated[
        Path,
        typer.Argument(
            exists=True, file_okay=False, dir_okay=True, resolve_path=True, help="Folder to serve."
        ),
    ],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = HOST,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = PORT,
    max_age: Annotated[
        int | None,
        typer.Option(
            "--max-age", min=0, help=f"Cache-Control: max-age=N (the default is max-age={MAX_AGE})."
        ),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Cache-Control: no-cache (revalidate every use).")
    ] = False,
    no_store: Annotated[
        bool, typer.Option("--no-store", help="Cache-Control: no-store (never cached).")
    ] = False,
) -> None:
    """Serve DIRECTORY's files as media links.

    Every file gets its MIME type, Content-Length, Last-Modified, a strong ETag and the
    chosen Cache-Control; conditional GETs and byte ranges are answered. Nothing outside
    DIRECTORY is served, and folders are not listed.
    """
    chosen = [max_age is not None, no_cache, no_store]
    if sum(chosen) > 1:
        raise typer.BadParameter(
            "give at most one of them", param_hint="'--max-age' / '--no-cache' / '--no-store'"
        )
    from wabox.assets.server import DEFAULT_POLICY, NO_CACHE, NO_STORE, CachePolicy, serve

    policy: CachePolicy = DEFAULT_POLICY
    if max_age is not None:
        policy = CachePolicy.max_age(max_age)
    elif no_cache:
        policy = NO_CACHE
    elif no_store:
        policy = NO_STORE
    shown_host = f"[{host}]" if ":" in host else host
    out().print(
        f"Serving [bold]{directory}[/bold] at http://{shown_host}:{port}/ "
        f"with Cache-Control: {policy.header}",
        soft_wrap=True,
        highlight=False,
    )
    serve(directory, host, port, policy)


@app.command("check")
def check_link(
    url: Annotated[str, typer.Argument(help="The media link to fetch.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    timeout: Annotated[
        float,
        typer.Option(envvar="WABOX_LINK_TIMEOUT", help="Seconds each fetch may take."),
    ] = _SERVER.link_timeout,
    connect_timeout: Annotated[
        float,
        typer.Option(envvar="WABOX_LINK_CONNECT_TIMEOUT", help="Seconds to connect."),
    ] = _SERVER.link_connect_timeout,
    link_allow: Annotated[
        str,
        typer.Option(
            envvar="WABOX_LINK_ALLOW",
            help="The server's WABOX_LINK_ALLOW, to tell whether it would refuse the host.",
        ),
    ] = "",
) -> None:
    """Fetch URL as wabox's link fetcher does and report what wabox would do with it.

    Shows the status, Content-Type, size, caching headers, how long a channel would reuse
    the link (the default `seed` policy and fixed-10m), and for each message type whether
    it is sendable and why not. Loopback and private addresses are allowed here. Exits 1
    when the link is sendable as no type (including when it cannot be fetched).
    """
    import msgspec

    from wabox.assets.check import check

    result = check(
        url, connect_timeout=connect_timeout, total_timeout=timeout, link_allow=link_allow
    )
    if as_json:
        typer.echo(msgspec.json.format(msgspec.json.encode(result), indent=2).decode())
    else:
        _print(result)
    if not result.sendable_as:
        raise typer.Exit(1)


def _print(result: CheckResult) -> None:
    from rich.table import Table

    summary = Table(show_header=False, box=None, pad_edge=False)
    summary.add_column(style="bold green")
    summary.add_column(overflow="fold")
    summary.add_row("URL", result.url)
    summary.add_row("Status", "—" if result.status is None else str(result.status))
    if result.error is not None:
        summary.add_row("Fetch failed", f"{result.error} ({result.failure})")
    summary.add_row("Content-Type", result.content_type or "—")
    summary.add_row(
        "Content-Length", "—" if result.content_length is None else str(result.content_length)
    )
    summary.add_row("Bytes read", "—" if result.size is None else str(result.size))
    for name, value in result.caching_headers.items():
        summary.add_row(_HEADER_NAMES.get(name, name), value)
    for policy, verdict in result.cache.items():
        if not verdict.cached:
            text = f"not cached ({verdict.why})"
        elif verdict.fresh_for:
            text = f"reused for {verdict.fresh_for:g} s ({verdict.why})"
        else:
            text = f"cached, revalidated with {verdict.revalidate} on every use ({verdict.why})"
        summary.add_row(f"Cache ({policy})", text)
    if result.guard is not None:
        summary.add_row("Default guard", result.guard)
    summary.add_row("Checked in", f"{result.elapsed * 1000:.0f} ms")
    kinds = Table("Type", "Sendable")
    kinds.add_column("Why not", overflow="fold")
    for kind, sendability in result.kinds.items():
        sendable = "[green]yes[/green]" if sendability.sendable else "[red]no[/red]"
        kinds.add_row(kind, sendable, sendability.reason or "")
    console = out()
    console.print(summary)
    console.print(kinds)
