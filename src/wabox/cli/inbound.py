"""``wabox inbound``: write to a channel as its customer (``POST /sandbox/inbound``)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Annotated, Any

import typer

from wabox.cli.connection import LOCAL, Admin, AdminToken, BaseUrl, ChannelId, DataDir
from wabox.cli.output import out

MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")


def inbound(
    sender: Annotated[
        str | None, typer.Option("--from", help="The customer's number (wa_id).")
    ] = None,
    username: Annotated[
        str | None,
        typer.Option(help="The customer's username; without --from it shares no number."),
    ] = None,
    user_id: Annotated[
        str | None, typer.Option(help="The BSUID of a customer who shares no number.")
    ] = None,
    text: Annotated[str | None, typer.Option(help="A text message.")] = None,
    kind: Annotated[
        str | None,
        typer.Option("--type", help="image, video, audio, document or sticker."),
    ] = None,
    file: Annotated[
        Path | None, typer.Option(help="The customer's own file (else a bundled sample).")
    ] = None,
    sample: Annotated[
        str | None, typer.Option(help="A bundled sample, e.g. sticker_animated.webp.")
    ] = None,
    mime_type: Annotated[str | None, typer.Option(help="Of --file; guessed if left out.")] = None,
    caption: Annotated[str | None, typer.Option(help="For image, video, document.")] = None,
    filename: Annotated[str | None, typer.Option(help="For document.")] = None,
    voice: Annotated[bool, typer.Option(help="Audio recorded as a voice note.")] = False,
    reply_to: Annotated[
        str | None, typer.Option(help="The wamid of the business message quoted or answered.")
    ] = None,
    tap: Annotated[
        str | None, typer.Option(help="Tap the reply button with this id (needs --reply-to).")
    ] = None,
    pick: Annotated[
        str | None, typer.Option(help="Pick the list row with this id (needs --reply-to).")
    ] = None,
    flow_response: Annotated[
        str | None,
        typer.Option(help="Complete the Flow with this JSON object (needs --reply-to)."),
    ] = None,
    quick_reply: Annotated[
        str | None,
        typer.Option(help="Tap the template's quick-reply button with this text (--reply-to)."),
    ] = None,
    payload: Annotated[
        str | None, typer.Option(help="With --quick-reply: the button's payload.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="The customer's profile name.")] = None,
    channel: ChannelId = None,
    base_url: BaseUrl = LOCAL,
    admin_token: AdminToken = None,
    data_dir: DataDir = None,
) -> None:
    """Send a message to a channel as its customer: the webhook fires, the window opens."""
    if sender is None and username is None and user_id is None:
        raise typer.BadParameter(
            "give the customer's --from number, or --username (or --user-id) for one who "
            "shares no number",
            param_hint="--from",
        )
    body: dict[str, Any] = {}
    for key, value in (
        ("from", sender),
        ("username", username),
        ("user_id", user_id),
        ("name", name),
        ("channel", channel),
    ):
        if value is not None:
            body[key] = value
    if reply_to is not None:
        body["context"] = {"id": reply_to}
    given = [v for v in (text, kind, tap, pick, flow_response, quick_reply) if v is not None]
    if len(given) != 1:
        raise typer.BadParameter(
            "give one of --text, --type, --tap, --pick, --flow-response, --quick-reply",
            param_hint="--text",
        )
    if tap is not None:
        body["interactive"] = {"type": "button_reply", "button_reply": {"id": tap}}
    elif pick is not None:
        body["interactive"] = {"type": "list_reply", "list_reply": {"id": pick}}
    elif flow_response is not None:
        body["interactive"] = {"type": "nfm_reply", "nfm_reply": {"response_json": flow_response}}
    elif quick_reply is not None:
        body["button"] = {"text": quick_reply, "payload": payload}
    elif text is not None:
        body |= {"type": "text", "text": {"body": text}}
    else:
        assert kind is not None
        if kind not in MEDIA_KINDS:
            raise typer.BadParameter(f"one of {', '.join(MEDIA_KINDS)}", param_hint="--type")
        media: dict[str, Any] = {"caption": caption, "filename": filename, "sample": sample}
        if kind == "audio":
            media["voice"] = voice
        if file is not None:
            from wabox.client._core import detect_mime

            content = file.read_bytes()
            # As the client's uploads do: by name (.opus and .ogg are audio/ogg), else bytes.
            guessed = mime_type or detect_mime(file.name, content[:64])
            data = base64.b64encode(content).decode()
            media |= {
                "data": data,
                "mime_type": guessed,
                "filename": filename or (file.name if kind == "document" else None),
            }
        body |= {"type": kind, kind: {k: v for k, v in media.items() if v is not None}}
    answer = Admin(base_url, admin_token, data_dir).call("POST", "/sandbox/inbound", json=body)
    out().print_json(data=answer)
