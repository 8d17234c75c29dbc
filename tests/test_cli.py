"""The ``wabox`` command against a real server.

The client commands run in this process through typer's ``CliRunner`` (the server is the real
subprocess); what only a process shows runs as one: the launcher, ``--help`` and what it
imports, a ``serve`` that refuses to start, and ``tail`` following while others send.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from tests.conftest import ADMIN_TOKEN, API_KEY, Server, running_server
from tests.delivery.receiver import running_receiver
from tests.helpers import eventually
from wabox.cli import app
from wabox.samples import sample_path

ENV = {"COLUMNS": "250"}  # rich tables keep their rows on one line
# What `import wabox.cli` and a client command's --help must not load: the server's stack.
SERVER_LIBRARIES = {
    "PIL", "aiohttp", "sqlalchemy", "obstore", "alembic", "pymediainfo", "mutagen",
    "starlette", "uvicorn",
}  # fmt: skip


def wabox(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``wabox ARGS`` in this process, answered as a finished process would be."""
    result = CliRunner().invoke(app, args, env={**ENV, **(env or {})}, catch_exceptions=False)
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def run_process(
    *args: str, env: dict[str, str] | None = None, python: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """``python [PYTHON] -m wabox ARGS`` in a process of its own, as a user runs it."""
    return subprocess.run(
        [sys.executable, *python, "-m", "wabox", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **ENV, **(env or {})},
    )


@contextlib.contextmanager
def following(args: list[str], errors: Path) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """``python -m wabox ARGS`` left running: the lines it prints as it prints them, and
    Ctrl-C (SIGINT) when the block ends. Its stderr goes to ``errors``."""
    printed: list[str] = []
    with (
        errors.open("w") as stderr,
        subprocess.Popen(
            [sys.executable, "-m", "wabox", *args],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, **ENV, "PYTHONUNBUFFERED": "1"},
            # A suite started in the background of a shell ignores SIGINT, and so would the
            # child: give it a terminal's Ctrl-C back.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        ) as process,
    ):
        lines = process.stdout
        assert lines is not None

        def read() -> None:  # line by line, so the test sees each as it comes
            for line in lines:
                printed.append(line)

        reader = threading.Thread(target=read)
        reader.start()
        try:
            yield process, printed
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            reader.join(10)


def test_importing_the_cli_loads_no_server_library() -> None:
    code = "import sys, wabox.cli; print(' '.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    modules = set(result.stdout.split())
    loaded = {name.split(".")[0] for name in modules}
    assert not loaded & SERVER_LIBRARIES, sorted(loaded & SERVER_LIBRARIES)
    # Nor what the commands import when they run: --help is answered without them.
    assert not loaded & {"httpx", "rich"}, sorted(loaded & {"httpx", "rich"})
    assert "wabox.client" not in modules


def test_help_lists_the_commands() -> None:
    result = run_process("--help")
    assert result.returncode == 0
    for command in ("serve", "channel"):
        assert command in result.stdout


def test_a_client_command_help_loads_no_server_library() -> None:
    result = run_process("channel", "list", "--help", python=("-X", "importtime"))
    assert result.returncode == 0, result.stderr
    assert "--admin-token" in result.stdout and "WABOX_BASE_URL" in result.stdout
    # -X importtime writes "import time: self | cumulative | <indent>module" per import.
    loaded = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert not loaded & SERVER_LIBRARIES, sorted(loaded & SERVER_LIBRARIES)


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


def test_the_connection_options_have_their_env_twins(server: Server) -> None:
    env = {"WABOX_BASE_URL": server.base_url, "WABOX_ADMIN_TOKEN": ADMIN_TOKEN}
    listed = wabox("channel", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert API_KEY in listed.stdout
    text = wabox(
        "send", "text", "--to", "16505557801", "--body", "by env",
        env={"WABOX_BASE_URL": server.base_url, "WABOX_API_KEY": API_KEY},
    )  # fmt: skip
    assert text.returncode == 0, text.stderr
    assert json.loads(text.stdout)["id"].startswith("wamid.")


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
    with running_server(tmp_path, defaults=False) as server:
        listed = wabox(
            "channel",
            "list",
            "--base-url",
            server.base_url,
            "--data-dir",
            str(server.data_dir),
            env={"WABOX_ADMIN_TOKEN": "", "WABOX_API_KEY": ""},
        )
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
    common = ["--base-url", server.base_url, "--api-key", API_KEY]
    with server.admin() as admin:  # a message from before, for tail's first look to show
        before = admin.post(
            "/sandbox/inbound",
            json={"from": "16505557800", "type": "text", "text": {"body": "before tail"}},
        )
    assert before.status_code == 200, before.text
    first_wamid = before.json()["id"]
    tail_args = ["tail", "--duration", "60", "--base-url", server.base_url]
    tail_args += ["--admin-token", ADMIN_TOKEN]
    errors = tmp_path / "tail.stderr"
    with following(tail_args, errors) as (tail, printed):
        # tail has taken its first look: what was there before it started is printed.
        eventually(lambda: any(first_wamid in line for line in printed), timeout=30)
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
        # tail follows: the new message's statuses appear as they happen, then Ctrl-C.
        eventually(
            lambda: any(wamid in line and " delivered " in line for line in printed), timeout=30
        )
    assert tail.returncode == 0, errors.read_text()
    lines = [line for line in printed if wamid in line]
    assert any(" accepted " in line for line in lines), printed
    assert any(" sent " in line for line in lines), printed
    assert any(" delivered " in line for line in lines), printed
    with server.admin() as admin:
        rows = admin.get("/sandbox/messages", params={"to": "16505557800"}).json()["messages"]
    image_row = next(m for m in rows if m["wamid"] == wamid)
    assert image_row["payload"]["image"]["caption"] == "from the cli"
    assert image_row["payload"]["image"]["id"].isdigit()


@pytest.mark.parametrize(
    ("library", "args"),
    [("typer", ["--help"]), ("rich", ["template", "list", "--base-url", "http://127.0.0.1:9"])],
)  # typer: `import wabox.cli` fails; rich: the command's own import, when it runs
def test_the_command_says_what_to_install_without_the_server_extra(
    library: str, args: list[str]
) -> None:
    code = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == {library!r}:
            raise ImportError("blocked", name={library!r})
sys.meta_path.insert(0, Block())
sys.argv = ["wabox", *{args!r}]
from wabox.launcher import main
main()
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1
    assert f"({library} is missing): pip install 'wabox[server]'" in result.stderr


def test_a_wrong_setting_stops_the_start_with_one_line(tmp_path: Path) -> None:
    for env in (
        {"WABOX_CHANNEL_DEFAULTS": '{"throughput": 5000}'},
        {"WABOX_SCENARIOS": str(tmp_path / "missing.toml")},
        {"WABOX_UI_OPEN": "maybe"},
    ):
        started = run_process("serve", "--port", "1", "--data-dir", str(tmp_path / "data"), env=env)
        assert started.returncode == 2, started
        assert "wabox cannot start" in started.stdout
        assert "Traceback" not in started.stdout + started.stderr
