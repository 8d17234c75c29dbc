"""Accepted image messages by cached link, next to image messages by media ID.

Why: a link whose response allows caching must cost about what a media ID costs, and must
not go back to the origin while the copy is fresh. So the script starts ``wabox serve``
(with ``WABOX_LINK_ALLOW=127.0.0.1``) and an origin on loopback (a threaded
``http.server`` serving one real JPEG with ``Cache-Control: max-age=86400``, counting its
requests), then:

1. sends 1,000 messages with that one link, 32 at a time, waits until each has its media
   outcome recorded, and reports how many requests the origin saw (must be 1: one fetch,
   then single flight and cache hits);
2. runs ``wrk`` alternately against ``POST /messages`` with the image by ID and with the
   image by the cached link (same body size within a few bytes, same connection count),
   for several rounds, and reports the medians and the ratio link ÷ id.

Afterwards it checks that every link message got its outcome, none failed, and the
origin still saw exactly one request. Exits non-zero otherwise.

One command: ``python bench/link.py [--duration 6] [--connections 32] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from PIL import Image
from run import (
    ACCEPT,
    API_KEY,
    HOST,
    BenchError,
    WrkResult,
    ensure_wrk,
    free_port,
    median_result,
    message_body,
    print_row,
    run_in_workdir,
    run_wrk,
    upload_image,
    wabox_server,
    wait_healthy,
)

SENDS = 1000
BY_ID = ACCEPT
BY_LINK = ACCEPT  # same endpoint and headers; only the body differs


class CountingOrigin:
    """Serves one JPEG at /cat.jpg, cacheable for a day, and counts every request."""

    def __init__(self) -> None:
        out = io.BytesIO()
        Image.new("RGB", (320, 240), (200, 120, 30)).save(out, "JPEG")
        body = out.getvalue()
        self.requests = 0
        lock = threading.Lock()
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with lock:
                    origin.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "max-age=86400")
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://{HOST}:{self._server.server_address[1]}/cat.jpg"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextlib.contextmanager
def counting_origin() -> Iterator[CountingOrigin]:
    origin = CountingOrigin()
    try:
        yield origin
    finally:
        origin.close()


def outcomes(database: Path) -> dict[str, int]:
    """Link outcomes recorded so far, by outcome (and failed messages as "failed_messages")."""
    with contextlib.closing(sqlite3.connect(database)) as connection:
        found = dict(
            connection.execute(
                "SELECT CASE WHEN joined THEN 'joined' ELSE outcome END AS how, count(*) "
                "FROM message_media GROUP BY how"
            )
        )
        failed = connection.execute("SELECT count(*) FROM messages WHERE state = 'failed'")
        found["failed_messages"] = failed.fetchone()[0]
    return found


def wait_for_outcomes(database: Path, expected: int, timeout: float = 60) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        found = outcomes(database)
        recorded = sum(v for k, v in found.items() if k != "failed_messages")
        if recorded >= expected:
            return found
        if time.monotonic() > deadline:
            raise BenchError(f"only {recorded} of {expected} link outcomes after {timeout:g} s")
        time.sleep(0.2)


def send_many(base_url: str, body: str, count: int, workers: int = 32) -> None:
    """``count`` POSTs from ``workers`` threads, each with its own keep-alive connection."""
    headers = {"Content-Type": "application/json", "D360-API-KEY": API_KEY}

    def worker(share: int) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            for _ in range(share):
                response = client.post("/messages", content=body, headers=headers)
                if response.status_code != 200:
                    raise BenchError(f"send: {response.status_code} {response.text}")

    shares = [count // workers + (n < count % workers) for n in range(workers)]
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(worker, shares))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=6, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32, help="wrk open connections")
    parser.add_argument("--rounds", type=int, default=5, help="id+link pairs to measure")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds per body")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (2 cores: 1)")
    parser.add_argument("--keep", action="store_true", help="keep the data dir and server log")
    return parser.parse_args()


def benchmark(args: argparse.Namespace, wrk: str, work: Path) -> int:
    data_dir, log_path = work / "data", work / "server.log"
    database = data_dir / "wabox.sqlite3"
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    id_runs: list[WrkResult] = []
    link_runs: list[WrkResult] = []
    with (
        counting_origin() as origin,
        wabox_server(data_dir, port, log_path, WABOX_LINK_ALLOW=HOST) as proc,
        httpx.Client(base_url=base_url, timeout=10) as client,
    ):
        wait_healthy(client, proc, log_path)
        by_id = message_body(upload_image(client))
        by_link = message_body(link=origin.url)

        started = time.perf_counter()
        send_many(base_url, by_link, SENDS)
        found = wait_for_outcomes(database, SENDS)
        seconds = time.perf_counter() - started
        print(
            f"{SENDS:,} sends of one cached link, 32 at a time: {origin.requests} origin "
            f"request(s); outcomes {found} in {seconds:.2f} s",
            flush=True,
        )
        if origin.requests != 1 or found.get("failed_messages"):
            raise BenchError(f"expected 1 origin request and no failures, got {found}")

        print(
            f"\nwabox on {base_url} (pid {proc.pid}); wrk -t{args.threads} -c{args.connections} "
            f"-d{args.duration:g}s x {args.rounds} rounds, {args.warmup:g}s warm-up",
            flush=True,
        )
        link_sent = SENDS + run_wrk(wrk, base_url, BY_LINK, args, args.warmup, by_link).requests
        run_wrk(wrk, base_url, BY_ID, args, args.warmup, by_id)
        print(f"\n{'round':<16} {'req/s':>10} {'p50 ms':>10} {'p99 ms':>10}")
        for number in range(1, args.rounds + 1):
            for name, body, runs in (("by id", by_id, id_runs), ("by link", by_link, link_runs)):
                result = run_wrk(wrk, base_url, ACCEPT, args, args.duration, body)
                runs.append(result)
                if runs is link_runs:
                    link_sent += result.requests
                print_row(f"{number} {name}", result.rps, result.p50_ms, result.p99_ms)
        found = wait_for_outcomes(database, link_sent)
        if origin.requests != 1 or found.get("failed_messages"):
            raise BenchError(f"after wrk: {origin.requests} origin requests, outcomes {found}")

    id_rps, id_p50, id_p99 = median_result(id_runs)
    link_rps, link_p50, link_p99 = median_result(link_runs)
    print(f"\nmedian of {args.rounds} rounds")
    print(f"{'body':<16} {'req/s':>10} {'p50 ms':>10} {'p99 ms':>10}")
    print_row("image by id", id_rps, id_p50, id_p99)
    print_row("image by link", link_rps, link_p50, link_p99)
    print(
        f"\nlink (cache hit) / id = {link_rps / id_rps:.1%}\n"
        f"{link_sent:,} link messages, outcomes {found}, origin requests: {origin.requests}"
    )
    return 0


def main() -> int:
    args = parse_args()
    return run_in_workdir(
        "wabox-bench-link-", args.keep, lambda work: benchmark(args, ensure_wrk(), work)
    )


if __name__ == "__main__":
    sys.exit(main())
