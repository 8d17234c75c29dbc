"""``wabox media upload|get|download|delete``: the business's media, through ``wabox.client``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from wabox.cli.connection import LOCAL, ApiKey, BaseUrl, Business, Dialect, PhoneNumberId
from wabox.cli.output import err, out, show

if TYPE_CHECKING:
    from wabox.client import Client

app = typer.Typer(help="Upload, look up, download and delete media.", rich_markup_mode=None)


def upload(client: Client, path: Path, mime_type: str | None = None) -> str:
    """Upload with a progress bar (on a terminal), answer the media ID."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err(),
        transient=True,
    ) as bar:
        task = bar.add_task(f"upload {path.name}", total=path.stat().st_size)
        return client.upload_media(
            path, mime_type, progress=lambda sent, total: bar.update(task, completed=sent)
        )


@app.command("upload")
def upload_media(
    path: Annotated[Path, typer.Argument(help="The file.", exists=True, dir_okay=False)],
    mime_type: Annotated[str | None, typer.Option(help="Guessed when left out.")] = None,
    base_url: BaseUrl = LOCAL,
    api_key: ApiKey = "",
    dialect: Dialect = "360dialog",
    phone_number_id: PhoneNumberId = None,
) -> None:
    """Upload a file; prints its media ID."""
    with Business(base_url, api_key, dialect, phone_number_id).client() as client:
        out().print_json(data={"id": upload(client, path, mime_type)})


@app.command("get")
def get_media(
    media_id: Annotated[str, typer.Argument(help="The media ID.")],
    base_url: BaseUrl = LOCAL,
    api_key: ApiKey = "",
    dialect: Dialect = "360dialog",
    phone_number_id: PhoneNumberId = None,
) -> None:
    """The media's download URL (valid 5 minutes), type, size and sha256."""
    with Business(base_url, api_key, dialect, phone_number_id).client() as client:
        show(client.get_media(media_id))


@app.command("download")
def download_media(
    media: Annotated[str, typer.Argument(help="A media ID, or a URL from `media get`.")],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Where to write it.")],
    base_url: BaseUrl = LOCAL,
    api_key: ApiKey = "",
    dialect: Dialect = "360dialog",
    phone_number_id: PhoneNumberId = None,
) -> None:
    """Download media to a file (360dialog URLs are fetched from the API's own host)."""
    with Business(base_url, api_key, dialect, phone_number_id).client() as client:
        client.download_media(media, to=out_path)
    out().print(f"saved {out_path} ({out_path.stat().st_size} bytes)")


@app.command("delete")
def delete_media(
    media_id: Annotated[str, typer.Argument(help="The media ID.")],
    base_url: BaseUrl = LOCAL,
    api_key: ApiKey = "",
    dialect: Dialect = "360dialog",
    phone_number_id: PhoneNumberId = None,
) -> None:
    """Delete uploaded media."""
    with Business(base_url, api_key, dialect, phone_number_id).client() as client:
        client.delete_media(media_id)
    out().print(f"deleted {media_id}")
