"""``wabox send <type>``: send as the business, through ``wabox.client``.

Media goes by upload then ID (``--file``, with a progress bar), by ``--link``, or by an
uploaded ``--media-id``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wabox.cli.connection import LOCAL, ApiKey, BaseUrl, Business, Dialect, PhoneNumberId
from wabox.cli.media import upload
from wabox.cli.output import show

if TYPE_CHECKING:
    from wabox.client import HeaderMedia, SentMessage

app = typer.Typer(
    help="Send a message (media: upload then send by ID, or by --link).", rich_markup_mode=None
)

To = Annotated[
    str,
    typer.Option("--to", help="The recipient's number, e.g. 16505551234, or its BSUID (US.1349…)."),
]


def _send_media(
    kind: str,
    to: str,
    file: Path | None,
    link: str | None,
    media_id: str | None,
    fields: dict[str, Any],
    business: Business,
) -> None:
    if sum(x is not None for x in (file, link, media_id)) != 1:
        raise typer.BadParameter("give exactly one of --file, --link and --media-id")
    with business.client() as client:
        if file is not None:
            media_id = upload(client, file)
        send = getattr(client, f"send_{kind}")
        sent: SentMessage = send(to, media_id=media_id, link=link, **fields)
    show(sent)


def _media_command(kind: str) -> None:
    """``wabox send <kind>`` with the options that kind takes."""

    def command(
        to: To,
        file: Annotated[Path | None, typer.Option(help="Upload this file, then send it.")] = None,
        link: Annotated[str | None, typer.Option(help="Send by hosted link instead.")] = None,
        media_id: Annotated[str | None, typer.Option(help="An uploaded media ID.")] = None,
        caption: Annotated[str | None, typer.Option(help="image, video, document.")] = None,
        filename: Annotated[str | None, typer.Option(help="document only.")] = None,
        voice: Annotated[bool, typer.Option(help="audio only: a voice note.")] = False,
        base_url: BaseUrl = LOCAL,
        api_key: ApiKey = "",
        dialect: Dialect = "360dialog",
        phone_number_id: PhoneNumberId = None,
    ) -> None:
        fields: dict[str, Any] = {}
        if caption is not None:
            fields["caption"] = caption
        if filename is not None:
            fields["filename"] = filename
        if voice:
            fields["voice"] = True
        if file is not None and not file.is_file():
            raise typer.BadParameter(f"no such file: {file}", param_hint="--file")
        business = Business(base_url, api_key, dialect, phone_number_id)
        try:
            _send_media(kind, to, file, link, media_id, fields, business)
        except (ValueError, TypeError) as exc:
            raise typer.BadParameter(str(exc)) from exc

    command.__doc__ = f"Send a{'n' if kind[0] in 'aeiou' else ''} {kind} message."
    app.command(kind)(command)


for _kind in ("image", "video", "audio", "document", "sticker"):
    _media_command(_kind)


@app.command("text")
def send_text(
    to: To,
    body: Annotated[str, typer.Option(help="The text (up to 4096 characters).")],
    reply_to: Annotated[str | None, typer.Option(help="Quote this wamid.")] = None,
    base_url: BaseUrl = LOCAL,
    api_key: ApiKey = "",
    dialect: Dialect = "360dialog",
    phone_number_id: PhoneNumberId = None,
) -> None:
    """Send a text message."""
    with Business(base_url, api_key, dialect, phone_number_id).client() as client:
        show(client.send_text(to, body, reply_to=reply_to))


@app.command("template")
def send_template(
    to: To,
    name: Annotated[str, typer.Option(help="The template's name.")],
    language: Annotated[str, typer.Option(help="Its language code.")] = "en_US",
    param: Annotated[list[str] | None, typer.Option(help="A body parameter; repeat.")] = None,
    header_text: Annotated[str | None, typer.Option(help="A text header's parameter.")] = None,
    header_type: Annotated[str | None, typer.Option(help="image, video or document.")] = None,
    header_id: Annotated[str | None, typer.Option(help="The header media's ID.")] = None,
    header_link: Annotated[str | None, typer.Option(help="The header media's link.")] = None,
    base_url: BaseUrl = LOCAL,
    api_key: ApiKey = "",
    dialect: Dialect = "360dialog",
    phone_number_id: PhoneNumberId = None,
) -> None:
    """Send a template message (the only kind allowed outside the 24-hour window)."""
    from wabox.client import HeaderMedia

    header: HeaderMedia | str | None = header_text
    if header_type is not None:
        if header_type not in ("image", "video", "document"):
            raise typer.BadParameter("image, video or document", param_hint="--header-type")
        header = HeaderMedia(header_type, id=header_id, link=header_link)  # type: ignore[arg-type]
    with Business(base_url, api_key, dialect, phone_number_id).client() as client:
        show(client.send_template(to, name, language, body_params=param or (), header=header))
