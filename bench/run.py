"""Throughput of accepted image-by-id messages, measured against a no-op endpoint.

Why: every accepted ``POST /messages`` is durably committed (SQLite WAL, group commit,
the WAL fdatasynced) before its 200, so the question is how much of the app's plain JSON-POST
throughput that costs. ``POST /sandbox/noop`` reads the same body through the same stack
and does nothing, so it is the ceiling on this machine. Both are measured in the same run,
alternately (noop, accept, noop, accept, ...), and the medians are compared, so machine
noise hits both sides; the ratio is what to compare across machines, not the raw rps.

One command: ``python bench/run.py [--duration 6] [--connections 32] [--rounds 5]``.
It starts ``wabox serve`` on 127.0.0.1 with a fresh data dir, uploads one JPEG through
POST /media, loads it with ``wrk`` (installed with apt-get when missing) from a
second process, prints the numbers and exits non-zero if any request failed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from PIL import Image

HERE = Path(__file__).resolve().parent
LUA = HERE / "post.lua"
HOST = "127.0.0.1"
API_KEY = "bench-api-key-0000000000000000"
ADMIN_TOKEN = "bench-admin-token-000000000000"
RECIPIENT = "16505551234"


def message_body(media_id: str | None = None, link: str | None = None) -> str:
    image = {"id": media_id} if link is None else {"link": link}
    return json.dumps(
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": RECIPIENT,
            "type": "image",
            "image": image,
        },
        separators=(",", ":"),
    )


TARGET, GOAL = 0.50, 0.60


class BenchError(Exception):
    """Something that makes the numbers meaningless; the run fails loudly."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    path: str
    headers: tuple[str, ...]


NOOP = Endpoint("noop", "/sandbox/noop", ())
ACCEPT = Endpoint("accept", "/messages", (f"D360-API-KEY: {API_KEY}",))


@dataclass(frozen=True, slots=True)
class WrkResult:
    endpoint: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    output: str


# --- wrk ------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found; installing it with apt-get (Debian package `wrk`)", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    install = [*sudo, "apt-get", "install", "-y", "wrk"]
    if subprocess.run(install, check=False).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update"], check=True)
        subprocess.run(install, check=True)
    found = shutil.which("wrk")
    if not found:
        raise BenchError("apt-get finished but `wrk` is still not on PATH")
    return found


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _latency_ms(output: str, pct: str) -> float:
    match = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    if match is None:
        raise BenchError(f"no {pct}% latency line in wrk output:\n{output}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(endpoint: str, output: str) -> WrkResult:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    total = re.search(r"^\s*(\d+) requests in ", output, re.MULTILINE)
    if rps is None or total is None:
        raise BenchError(f"cannot parse wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        endpoint=endpoint,
        rps=float(rps.group(1)),
        p50_ms=_latency_ms(output, "50"),
        p99_ms=_latency_ms(output, "99"),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
        output=output,
    )


def run_wrk(
    wrk: str,
    base_url: str,
    endpoint: Endpoint,
    args: argparse.Namespace,
    duration: float,
    body: str,
) -> WrkResult:
    command = [
        wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{duration:g}s",
        "--timeout", "10s",
        "--latency",
        "-s", str(LUA),
        base_url + endpoint.path,
        "--", body, *endpoint.headers,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"wrk exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    result = parse_wrk(endpoint.name, done.stdout)
    if result.non_2xx or result.socket_errors:
        raise BenchError(
            f"{endpoint.name}: {result.non_2xx} non-2xx responses and {result.socket_errors} "
            f"socket errors out of {result.requests} requests:\n{done.stdout}"
        )
    return result


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


UNLIMITED = '{"enforce_window": false, "throughput": null, "pair_rate_limit": false}'
WINDOW_ONLY = '{"enforce_window": true, "throughput": null, "pair_rate_limit": false}'


@contextlib.contextmanager
def wabox_server(
    data_dir: Path, port: int, log_path: Path, **settings: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``settings`` are extra ``WABOX_*`` variables; the caller's own ones are not inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WABOX_")}
    env |= {"WABOX_API_KEY": API_KEY, "WABOX_ADMIN_TOKEN": ADMIN_TOKEN, "PYTHONUNBUFFERED": "1"}
    # A load test sends thousands of messages a second to a few numbers nobody wrote from:
    # Meta's limits and the customer service window would refuse nearly all of them.
    env["WABOX_CHANNEL_DEFAULTS"] = UNLIMITED
    env |= settings
    command = [
        sys.executable, "-m", "wabox", "serve",
        "--host", HOST, "--port", str(port), "--data-dir", str(data_dir),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                print("server ignored SIGINT for 15 s; killing it", file=sys.stderr)
                proc.kill()
                proc.wait()


def wait_healthy(client: httpx.Client, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"server exited {proc.returncode}:\n{log_path.read_text()}")
        with contextlib.suppress(httpx.TransportError):
            response = client.get("/health")
            if response.status_code == 200 and response.json() == {"status": "ok"}:
                return
        time.sleep(0.1)
    raise BenchError(f"server not healthy after 30 s:\n{log_path.read_text()}")


def upload_image(client: httpx.Client) -> str:
    """A real 8-bit RGB JPEG through POST /media: the media checks then pass it once."""
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 120, 200)).save(out, "JPEG")
    response = client.post(
        "/media",
        headers={"D360-API-KEY": API_KEY},
        data={"messaging_product": "whatsapp"},
        files={"file": ("bench.jpg", out.getvalue(), "image/jpeg")},
    )
    if response.status_code != 200:
        raise BenchError(f"upload: {response.status_code} {response.text}")
    return str(response.json()["id"])


def smoke_test(client: httpx.Client, body: str) -> None:
    """One request of each kind by hand, so a wrong setup fails with a readable body."""
    headers = {"Content-Type": "application/json"}
    noop = client.post(NOOP.path, content=body, headers=headers)
    if noop.status_code != 200 or noop.json() != {"success": True}:
        raise BenchError(f"noop smoke test: {noop.status_code} {noop.text}")
    accept = client.post(ACCEPT.path, content=body, headers={**headers, "D360-API-KEY": API_KEY})
    answer = accept.json() if accept.status_code == 200 else {}
    wamid = (answer.get("messages") or [{}])[0].get("id", "")
    if not wamid.startswith("wamid."):
        raise BenchError(f"accept smoke test: {accept.status_code} {accept.text}")


def failed_messages(database_path: Path) -> int:
    with contextlib.closing(sqlite3.connect(database_path)) as connection:
        count: int = connection.execute(
            "SELECT count(*) FROM messages WHERE state = 'failed'"
        ).fetchone()[0]
        return count


def open_window(client: httpx.Client) -> None:
    """The recipient writes first, so every message of the run falls inside the window."""
    response = client.post(
        "/sandbox/inbound",
        json={"from": RECIPIENT, "text": {"body": "hello"}},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    if response.status_code != 200:
        raise BenchError(f"inbound: {response.status_code} {response.text}")


def committed_messages(database_path: Path) -> int:
    with contextlib.closing(sqlite3.connect(database_path)) as connection:
        count: int = connection.execute("SELECT count(*) FROM messages").fetchone()[0]
        return count


# --- reporting ------------------------------------------------------------------------------


def median_result(results: list[WrkResult]) -> tuple[float, float, float]:
    return (
        statistics.median(r.rps for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
    )


def print_row(label: str, rps: float, p50: float, p99: float) -> None:
    print(f"{label:<16} {rps:>10,.0f} {p50:>10.2f} {p99:>10.2f}", flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=6, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32, help="wrk open connections")
    parser.add_argument("--rounds", type=int, default=5, help="noop+accept pairs to measure")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds per endpoint")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (2 cores: 1)")
    parser.add_argument("--keep", action="store_true", help="keep the data dir and server log")
    parser.add_argument(
        "--window",
        action="store_true",
        help="enforce the customer service window (the recipient writes first), as by default",
    )
    args = parser.parse_args()
    if args.rounds < 1 or args.duration <= 0 or args.connections < args.threads:
        parser.error("need --rounds >= 1, --duration > 0 and --connections >= --threads")
    return args


def benchmark(args: argparse.Namespace, wrk: str, work: Path) -> int:
    data_dir, log_path = work / "data", work / "server.log"
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    noop_runs: list[WrkResult] = []
    accept_runs: list[WrkResult] = []
    accepted = 1  # the smoke test's message
    settings = {"WABOX_CHANNEL_DEFAULTS": WINDOW_ONLY} if args.window else {}
    with (
        wabox_server(data_dir, port, log_path, **settings) as proc,
        httpx.Client(base_url=base_url, timeout=10) as client,
    ):
        wait_healthy(client, proc, log_path)
        if args.window:
            open_window(client)
        body = message_body(upload_image(client))
        smoke_test(client, body)
        print(
            f"wabox on {base_url} (pid {proc.pid}), data in {data_dir}; wrk -t{args.threads} "
            f"-c{args.connections} -d{args.duration:g}s x {args.rounds} rounds, "
            f"{args.warmup:g}s warm-up",
            flush=True,
        )
        run_wrk(wrk, base_url, NOOP, args, args.warmup, body)
        accepted += run_wrk(wrk, base_url, ACCEPT, args, args.warmup, body).requests
        print(f"\n{'round':<16} {'req/s':>10} {'p50 ms':>10} {'p99 ms':>10}")
        for number in range(1, args.rounds + 1):
            for endpoint, runs in ((NOOP, noop_runs), (ACCEPT, accept_runs)):
                result = run_wrk(wrk, base_url, endpoint, args, args.duration, body)
                runs.append(result)
                if endpoint is ACCEPT:
                    accepted += result.requests
                print_row(f"{number} {endpoint.name}", result.rps, result.p50_ms, result.p99_ms)
    if proc.returncode not in (0, -signal.SIGINT):
        print(f"warning: server exited {proc.returncode}", file=sys.stderr)

    rows = committed_messages(data_dir / "wabox.sqlite3")
    if rows < accepted:
        raise BenchError(f"{accepted} messages got a 200 but only {rows} rows are committed")
    failed = failed_messages(data_dir / "wabox.sqlite3")
    if failed:
        raise BenchError(f"{failed} messages failed (a closed window?)")

    noop_rps, noop_p50, noop_p99 = median_result(noop_runs)
    accept_rps, accept_p50, accept_p99 = median_result(accept_runs)
    ratio = accept_rps / noop_rps
    print(f"\nmedian of {args.rounds} rounds")
    print(f"{'endpoint':<16} {'req/s':>10} {'p50 ms':>10} {'p99 ms':>10}")
    print_row("noop", noop_rps, noop_p50, noop_p99)
    print_row("accept (image)", accept_rps, accept_p50, accept_p99)
    verdict = "goal met" if ratio >= GOAL else "target met" if ratio >= TARGET else "BELOW target"
    print(
        f"\naccept/noop = {ratio:.1%}  (target ≥ {TARGET:.0%}, goal {GOAL:.0%}: {verdict})\n"
        f"{rows} messages committed for {accepted} 200 responses counted by wrk"
    )
    log = log_path.read_text(errors="replace").strip()
    print(f"\nserver log ({log_path}):\n{log}" if log else "\nserver log: empty")
    return 0


def run_in_workdir(
    prefix: str,
    keep: bool,
    benchmark_in: Callable[[Path], int],
    failures: tuple[type[Exception], ...] = (BenchError,),
) -> int:
    """Run a benchmark in a fresh temp dir; on failure print why and the server log."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        return benchmark_in(work)
    except failures as exc:
        print(f"\nBENCHMARK FAILED: {exc!r}", file=sys.stderr)
        log_path = work / "server.log"
        if log_path.exists():
            print(f"\nserver log:\n{log_path.read_text(errors='replace')}", file=sys.stderr)
        return 1
    finally:
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    args = parse_args()
    return run_in_workdir(
        "wabox-bench-", args.keep, lambda work: benchmark(args, ensure_wrk(), work)
    )


if __name__ == "__main__":
    sys.exit(main())
