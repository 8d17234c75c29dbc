"""``wabox template create|list|status``: a running server's message templates."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from wabox.cli.connection import LOCAL, Admin, AdminToken, BaseUrl, ChannelId, DataDir
from wabox.cli.output import out

app = typer.Typer(
    help="Manage the message templates of a running server's channels.", rich_markup_mode=None
)


@app.command("create")
def create_template(
    name: Annotated[str, typer.Argument(help="Lower case, digits and _.")],
    body: Annotated[str, typer.Option(help="The body, with {{1}}, {{2}} … placeholders.")],
    language: Annotated[str, typer.Option(help="E.g. en_US.")] = "en_US",
    category: Annotated[str, typer.Option(help="marketing, utility or authentication.")] = (
        "utility"
    ),
    header_text: Annotated[str | None, typer.Option(help="A text header.")] = None,
    header_format: Annotated[
        str | None, typer.Option(help="A media header: IMAGE, VIDEO or DOCUMENT.")
    ] = None,
    footer: Annotated[str | None, typer.Option(help="The footer text.")] = None,
    status: Annotated[
        str, typer.Option(help="APPROVED, PENDING, REJECTED, PAUSED or DISABLED.")
    ] = "APPROVED",
    channel: ChannelId = None,
    base_url: BaseUrl = LOCAL,
    admin_token: AdminToken = None,
    data_dir: DataDir = None,
) -> None:
    """Create a template on a channel."""
    components: list[dict[str, Any]] = []
    if header_text is not None:
        components.append({"type": "HEADER", "format": "TEXT", "text": header_text})
    elif header_format is not None:
        components.append({"type": "HEADER", "format": header_format})
    components.append({"type": "BODY", "text": body})
    if footer is not None:
        components.append({"type": "FOOTER", "text": footer})
    spec: dict[str, Any] = {
        "name": name,
        "language": language,
        "category": category,
        "status": status,
        "components": components,
    }
    if channel is not None:
        spec["channel"] = channel
    created = Admin(base_url, admin_token, data_dir).call("POST", "/sandbox/templates", json=spec)
    out().print_json(data=created)


@app.command("list")
def list_templates(
    channel: Annotated[str | None, typer.Option(help="Only this phone_number_id.")] = None,
    base_url: BaseUrl = LOCAL,
    admin_token: AdminToken = None,
    data_dir: DataDir = None,
) -> None:
    """List templates with their id, channel, status and category."""
    from rich.table import Table

    params = {"channel": channel} if channel else {}
    admin = Admin(base_url, admin_token, data_dir)
    found = admin.call("GET", "/sandbox/templates", params=params)
    table = Table("id", "channel", "name", "language", "category", "status")
    for template in found["templates"]:
        table.add_row(
            template["id"],
            template["channel"],
            template["name"],
            template["language"],
            template["category"],
            template["status"],
        )
    out().print(table)


@app.command("status")
def set_template_status(
    template_id: Annotated[str, typer.Argument(help="The template's id.")],
    status: Annotated[str, typer.Argument(help="APPROVED, PENDING, REJECTED, PAUSED, DISABLED.")],
    base_url: BaseUrl = LOCAL,
    admin_token: AdminToken = None,
    data_dir: DataDir = None,
) -> None:
    """Set a template's status, as Meta's review or quality rating would."""
    admin = Admin(base_url, admin_token, data_dir)
    updated = admin.call("PATCH", f"/sandbox/templates/{template_id}", json={"status": status})
    out().print(f"template {updated['name']} ({updated['language']}) is {updated['status']}")
