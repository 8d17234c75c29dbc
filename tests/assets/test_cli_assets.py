"""``assets serve`` and ``assets check`` as subprocesses, as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.assets.conftest import running_assets
from tests.helpers import eventually, free_port
from wabox.assets.check import CONNECT_TIMEOUT, TOTAL_TIMEOUT
from wabox.assets.server import DEFAULT_HOST, DEFAULT_POLICY, DEFAULT_PORT
from wabox.cli import assets as command
from wabox.config import Config

# The main CLI, as a user runs it: ``wabox assets …``.
COMMAND = [sys.executable, "-m", "wabox", "assets"]
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("WABOX_LINK_")},
    "COLUMNS": "250",
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=60, env=ENV)


@pytest.fixture(scope="module")
def base(samples_dir: Path) -> Iterator[str]:
    with running_assets(samples_dir, DEFAULT_POLICY) as url:
        yield url


def test_check_json(base: str) -> None:
    result = run("check", f"{base}/image.jpg", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["status"] == 200
    assert found["content_type"] == "image/jpeg"
    assert found["size"] == found["content_length"] == 14842
    assert found["caching_headers"]["cache-control"] == "max-age=3600"
    assert found["cache"]["seed"] == {
        "policy": "seed",
        "cached": True,
        "fresh_for": 3600.0,
        "revalidate": None,
        "why": "max-age=3600",
    }
    assert found["cache"]["fixed-10m"]["fresh_for"] == 600.0
    assert {kind: v["sendable"] for kind, v in found["kinds"].items()} == {
        "audio": False,
        "document": False,
        "image": True,
        "sticker": False,
        "video": False,
    }
    assert found["kinds"]["sticker"]["reason"] == (
        "Media of type image/jpeg cannot be sent as sticker; sticker takes image/webp."
    )


def test_check_exits_1_when_no_type_can_be_sent(base: str) -> None:
    result = run("check", f"{base}/missing.webp", "--json")
    assert result.returncode == 1
    found = json.loads(result.stdout)
    assert found["status"] == 404
    assert found["failure"] == "http_status"


def test_check_table(base: str) -> None:
    result = run("check", f"{base}/voice.ogg")
    assert result.returncode == 0, result.stderr
    assert "audio/ogg" in result.stdout
    assert "reused for 3600 s (max-age=3600)" in result.stdout
    assert "reused for 600 s" in result.stdout
    assert "127.0.0.1 is a loopback address" in result.stdout
    audio_row = next(line for line in result.stdout.splitlines() if "│ audio" in line)
    assert "yes" in audio_row


@pytest.mark.parametrize(
    ("flags", "header"),
    [((), "max-age=3600"), (("--max-age", "42"), "max-age=42"), (("--no-store",), "no-store")],
)
def test_serve_prints_its_url_and_policy_and_serves(
    samples_dir: Path, flags: tuple[str, ...], header: str
) -> None:
    port = free_port()
    command = [*COMMAND, "serve", str(samples_dir), "--port", str(port), *flags]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV
    ) as process:
        try:
            assert process.stdout is not None
            banner = process.stdout.readline()
            response = _get_when_up(f"http://127.0.0.1:{port}/video.mp4", process)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(10)
    assert f"http://127.0.0.1:{port}/ with Cache-Control: {header}" in banner
    assert str(samples_dir) in banner
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["cache-control"] == header
    assert process.returncode == 0


@pytest.mark.parametrize(
    "flags", [("--no-cache", "--no-store"), ("--max-age", "5", "--no-cache"), ("--max-age", "-1")]
)
def test_serve_takes_at_most_one_valid_policy(samples_dir: Path, flags: tuple[str, ...]) -> None:
    result = run("serve", str(samples_dir), "--port", str(free_port()), *flags)
    assert result.returncode == 2
    assert "--max-age" in result.stderr


def test_serve_needs_a_folder(samples_dir: Path) -> None:
    result = run("serve", str(samples_dir / "image.jpg"))
    assert result.returncode == 2
    assert "is a file" in result.stderr


def test_the_help_shows_the_tools_own_defaults() -> None:
    """The command repeats the defaults for --help without importing the tools."""
    assert (command.HOST, command.PORT) == (DEFAULT_HOST, DEFAULT_PORT)
    assert DEFAULT_POLICY.header == f"max-age={command.MAX_AGE}"
    config = Config()  # the timeouts' defaults are the server's, as check's are
    assert (config.link_timeout, config.link_connect_timeout) == (TOTAL_TIMEOUT, CONNECT_TIMEOUT)


def _get_when_up(url: str, process: subprocess.Popen[str]) -> httpx.Response:
    def answer() -> httpx.Response:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited early with {process.returncode}")
        return httpx.get(url, timeout=2)

    return eventually(answer, timeout=20, interval=0.05, ignoring=(httpx.TransportError,))
