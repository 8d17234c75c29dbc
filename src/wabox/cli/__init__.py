"""The ``wabox`` command: one module per command group.

``serve`` starts the sandbox (``serve.py``); ``migrate`` brings a database to its schema.
Against a running server, with the admin token: ``channel``, ``template``, ``inbound``
(write as a customer) and ``tail``. As the business, through ``wabox.client`` against
wabox or a real host: ``send`` and ``media``. ``assets`` hosts and checks media links.
The connection options are defined once, in ``connection.py``.

Importing this package loads typer and nothing of the server: each command imports httpx,
rich, the client or the server's modules when it runs, so ``--help`` is immediate
(``tests/test_cli.py`` checks which modules an import loads). Help is click's plain text
(``rich_markup_mode=None`` on every group): typer's rich help costs 0.15 s of imports.
"""

from __future__ import annotations

import os

import typer

from wabox.cli import assets, channel, inbound, media, migrate, send, serve, tail, template

app = typer.Typer(
    help="wabox: WhatsApp Business messaging in a box.", no_args_is_help=True, rich_markup_mode=None
)
app.command()(serve.serve)
app.command()(migrate.migrate)
app.add_typer(channel.app, name="channel")
app.add_typer(template.app, name="template")
app.command()(inbound.inbound)
app.add_typer(send.app, name="send")
app.add_typer(media.app, name="media")
app.command()(tail.tail)
app.add_typer(assets.app, name="assets")


def main() -> None:
    """Run the command line (``wabox.launcher`` calls this)."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
