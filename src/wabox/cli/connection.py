"""The connection options every client command takes, defined once, and where they resolve.

Two sides, two resolvers. The sandbox side (``channel``, ``template``, ``inbound``, ``tail``)
calls a running wabox's ``/sandbox`` API with the admin token: ``Admin``. The business side
(``send``, ``media``) calls any 360dialog or Cloud API host through ``wabox.client``:
``Business``. Both take ``--base-url`` (``WABOX_BASE_URL``, default ``LOCAL``).

httpx and ``wabox.client`` are imported when a command runs, not when the CLI loads, so
``--help`` answers without them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wabox.cli.output import err, out

if TYPE_CHECKING:
    import httpx

    from wabox.client import Client

LOCAL = "http://127.0.0.1:8360"

BaseUrl = Annotated[
    str,
    typer.Option(
        "--base-url",
        envvar="WABOX_BASE_URL",
        help="A running wabox; send and media also take a real 360dialog or Cloud API host.",
    ),
]
AdminToken = Annotated[
    str | None,
    typer.Option(
        "--admin-token",
        envvar="WABOX_ADMIN_TOKEN",
        help="Sandbox admin token; read from --data-dir's database when left out.",
    ),
]
DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", envvar="WABOX_DATA_DIR", help="Folder for the database and media."),
]
ApiKey = Annotated[
    str,
    typer.Option("--api-key", envvar="WABOX_API_KEY", help="D360-API-KEY, or the Cloud API token."),
]
Dialect = Annotated[
    str, typer.Option("--dialect", envvar="WABOX_DIALECT", help="360dialog or cloud.")
]
ChannelId = Annotated[
    str | None,
    typer.Option("--channel", help="phone_number_id; the default channel if left out."),
]
PhoneNumberId = Annotated[
    str | None,
    typer.Option(
        "--phone-number-id", envvar="WABOX_PHONE_NUMBER_ID", help="Needed with --dialect cloud."
    ),
]


@dataclass(frozen=True)
class Admin:
    """A running wabox's sandbox API, as ``--base-url``, ``--admin-token`` and ``--data-dir``
    name it. Failures are one red line on stdout and exit code 1."""

    base_url: str
    admin_token: str | None
    data_dir: Path | None

    @contextmanager
    def client(self) -> Iterator[httpx.Client]:
        """An httpx client that sends the admin token; an unreachable server exits 1."""
        import httpx

        token = self.admin_token or _local_admin_token(self.data_dir)
        if token is None:
            raise typer.BadParameter(
                "give --admin-token (or WABOX_ADMIN_TOKEN)", param_hint="--admin-token"
            )
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=10) as client:
            try:
                yield client
            except httpx.TransportError as exc:
                out().print(f"[red]cannot reach {self.base_url}: {exc}[/red]")
                raise typer.Exit(1) from exc

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request; answers the JSON body, or prints the Graph error's message and exits 1."""
        with self.client() as client:
            response = client.request(method, path, **kwargs)
        body = response.json()
        if response.is_error:
            out().print(f"[red]{body.get('error', {}).get('message', response.text)}[/red]")
            raise typer.Exit(1)
        return body


def _local_admin_token(data_dir: Path | None) -> str | None:
    """The token a server on this data dir persisted, so local use needs no flag."""
    # Only on this path, and slow: wabox.runtime and wabox.store load the server's libraries.
    from wabox.config import Config
    from wabox.runtime import ADMIN_TOKEN
    from wabox.store.settings import read_local_setting

    return read_local_setting((data_dir or Config().data_dir) / "wabox.sqlite3", ADMIN_TOKEN)


@dataclass(frozen=True)
class Business:
    """A 360dialog or Cloud API host, as ``--base-url``, ``--api-key``, ``--dialect`` and
    ``--phone-number-id`` name it. Failures are one red line on stderr and exit code 1."""

    base_url: str
    api_key: str
    dialect: str
    phone_number_id: str | None

    @contextmanager
    def client(self) -> Iterator[Client]:
        """A ``wabox.client.Client`` in the chosen dialect."""
        from wabox.client import Client, TransportError, WhatsAppError

        if self.dialect == "360dialog":
            client = Client.for_360dialog(self.api_key, base_url=self.base_url)
        elif self.dialect == "cloud":
            if not self.phone_number_id:
                raise typer.BadParameter("--dialect cloud needs --phone-number-id")
            client = Client.for_cloud_api(
                self.api_key, self.phone_number_id, base_url=self.base_url
            )
        else:
            raise typer.BadParameter("360dialog or cloud", param_hint="--dialect")
        try:
            with client:
                yield client
        except WhatsAppError as exc:
            err().print(
                f"[red]error ({exc.code}) {exc.title}[/red]: {exc.details}", highlight=False
            )
            raise typer.Exit(1) from exc
        except TransportError as exc:
            err().print(f"[red]cannot reach {self.base_url}: {exc}[/red]")
            raise typer.Exit(1) from exc
