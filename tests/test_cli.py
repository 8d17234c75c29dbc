"""The ``wabox`` command against a real server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.conftest import ADMIN_TOKEN, Server, make_server
from tests.delivery.receiver import running_receiver


def wabox(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "wabox", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "250", **(env or {})},
    )


def test_channel_create_list_delete(server: Server) -> None:
    common = ["--base-url", server.base_url, "--admin-token", ADMIN_TOKEN]
    created = wabox(
        "channel", "create", "--name", "cli-made", "--api-key", "cli-key-12345", *common
    )
    assert created.returncode == 0, created.stderr
    channel = json.loads(created.stdout)
    assert channel["api_key"] == "cli-key-12345"
    listed = wabox("channel", "list", *common)
    assert listed.returncode == 0, listed.stderr
    assert channel["phone_number_id"] in listed.stdout
    assert "cli-key-12345" in listed.stdout
    deleted = wabox("channel", "delete", channel["phone_number_id"], *common)
    assert deleted.returncode == 0, deleted.stderr
    assert channel["phone_number_id"] not in wabox("channel", "list", *common).stdout


def test_channel_with_a_verified_webhook(server: Server) -> None:
    common = ["--base-url", server.base_url, "--admin-token", ADMIN_TOKEN]
    with running_receiver() as receiver:
        created = wabox(
            "channel", "create", "--webhook-url", receiver.url, "--verify-token", "let-me-in",
            "--app-secret", "s3cret", *common,
        )  # fmt: skip
        refused = wabox(
            "channel", "create", "--webhook-url", receiver.url, "--verify-token", "nope", *common
        )
    assert created.returncode == 0, created.stderr
    webhook = json.loads(created.stdout)["settings"]["webhook"]
    assert webhook == {
        "url": receiver.url,
        "verify_token": "let-me-in",
        "app_secret": "s3cret",
    }
    assert receiver.verifications[0]["hub.verify_token"] == ["let-me-in"]
    assert refused.returncode != 0
    assert "2200" in refused.stdout + refused.stderr


def test_admin_token_is_found_in_the_local_data_dir(tmp_path: Path) -> None:
    """Local use needs no flag: the CLI reads the token the embedded server persisted."""
    server = make_server(tmp_path)
    server.env = {}
    server.start()
    try:
        listed = wabox(
            "channel",
            "list",
            "--base-url",
            server.base_url,
            "--data-dir",
            str(server.data_dir),
            env={"WABOX_ADMIN_TOKEN": "", "WABOX_API_KEY": ""},
        )
    finally:
        server.stop()
    assert listed.returncode == 0, listed.stderr + listed.stdout
    assert "default" in listed.stdout


def test_errors_are_reported_not_raised(server: Server) -> None:
    common = ["--base-url", server.base_url, "--admin-token", "wrong"]
    result = wabox("channel", "list", *common)
    assert result.returncode == 1
    assert "admin token" in result.stdout
    assert "Traceback" not in result.stderr
    unreachable = wabox("channel", "list", "--base-url", "http://127.0.0.1:9", "--admin-token", "x")
    assert unreachable.returncode == 1
    assert "cannot reach" in unreachable.stdout


def test_help_lists_the_commands() -> None:
    result = wabox("--help")
    assert result.returncode == 0
    for command in ("serve", "channel"):
        assert command in result.stdout


def test_inbound_and_templates_from_the_command_line(server: Server, tmp_path: Path) -> None:
    common = ["--base-url", server.base_url, "--admin-token", ADMIN_TOKEN]
    said = wabox("inbound", "--from", "16505556600", "--text", "hello from the cli", *common)
    assert said.returncode == 0, said.stderr
    wamid = json.loads(said.stdout)["id"]
    picture = tmp_path / "dot.png"
    Image.new("RGB", (8, 8), (0, 90, 0)).save(picture)
    sent = wabox(
        "inbound", "--from", "16505556600", "--type", "image", "--file", str(picture),
        "--caption", "look", "--reply-to", wamid, *common,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    media_id = json.loads(sent.stdout)["media_id"]
    voice = wabox("inbound", "--from", "16505556600", "--type", "audio", "--voice", *common)
    assert voice.returncode == 0, voice.stderr
    with server.admin() as admin:
        rows = admin.get("/sandbox/messages", params={"to": "16505556600"}).json()["messages"]
    voice_row, image_row, text_row = rows[:3]
    assert text_row["payload"]["text"] == {"body": "hello from the cli"}
    assert image_row["payload"]["image"]["id"] == media_id
    assert image_row["payload"]["image"]["caption"] == "look"
    assert image_row["payload"]["image"]["mime_type"] == "image/png"
    assert voice_row["payload"]["audio"]["voice"] is True
    refused = wabox("inbound", "--from", "16505556600", "--type", "gif", *common)
    assert refused.returncode != 0

    made = wabox(
        "template", "create", "cli_notice", "--body", "Hi {{1}}", "--category", "marketing",
        "--footer", "wabox", *common,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    template = json.loads(made.stdout)
    assert (template["status"], template["category"]) == ("APPROVED", "MARKETING")
    listed = wabox("template", "list", *common)
    assert "cli_notice" in listed.stdout and template["id"] in listed.stdout
    paused = wabox("template", "status", template["id"], "paused", *common)
    assert paused.returncode == 0, paused.stderr
    assert "is PAUSED" in paused.stdout
    bad = wabox("template", "create", "cli_bad", "--body", "{{2}}", *common)
    assert bad.returncode != 0 and "{{1}}" in bad.stdout
