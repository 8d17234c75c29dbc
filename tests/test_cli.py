"""The ``wabox`` command against a real server."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

from tests.conftest import ADMIN_TOKEN, API_KEY, Server, make_server
from tests.delivery.receiver import running_receiver
from wabox.samples import sample_path


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


def test_send_media_and_tail_from_the_command_line(server: Server, tmp_path: Path) -> None:
    """The business side: upload-then-send with a file, by link, media commands, and tail."""
    import threading

    common = ["--base-url", server.base_url, "--api-key", API_KEY]
    follow: list[subprocess.CompletedProcess[str]] = []
    tail_command = ["tail", "--duration", "6", "--base-url", server.base_url]
    tail_command += ["--admin-token", ADMIN_TOKEN]
    watcher = threading.Thread(target=lambda: follow.append(wabox(*tail_command)))
    watcher.start()
    time.sleep(1.5)  # tail has taken its first look
    image = sample_path("image.jpg")
    sent = wabox("send", "image", "--to", "16505557800", "--file", str(image),
                 "--caption", "from the cli", *common)  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    wamid = json.loads(sent.stdout)["id"]
    text = wabox("send", "text", "--to", "16505557800", "--body", "hi", *common)
    assert text.returncode == 0, text.stderr
    uploaded = wabox("media", "upload", str(image), *common)
    assert uploaded.returncode == 0, uploaded.stderr
    media_id = json.loads(uploaded.stdout)["id"]
    got = wabox("media", "get", media_id, *common)
    assert json.loads(got.stdout)["file_size"] == image.stat().st_size
    out = tmp_path / "back.jpg"
    downloaded = wabox("media", "download", media_id, "--out", str(out), *common)
    assert downloaded.returncode == 0, downloaded.stderr
    assert out.read_bytes() == image.read_bytes()
    assert wabox("media", "delete", media_id, *common).returncode == 0
    gone = wabox("media", "get", media_id, *common)
    assert gone.returncode == 1 and "(100)" in gone.stderr
    both = wabox("send", "image", "--to", "16505557800", "--file", str(image),
                 "--link", "https://x/y.jpg", *common)  # fmt: skip
    assert both.returncode != 0 and "exactly one" in both.stderr
    watcher.join(30)
    (tailed,) = follow
    assert tailed.returncode == 0, tailed.stderr
    lines = [line for line in tailed.stdout.splitlines() if wamid in line]
    assert any(" accepted " in line for line in lines), tailed.stdout
    assert any(" sent " in line for line in lines), tailed.stdout
    assert any(" delivered " in line for line in lines), tailed.stdout
    with server.admin() as admin:
        rows = admin.get("/sandbox/messages", params={"to": "16505557800"}).json()["messages"]
    image_row = next(m for m in rows if m["wamid"] == wamid)
    assert image_row["payload"]["image"]["caption"] == "from the cli"
    assert image_row["payload"]["image"]["id"].isdigit()


def test_the_command_says_what_to_install_without_the_server_extra() -> None:
    code = """
import sys
import time
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "typer":
            raise ImportError("blocked", name="typer")
sys.meta_path.insert(0, Block())
from wabox.launcher import main
main()
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1
    assert "pip install 'wabox[server]'" in result.stderr


def test_a_wrong_setting_stops_the_start_with_one_line(tmp_path: Path) -> None:
    for env in (
        {"WABOX_CHANNEL_DEFAULTS": '{"throughput": 5000}'},
        {"WABOX_SCENARIOS": str(tmp_path / "missing.toml")},
        {"WABOX_UI_OPEN": "maybe"},
    ):
        started = wabox("serve", "--port", "1", "--data-dir", str(tmp_path / "data"), env=env)
        assert started.returncode == 2, started
        assert "wabox cannot start" in started.stdout
        assert "Traceback" not in started.stdout + started.stderr
