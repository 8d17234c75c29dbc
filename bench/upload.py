"""Upload throughput of ``POST /media`` next to a plain loopback copy of the same bytes.

Why: an upload streams through uvicorn, the multipart parser, sha256 and the object store
(a local folder) while it arrives, and is never held whole in memory. The questions are what
that stack costs against simply moving the bytes over loopback into a file on the same disk,
and whether a 100 MB upload really leaves the server's memory flat. So each file size
(1, 16 and 100 MiB) is sent to wabox and, in the same run and alternately, to a minimal
receiver (blocking sockets, no framework) in another process that reads the same request,
hashes the body with sha256 and writes it to a file in the same temporary directory. The
client side is the same for both: one httpx request with the same multipart body streamed
from memory. Medians of MiB/s and the ratio upload ÷ baseline are reported per size, and
the growth of the server's peak RSS (``VmHWM``) over each 100 MiB upload.

One command: ``python bench/upload.py [--sizes 1,16,100] [--repeats 9,5,5]``. It starts
``wabox serve`` on 127.0.0.1 with a fresh data dir and the upload rate limit off, prints a
table and exits non-zero if any request failed or any stored byte count or hash is wrong.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from run import (
    API_KEY,
    HOST,
    BenchError,
    free_port,
    run_in_workdir,
    wabox_server,
    wait_healthy,
)

MIB = 1024 * 1024
SEND_CHUNK = 1 * MIB  # what the client hands to the socket per write, for both targets
RECV_CHUNK = 256 * 1024  # the baseline's recv size (uvloop reads up to 256 KiB at a time)
MAX_UPLOAD = 100 * MIB  # wabox.media.types.MAX_UPLOAD_BYTES
RSS_TARGET_MIB = 32
RATIO_TARGET = 0.50
KINDS = ("upload", "baseline")


@dataclass(frozen=True, slots=True)
class Sample:
    kind: str
    size: int
    seconds: float
    cpu_seconds: float  # of the receiving process (wabox or the baseline receiver)

    @property
    def mib_s(self) -> float:
        return self.size / MIB / self.seconds


@dataclass(frozen=True, slots=True)
class RssSample:
    hwm_before_kib: int
    hwm_after_kib: int
    rss_after_kib: int
    reset: bool  # VmHWM was reset to the current RSS first (clear_refs 5)

    @property
    def growth_mib(self) -> float:
        return (self.hwm_after_kib - self.hwm_before_kib) / 1024


# --- /proc ----------------------------------------------------------------------------------


def proc_status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise BenchError(f"no {field} in /proc/{pid}/status")


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of the process (all threads), from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_peak_rss(pid: int) -> bool:
    """Linux resets VmHWM to the current RSS on ``echo 5 > /proc/<pid>/clear_refs``."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# --- the baseline receiver (runs in its own process) ----------------------------------------


def _recv_exact_headers(conn: socket.socket, pending: bytearray) -> bytes | None:
    while b"\r\n\r\n" not in pending:
        data = conn.recv(64 * 1024)
        if not data:
            return None
        pending += data
    head, _, rest = bytes(pending).partition(b"\r\n\r\n")
    pending[:] = rest
    return head


def serve_baseline(directory: Path) -> None:
    """HTTP/1.1 keep-alive, Content-Length bodies only: read, sha256, write to a file, answer.

    Prints its port on stdout, then serves one connection at a time until killed.
    """
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    directory.mkdir(parents=True, exist_ok=True)
    listener = socket.create_server((HOST, 0))
    print(listener.getsockname()[1], flush=True)
    buffer = bytearray(RECV_CHUNK)
    view = memoryview(buffer)
    count = 0
    while True:
        conn, _ = listener.accept()
        with conn:
            pending = bytearray()
            while (head := _recv_exact_headers(conn, pending)) is not None:
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _, value in (line.partition(b":") for line in head.split(b"\r\n"))
                }
                length = int(headers.get(b"content-length", b"0"))
                count += 1
                digest = hashlib.sha256()
                fd = os.open(
                    directory / f"{count}.bin", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644
                )
                try:
                    first = bytes(pending[:length])
                    del pending[:length]
                    digest.update(first)
                    os.write(fd, first)
                    remaining = length - len(first)
                    while remaining:
                        got = conn.recv_into(view, min(RECV_CHUNK, remaining))
                        if not got:
                            raise ConnectionError("client closed mid-body")
                        digest.update(view[:got])
                        os.write(fd, view[:got])
                        remaining -= got
                finally:
                    os.close(fd)
                body = json.dumps({"bytes": length, "sha256": digest.hexdigest()}).encode()
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                )


@contextlib.contextmanager
def baseline_receiver(directory: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    command = [sys.executable, __file__, "--serve-baseline", str(directory)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.isdigit():
            raise BenchError(f"baseline receiver did not start (exit {proc.poll()})")
        yield proc, int(line)
    finally:
        stop(proc, "baseline receiver", signal.SIGTERM)


# --- wabox ----------------------------------------------------------------------------------


def stop(proc: subprocess.Popen[bytes] | subprocess.Popen[str], name: str, sig: int) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            print(f"{name} ignored signal {sig} for 15 s; killing it", file=sys.stderr)
            proc.kill()
            proc.wait()


# --- the client (the same for both targets) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Body:
    boundary: str
    head: bytes
    payload: bytes
    tail: bytes

    @classmethod
    def multipart(cls, payload: bytes) -> Body:
        boundary = f"wabox-bench-{secrets.token_hex(12)}"
        head = (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="messaging_product"\r\n\r\n'
            "whatsapp\r\n"
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="f.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        return cls(boundary, head, payload, f"\r\n--{boundary}--\r\n".encode())

    @property
    def length(self) -> int:
        return len(self.head) + len(self.payload) + len(self.tail)

    def chunks(self) -> Iterator[bytes]:
        yield self.head
        view = memoryview(self.payload)
        for start in range(0, len(view), SEND_CHUNK):
            yield bytes(view[start : start + SEND_CHUNK])
        yield self.tail

    def sha256(self) -> str:
        digest = hashlib.sha256(self.head)
        digest.update(self.payload)
        digest.update(self.tail)
        return digest.hexdigest()


def send(client: httpx.Client, url: str, body: Body, headers: dict[str, str]) -> httpx.Response:
    headers = {
        **headers,
        "Content-Type": f"multipart/form-data; boundary={body.boundary}",
        "Content-Length": str(body.length),
    }
    return client.post(url, content=body.chunks(), headers=headers)


def upload_once(
    client: httpx.Client, base_url: str, body: Body, media_dir: Path, server_pid: int
) -> Sample:
    cpu = proc_cpu_seconds(server_pid)
    started = time.perf_counter()
    response = send(client, base_url + "/media", body, {"D360-API-KEY": API_KEY})
    seconds = time.perf_counter() - started
    cpu = proc_cpu_seconds(server_pid) - cpu
    media_id = response.json().get("id", "") if response.status_code == 200 else ""
    if not (isinstance(media_id, str) and media_id.isdigit()):
        raise BenchError(f"upload: {response.status_code} {response.text[:500]}")
    sha = hashlib.sha256(body.payload).hexdigest()
    blob = media_dir / "blobs" / sha[:2] / sha
    if not blob.is_file() or blob.stat().st_size != len(body.payload):
        raise BenchError(f"upload {media_id}: no blob of {len(body.payload)} bytes at {blob}")
    return Sample("upload", len(body.payload), seconds, cpu)


def baseline_once(client: httpx.Client, base_url: str, body: Body, receiver_pid: int) -> Sample:
    cpu = proc_cpu_seconds(receiver_pid)
    started = time.perf_counter()
    response = send(client, base_url + "/copy", body, {})
    seconds = time.perf_counter() - started
    cpu = proc_cpu_seconds(receiver_pid) - cpu
    expected = {"bytes": body.length, "sha256": body.sha256()}
    if response.status_code != 200 or response.json() != expected:
        raise BenchError(f"baseline: {response.status_code} {response.text[:500]}")
    return Sample("baseline", len(body.payload), seconds, cpu)


# --- the run --------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,16,100", help="file sizes in MiB (max 100)")
    parser.add_argument("--repeats", default="9,5,5", help="upload+baseline pairs per size")
    parser.add_argument("--keep", action="store_true", help="keep the data dir and server log")
    parser.add_argument("--serve-baseline", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_baseline is not None:
        return args
    try:
        args.sizes = [int(s) for s in args.sizes.split(",")]
        args.repeats = [int(r) for r in args.repeats.split(",")]
    except ValueError:
        parser.error("--sizes and --repeats are comma-separated integers")
    if len(args.sizes) != len(args.repeats):
        parser.error("--sizes and --repeats need the same number of entries")
    if not all(0 < s * MIB <= MAX_UPLOAD for s in args.sizes) or min(args.repeats) < 1:
        parser.error("sizes must be 1..100 MiB and repeats >= 1")
    return args


def measure_pair(
    rep: int,
    body: Body,
    run_upload: Callable[[Body], Sample],
    run_baseline: Callable[[Body], Sample],
) -> list[Sample]:
    """Alternate which goes first, so neither always follows the other's disk writes.

    ``sync`` before each request: the kernel's writeback of earlier runs' dirty pages would
    otherwise compete for the 2 cores and the disk with whichever request comes next.
    """
    order = (run_upload, run_baseline) if rep % 2 == 0 else (run_baseline, run_upload)
    samples = []
    for run in order:
        os.sync()
        samples.append(run(body))
    return samples


def benchmark(args: argparse.Namespace, work: Path) -> int:
    data_dir, log_path = work / "data", work / "server.log"
    media_dir = data_dir / "media"
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    samples: list[Sample] = []
    rss: list[RssSample] = []
    with (
        wabox_server(data_dir, port, log_path, WABOX_MEDIA_UPLOAD_RATE="0") as server,
        baseline_receiver(work / "baseline") as (receiver, receiver_port),
        httpx.Client(timeout=120) as client,
    ):
        with httpx.Client(base_url=base_url, timeout=10) as health:
            wait_healthy(health, server, log_path)
        copy_url = f"http://{HOST}:{receiver_port}"

        def run_upload(body: Body) -> Sample:
            return upload_once(client, base_url, body, media_dir, server.pid)

        def run_baseline(body: Body) -> Sample:
            return baseline_once(client, copy_url, body, receiver.pid)

        warm = Body.multipart(os.urandom(MIB))  # smoke test and warm-up, not counted
        run_upload(warm)
        run_baseline(warm)
        print(
            f"wabox on {base_url} (pid {server.pid}), baseline receiver on {copy_url} "
            f"(pid {receiver.pid}); data in {work}\n"
            f"sizes {args.sizes} MiB x repeats {args.repeats}; the client sends "
            f"{SEND_CHUNK // MIB} MiB writes\n",
            flush=True,
        )
        print(f"{'size':>8} {'rep':>4} {'kind':<9} {'MiB/s':>9} {'ms':>9}")
        for size_mib, repeats in zip(args.sizes, args.repeats, strict=True):
            for rep in range(repeats):
                body = Body.multipart(os.urandom(size_mib * MIB))  # fresh bytes: no dedup
                hwm_before, reset = 0, False
                if size_mib * MIB == MAX_UPLOAD:
                    reset = reset_peak_rss(server.pid)
                    hwm_before = proc_status_kib(server.pid, "VmHWM")
                pair = measure_pair(rep, body, run_upload, run_baseline)
                if size_mib * MIB == MAX_UPLOAD:
                    rss.append(
                        RssSample(
                            hwm_before,
                            proc_status_kib(server.pid, "VmHWM"),
                            proc_status_kib(server.pid, "VmRSS"),
                            reset,
                        )
                    )
                for sample in pair:
                    samples.append(sample)
                    print(
                        f"{size_mib:>5}MiB {rep + 1:>4} {sample.kind:<9} {sample.mib_s:>9.1f} "
                        f"{sample.seconds * 1000:>9.1f}",
                        flush=True,
                    )
    if server.returncode not in (0, -signal.SIGINT):
        print(f"warning: server exited {server.returncode}", file=sys.stderr)
    report(args, samples, rss)
    log = log_path.read_text(errors="replace").strip()
    print(f"\nserver log ({log_path}):\n{log}" if log else "\nserver log: empty")
    return 0


def report(args: argparse.Namespace, samples: list[Sample], rss: list[RssSample]) -> None:
    print(
        f"\nmedians\n{'size':>8} {'upload MiB/s':>13} {'baseline MiB/s':>15} {'ratio':>7} "
        f"{'upload cpu %':>13} {'baseline cpu %':>15}"
    )
    for size_mib in args.sizes:
        of_size = [s for s in samples if s.size == size_mib * MIB]
        speed = {k: statistics.median(s.mib_s for s in of_size if s.kind == k) for k in KINDS}
        # CPU ticks are 10 ms, too coarse for one short request: total CPU over total time.
        cpu = {
            k: sum(s.cpu_seconds for s in of_size if s.kind == k)
            / sum(s.seconds for s in of_size if s.kind == k)
            for k in KINDS
        }
        ratio = speed["upload"] / speed["baseline"]
        verdict = "" if size_mib < 16 else "  ok" if ratio >= RATIO_TARGET else "  BELOW target"
        print(
            f"{size_mib:>5}MiB {speed['upload']:>13.1f} {speed['baseline']:>15.1f} "
            f"{ratio:>7.1%} {cpu['upload']:>13.0%} {cpu['baseline']:>15.0%}{verdict}"
        )
    print(
        f"(target: upload ≥ {RATIO_TARGET:.0%} of the baseline for 16 and 100 MiB; cpu % is "
        "the receiving process's CPU time over the time of its requests, 100 % = one core)"
    )
    for number, sample in enumerate(rss, 1):
        how = "reset to RSS before" if sample.reset else "not reset: previous peak"
        verdict = "ok" if sample.growth_mib < RSS_TARGET_MIB else "ABOVE target"
        print(
            f"\n100 MiB upload {number}: server VmHWM {sample.hwm_before_kib / 1024:.1f} → "
            f"{sample.hwm_after_kib / 1024:.1f} MiB ({how}), growth "
            f"{sample.growth_mib:.1f} MiB ({verdict}, target < {RSS_TARGET_MIB} MiB); "
            f"VmRSS after {sample.rss_after_kib / 1024:.1f} MiB"
        )


def main() -> int:
    args = parse_args()
    if args.serve_baseline is not None:
        serve_baseline(args.serve_baseline)
        return 0
    return run_in_workdir(
        "wabox-bench-upload-",
        args.keep,
        lambda work: benchmark(args, work),
        (BenchError, httpx.HTTPError),
    )


if __name__ == "__main__":
    sys.exit(main())
