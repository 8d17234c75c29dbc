"""``wabox channel list|create|delete``: a running server's business numbers."""

from __future__ import annotations

from typing import Annotated

import typer

from wabox.cli.connection import LOCAL, Admin, AdminToken, BaseUrl, DataDir
from wabox.cli.output import out

app = typer.Typer(
    help="Manage the channels (business numbers) of a running server.", rich_markup_mode=None
)


@app.command("list")
def list_channels(
    base_url: BaseUrl = LOCAL,
    admin_token: AdminToken = None,
    data_dir: DataDir = None,
) -> None:
    """List channels with their phone_number_id, number and API key."""
    from rich.table import Table

    body = Admin(base_url, admin_token, data_dir).call("GET", "/sandbox/channels")
    table = Table("phone_number_id", "display number", "waba_id", "api_key", "name")
    for channel in body["channels"]:
        table.add_row(
            channel["phone_number_id"],
            "+" + channel["display_phone_number"],
            channel["waba_id"],
            channel["api_key"],
            channel["name"],
        )
    out().print(table)


@app.command("create")
def create_channel(
    phone_number_id: Annotated[
        str | None, typer.Option(help="All digits; generated if left out.")
    ] = None,
    display_phone_number: Annotated[str | None, typer.Option(help="E.g. +1 555 010 0001.")] = None,
    waba_id: Annotated[str | None, typer.Option(help="All digits; generated if left out.")] = None,
    api_key: Annotated[str | None, typer.Option(help="Generated if left out.")] = None,
    name: Annotated[str | None, typer.Option(help="A label for people.")] = None,
    webhook_url: Annotated[
        str | None, typer.Option(help="Where its webhooks go (http or https).")
    ] = None,
    verify_token: Annotated[
        str | None,
        typer.Option(help="Meta's verify token: the URL must echo the verification GET."),
    ] = None,
    app_secret: Annotated[
        str | None, typer.Option(help="Signs every webhook (X-Hub-Signature-256).")
    ] = None,
    base_url: BaseUrl = LOCAL,
    admin_token: AdminToken = None,
    data_dir: DataDir = None,
) -> None:
    """Create a channel (a business number with its own API key)."""
    if webhook_url is None and (verify_token or app_secret):
        raise typer.BadParameter("--verify-token and --app-secret need --webhook-url")
    spec: dict[str, object] = {
        key: value
        for key, value in {
            "phone_number_id": phone_number_id,
            "display_phone_number": display_phone_number,
            "waba_id": waba_id,
            "api_key": api_key,
            "name": name,
        }.items()
        if value is not None
    }
    if webhook_url is not None:
        webhook = {"url": webhook_url, "verify_token": verify_token, "app_secret": app_secret}
        spec["settings"] = {"webhook": {k: v for k, v in webhook.items() if v is not None}}
    channel = Admin(base_url, admin_token, data_dir).call("POST", "/sandbox/channels", json=spec)
    out().print_json(data=channel)


@app.command("delete")
def delete_channel(
    phone_number_id: Annotated[str, typer.Argument(help="The channel to delete.")],
    base_url: BaseUrl = LOCAL,
    admin_token: AdminToken = None,
    data_dir: DataDir = None,
) -> None:
    """Delete a channel with its messages and media."""
    Admin(base_url, admin_token, data_dir).call("DELETE", f"/sandbox/channels/{phone_number_id}")
    out().print(f"deleted channel {phone_number_id}")
