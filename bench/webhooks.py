"""Status webhooks delivered per second, and how long a status takes to reach its receiver.

Why: every accepted message makes wabox POST two or three status webhooks (sent, delivered,
read), each written to the outbox first and recorded after its 2xx, so webhook delivery,
not accepting, is where a busy test suite waits. The numbers only mean something next to
what the receiver itself can take, so one run measures:

1. the receiver's ceiling: a minimal asyncio (uvloop) HTTP/1.1 receiver in its own process,
   loaded by ``wrk`` with a real status webhook captured from wabox;
2. delivery throughput: with ``WABOX_CLOCK=virtual``, N messages are sent and their N
   ``sent`` webhooks received; one ``POST /sandbox/clock/advance`` of 2 s then makes 2N
   ``delivered`` and ``read`` webhooks due at once, and the time until the receiver holds
   all of them gives deliveries/s (goal ≥ 5,000/s). Every message must arrive as sent,
   delivered, read, in that order; duplicates (allowed: at least once) are counted;
3. latency under load: with the real clock and ``delivered_after`` 0, messages are sent at
   a steady rate (1,000/s) by an asyncio sender, and each wamid's ``delivered`` webhook
   arrival minus the moment its POST left gives p50/p99/max; the same sender against
   ``POST /sandbox/noop`` at the same rate is the baseline.

One command: ``python bench/webhooks.py [--messages 10000] [--rate 1000] [--duration 10]``.
Exits non-zero when a send is not answered 200, a webhook is missing or out of order, or
a delivery is left pending or dead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import aiohttp
import httpx
import msgspec
from run import (
    ADMIN_TOKEN,
    HOST,
    BenchError,
    Endpoint,
    WrkResult,
    ensure_wrk,
    free_port,
    run_in_workdir,
    run_wrk,
    wabox_server,
    wait_healthy,
)

GOAL = 5000.0  # webhook deliveries per second
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
TEXT_BODY = json.dumps(
    {"messaging_product": "whatsapp", "to": "16505551234", "type": "text", "text": {"body": "hi"}},
    separators=(",", ":"),
).encode()
NOOP_BODY = b'{"messaging_product":"whatsapp"}'
LIFECYCLE = ("sent", "delivered", "read")


# --- the receiver (its own process) -----------------------------------------------------------


class _Status(msgspec.Struct):
    id: str
    status: str


class _Value(msgspec.Struct):
    statuses: list[_Status] = []


class _Change(msgspec.Struct):
    value: _Value


class _Entry(msgspec.Struct):
    changes: list[_Change]


class _Envelope(msgspec.Struct):
    entry: list[_Entry]


class Records(msgspec.Struct):
    """Every status POST in arrival order, as parallel columns (cheap to send as JSON)."""

    wamid: list[str] = []
    status: list[str] = []
    at: list[float] = []
    unparsed: int = 0


_envelope = msgspec.json.Decoder(_Envelope)
_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
_NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


def _reply(body: bytes, content_type: bytes = b"application/json") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type
        + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )  # fmt: skip


class Receiver:
    """What the receiver keeps: the records, counts by status and one raw body per status."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.records = Records()
        self.counts: Counter[str] = Counter()
        self.samples: dict[str, bytes] = {}

    def handle(self, method: bytes, target: bytes, body: bytes, at: float) -> bytes:
        if method == b"POST" and target == b"/hook":
            try:
                statuses = [
                    s
                    for e in _envelope.decode(body).entry
                    for c in e.changes
                    for s in c.value.statuses
                ]
            except msgspec.DecodeError:
                self.records.unparsed += 1
                return _OK
            for status in statuses:
                self.records.wamid.append(status.id)
                self.records.status.append(status.status)
                self.records.at.append(at)
                self.counts[status.status] += 1
                self.samples.setdefault(status.status, body)
            return _OK
        if method == b"GET" and target == b"/stats":
            return _reply(msgspec.json.encode(self.counts))
        if method == b"GET" and target == b"/records":
            return _reply(msgspec.json.encode(self.records))
        if method == b"GET" and target.startswith(b"/sample/"):
            sample = self.samples.get(target.removeprefix(b"/sample/").decode())
            return _NOT_FOUND if sample is None else _reply(sample)
        if method == b"POST" and target == b"/reset":
            self.reset()
            return _reply(b"{}")
        return _NOT_FOUND


class ReceiverProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and pipelining; bodies by Content-Length only (aiohttp and
    wrk both send one). Answers 200 as soon as a request is complete."""

    def __init__(self, receiver: Receiver) -> None:
        self._receiver = receiver
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        at = time.time()
        buffer = self._buffer
        buffer += data
        while (end := buffer.find(b"\r\n\r\n")) >= 0:
            head = bytes(buffer[:end])
            lowered = head.lower()
            length = 0
            start = lowered.find(b"\r\ncontent-length:")
            if start >= 0:
                stop = lowered.find(b"\r\n", start + 2)
                length = int(lowered[start + 17 : stop if stop >= 0 else None])
            if len(buffer) < end + 4 + length:
                return
            body = bytes(buffer[end + 4 : end + 4 + length])
            del buffer[: end + 4 + length]
            method, target, _ = head.split(b" ", 2)
            assert self._transport is not None
            self._transport.write(self._receiver.handle(method, target, body, at))
            if b"\r\nconnection: close" in lowered:
                self._transport.close()
                return


def serve_receiver(port: int) -> None:
    """The receiver process's main: serve on ``port`` until terminated."""
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    receiver = Receiver()

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: ReceiverProtocol(receiver), HOST, port, backlog=1024
        )
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


@contextlib.contextmanager
def receiver_process(port: int) -> Iterator[multiprocessing.process.BaseProcess]:
    process = multiprocessing.get_context("spawn").Process(
        target=serve_receiver, args=(port,), daemon=True
    )
    process.start()
    try:
        yield process
    finally:
        process.terminate()
        process.join(5)


class ReceiverControl:
    """The bench's side of the receiver: counts, records and samples over plain GETs."""

    def __init__(self, port: int) -> None:
        self.url = f"http://{HOST}:{port}/hook"
        self._client = httpx.Client(base_url=f"http://{HOST}:{port}", timeout=30)

    def wait_up(self, process: multiprocessing.process.BaseProcess) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if not process.is_alive():
                raise BenchError(f"receiver exited {process.exitcode}")
            with contextlib.suppress(httpx.TransportError):
                self.counts()
                return
            time.sleep(0.05)
        raise BenchError("receiver not up after 15 s")

    def counts(self) -> Counter[str]:
        return Counter(self._client.get("/stats").raise_for_status().json())

    def records(self) -> Records:
        return msgspec.json.decode(self._client.get("/records").content, type=Records)

    def sample(self, status: str) -> bytes:
        return self._client.get(f"/sample/{status}").raise_for_status().content

    def reset(self) -> None:
        self._client.post("/reset").raise_for_status()

    def wait_for(self, wanted: dict[str, int], timeout: float) -> Counter[str]:
        deadline = time.monotonic() + timeout
        while True:
            counts = self.counts()
            if all(counts[status] >= n for status, n in wanted.items()):
                return counts
            if time.monotonic() > deadline:
                raise BenchError(
                    f"after {timeout:g} s the receiver has {dict(counts)}, waiting for {wanted}"
                )
            time.sleep(0.02)

    def close(self) -> None:
        self._client.close()


# --- the sender ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Sends:
    """One sender run: per request the wall time it left, its latency and (for sends) wamid."""

    sent_at: list[float] = field(default_factory=list)
    latency: list[float] = field(default_factory=list)
    wamids: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        span = max(self.sent_at) - min(self.sent_at)
        return (len(self.sent_at) - 1) / span if span > 0 else math.inf


async def send_all(
    url: str,
    headers: dict[str, str],
    body: bytes,
    count: int,
    rate: float | None,
    connections: int,
) -> Sends:
    """``count`` POSTs over ``connections`` keep-alive connections, request i leaving at
    start + i/rate (``rate`` None: as fast as answers come). A slow server makes the
    sender fall behind its schedule, which shows as an achieved rate below ``rate``."""
    sends = Sends()
    decoder = msgspec.json.Decoder()
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    next_index = 0
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(
        connector=connector, headers=headers, timeout=aiohttp.ClientTimeout(total=30)
    ) as session:

        async def worker() -> None:
            nonlocal next_index
            while next_index < count:
                index, next_index = next_index, next_index + 1
                if rate is not None and (delay := start + index / rate - loop.time()) > 0:
                    await asyncio.sleep(delay)
                sent_at, began = time.time(), time.perf_counter()
                async with session.post(url, data=body) as response:
                    answer = await response.read()
                sends.latency.append(time.perf_counter() - began)
                sends.sent_at.append(sent_at)
                if response.status != 200:
                    sends.failures.append(f"{response.status} {answer[:300]!r}")
                    continue
                messages = decoder.decode(answer).get("messages")
                if messages:
                    sends.wamids.append(messages[0]["id"])

        await asyncio.gather(*(worker() for _ in range(connections)))
    return sends


def send(
    url: str,
    headers: dict[str, str],
    body: bytes,
    count: int,
    rate: float | None,
    connections: int,
) -> Sends:
    with contextlib.suppress(ImportError):
        import uvloop

        return uvloop.run(send_all(url, headers, body, count, rate, connections))
    return asyncio.run(send_all(url, headers, body, count, rate, connections))


# --- wabox --------------------------------------------------------------------------------------


def create_channel(
    client: httpx.Client, webhook_url: str, delivered_after: float, read_after: float | None
) -> str:
    settings = {
        "webhook": {"url": webhook_url},
        "delivered_after": delivered_after,
        "read_after": read_after,
    }
    response = client.post("/sandbox/channels", json={"settings": settings}, headers=ADMIN)
    if response.status_code != 201:
        raise BenchError(f"create channel: {response.status_code} {response.text}")
    return str(response.json()["api_key"])


def deliveries(client: httpx.Client, state: str) -> int:
    response = client.get(
        "/sandbox/webhooks", params={"state": state, "limit": 1000}, headers=ADMIN
    )
    return int(response.raise_for_status().json()["count"])


def wait_settled(client: httpx.Client, timeout: float) -> None:
    """No delivery pending: every acknowledged POST is recorded in the outbox too."""
    deadline = time.monotonic() + timeout
    while (pending := deliveries(client, "pending")) > 0:
        if time.monotonic() > deadline:
            raise BenchError(f"{pending} webhook deliveries still pending after {timeout:g} s")
        time.sleep(0.05)
    if dead := deliveries(client, "dead"):
        raise BenchError(f"{dead} webhook deliveries are dead")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, all threads, from /proc (ticks of 1/CLK_TCK s)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- checks -------------------------------------------------------------------------------------


@dataclass(slots=True)
class Check:
    missing: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    unknown: int = 0
    unparsed: int = 0


def check_records(records: Records, wamids: list[str], expected: tuple[str, ...]) -> Check:
    """Each wamid must show ``expected`` in order (a repeat of a status is a duplicate)."""
    seen: dict[str, list[str]] = {wamid: [] for wamid in wamids}
    check = Check(unparsed=records.unparsed)
    for wamid, status in zip(records.wamid, records.status, strict=True):
        statuses = seen.get(wamid)
        if statuses is None:
            check.unknown += 1
        elif status in statuses:
            check.duplicates += 1
        else:
            statuses.append(status)
    for statuses in seen.values():
        check.missing += sum(status not in statuses for status in expected)
        present = [status for status in expected if status in statuses]
        check.out_of_order += statuses[: len(present)] != present
    return check


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1)]


def ms(values: list[float]) -> str:
    return (
        f"{percentile(values, 50) * 1000:8.1f} {percentile(values, 99) * 1000:8.1f} "
        f"{max(values) * 1000:8.1f}"
    )


# --- the three measurements ---------------------------------------------------------------------


@dataclass(slots=True)
class Throughput:
    messages: int
    send_rate: float
    sent_seconds: float
    burst: int
    burst_seconds: float
    first_after: float
    delivered_done: float
    server_cpu: float
    check: Check

    @property
    def rate(self) -> float:
        return self.burst / self.burst_seconds


def measure_throughput(
    args: argparse.Namespace, work: Path, control: ReceiverControl
) -> Throughput:
    data_dir, log_path = work / "virtual", work / "server.log"
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    n = args.messages
    with (
        wabox_server(data_dir, port, log_path, WABOX_CLOCK="virtual") as proc,
        httpx.Client(base_url=base_url, timeout=30) as client,
    ):
        wait_healthy(client, proc, log_path)
        api_key = create_channel(client, control.url, 0.1, 1.0)
        print(f"\nburst: wabox (virtual clock) on {base_url}, pid {proc.pid}")
        began = time.time()
        headers = {"D360-API-KEY": api_key, "Content-Type": "application/json"}
        sends = send(base_url + "/messages", headers, TEXT_BODY, n, None, args.connections)
        if sends.failures:
            raise BenchError(f"{len(sends.failures)} sends failed, first: {sends.failures[0]}")
        control.wait_for({"sent": n}, args.timeout)
        sent_seconds = time.time() - began
        wait_settled(client, args.timeout)
        print(
            f"    {n:,} messages sent at {sends.rate:,.0f}/s; all {n:,} sent webhooks "
            f"received {sent_seconds:.2f} s after the first send",
            flush=True,
        )
        cpu_before = cpu_seconds(proc.pid)
        advanced_at = time.time()
        client.post("/sandbox/clock/advance", json={"seconds": 2}, headers=ADMIN).raise_for_status()
        control.wait_for({"delivered": n, "read": n}, args.timeout)
        cpu = cpu_seconds(proc.pid) - cpu_before
        records = control.records()
        burst_at = [at for at, s in zip(records.at, records.status, strict=True) if s != "sent"]
        delivered_at = [
            at for at, s in zip(records.at, records.status, strict=True) if s == "delivered"
        ]
        wait_settled(client, args.timeout)
    seconds = max(burst_at) - advanced_at
    return Throughput(
        messages=n,
        send_rate=sends.rate,
        sent_seconds=sent_seconds,
        burst=len(burst_at),
        burst_seconds=seconds,
        first_after=min(burst_at) - advanced_at,
        delivered_done=max(delivered_at) - advanced_at,
        server_cpu=cpu / seconds,
        check=check_records(records, sends.wamids, LIFECYCLE),
    )


def measure_receiver(
    args: argparse.Namespace, wrk: str, control: ReceiverControl, body: bytes
) -> WrkResult:
    """wrk POSTs one captured ``delivered`` webhook to the receiver (same parse and record)."""
    options = argparse.Namespace(threads=args.threads, connections=args.wrk_connections)
    base = control.url.removesuffix("/hook")
    endpoint = Endpoint("receiver", "/hook", ("User-Agent: wabox-bench",))
    run_wrk(wrk, base, endpoint, options, 2, body.decode())  # warm-up
    result = run_wrk(wrk, base, endpoint, options, args.wrk_duration, body.decode())
    control.reset()
    return result


@dataclass(slots=True)
class Latency:
    noop: Sends
    sends: Sends
    to_sent: list[float]
    to_delivered: list[float]
    server_cpu: float
    check: Check


def measure_latency(args: argparse.Namespace, work: Path, control: ReceiverControl) -> Latency:
    data_dir, log_path = work / "real", work / "server.log"
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    count = round(args.rate * args.duration)
    with (
        wabox_server(data_dir, port, log_path) as proc,
        httpx.Client(base_url=base_url, timeout=30) as client,
    ):
        wait_healthy(client, proc, log_path)
        api_key = create_channel(client, control.url, 0, None)
        print(
            f"\nlatency: wabox (real clock) on {base_url}, pid {proc.pid}; "
            f"{count:,} requests at {args.rate:g}/s over {args.connections} connections",
            flush=True,
        )
        json_headers = {"Content-Type": "application/json"}
        noop = send(
            base_url + "/sandbox/noop",
            {**json_headers, **ADMIN},
            NOOP_BODY,
            count,
            args.rate,
            args.connections,
        )
        if noop.failures:
            raise BenchError(f"{len(noop.failures)} noop requests failed: {noop.failures[0]}")
        cpu_before = cpu_seconds(proc.pid)
        headers = {**json_headers, "D360-API-KEY": api_key}
        sends = send(base_url + "/messages", headers, TEXT_BODY, count, args.rate, args.connections)
        if sends.failures:
            raise BenchError(f"{len(sends.failures)} sends failed, first: {sends.failures[0]}")
        control.wait_for({"sent": count, "delivered": count}, args.timeout)
        cpu = cpu_seconds(proc.pid) - cpu_before
        wait_settled(client, args.timeout)
        records = control.records()
    sent_at = dict(zip(sends.wamids, sends.sent_at, strict=True))
    arrived: dict[str, dict[str, float]] = {"sent": {}, "delivered": {}}
    for wamid, status, at in zip(records.wamid, records.status, records.at, strict=True):
        arrived[status].setdefault(wamid, at)
    span = max(records.at) - min(sends.sent_at)
    return Latency(
        noop=noop,
        sends=sends,
        to_sent=[at - sent_at[w] for w, at in arrived["sent"].items() if w in sent_at],
        to_delivered=[at - sent_at[w] for w, at in arrived["delivered"].items() if w in sent_at],
        server_cpu=cpu / span,
        check=check_records(records, sends.wamids, ("sent", "delivered")),
    )


# --- the run ------------------------------------------------------------------------------------


def report_check(name: str, check: Check) -> list[str]:
    print(
        f"    {name}: missing {check.missing}, out of order {check.out_of_order}, "
        f"duplicates {check.duplicates} (allowed), unknown wamids {check.unknown}, "
        f"bodies not understood {check.unparsed}"
    )
    problems = []
    if check.missing or check.out_of_order or check.unknown or check.unparsed:
        problems.append(f"{name}: {check}")
    return problems


def benchmark(args: argparse.Namespace, wrk: str, work: Path) -> int:
    port = free_port()
    control = ReceiverControl(port)
    with receiver_process(port) as process:
        control.wait_up(process)
        print(
            f"receiver on {control.url} (pid {process.pid}); {args.messages:,} messages for "
            f"the burst, {args.rate:g}/s for {args.duration:g} s for latency",
            flush=True,
        )
        throughput = measure_throughput(args, work, control)
        body = control.sample("delivered")
        control.reset()
        print(
            f"\nreceiver baseline: wrk -c{args.wrk_connections} -d{args.wrk_duration:g}s, "
            f"a {len(body)}-byte delivered webhook",
            flush=True,
        )
        ceiling = measure_receiver(args, wrk, control, body)
        latency = measure_latency(args, work, control)
        control.close()

    problems = []
    print("\n== 1, 2: the receiver's ceiling; the burst after one 2 s advance of the virtual clock")
    t = throughput
    problems += report_check("sent, delivered, read per message", t.check)
    print(f"\n{'measure':<44} {'value':>12}")
    rows = [
        ("receiver ceiling (wrk), req/s", f"{ceiling.rps:,.0f}"),
        ("  wrk p50 / p99 ms", f"{ceiling.p50_ms:.2f} / {ceiling.p99_ms:.2f}"),
        (f"webhooks in the burst ({t.messages:,} x 2)", f"{t.burst:,}"),
        ("  first arrival after the advance, s", f"{t.first_after:.3f}"),
        ("  all delivered arrived after, s", f"{t.delivered_done:.2f}"),
        ("  all delivered+read arrived after, s", f"{t.burst_seconds:.2f}"),
        ("  webhook deliveries/s", f"{t.rate:,.0f}"),
        ("  ÷ receiver ceiling", f"{t.rate / ceiling.rps:.1%}"),
        (f"  goal ≥ {GOAL:,.0f}/s", "met" if t.rate >= GOAL else "NOT met"),
        ("  wabox CPU during the burst (1 core = 100 %)", f"{t.server_cpu:.0%}"),
        (f"sends before it, req/s ({t.messages:,} messages)", f"{t.send_rate:,.0f}"),
    ]
    for label, value in rows:
        print(f"{label:<44} {value:>12}")

    lat = latency
    print(f"\n== 3: latency at {args.rate:g}/s target, {args.connections} connections (real clock)")
    problems += report_check("sent, delivered per message", lat.check)
    print(f"\n{'what':<44} {'rate/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    print(f"{'POST /sandbox/noop, response':<44} {lat.noop.rate:>8,.0f} {ms(lat.noop.latency)}")
    print(f"{'POST /messages, response':<44} {lat.sends.rate:>8,.0f} {ms(lat.sends.latency)}")
    if lat.to_sent:
        print(f"{'send -> sent webhook arrives':<44} {'':>8} {ms(lat.to_sent)}")
    if lat.to_delivered:
        print(f"{'send -> delivered webhook arrives':<44} {'':>8} {ms(lat.to_delivered)}")
    print(f"wabox CPU while sending and delivering: {lat.server_cpu:.0%} of one core")
    if lat.sends.rate < 0.95 * args.rate:
        print(f"note: the sender reached {lat.sends.rate:,.0f}/s, not {args.rate:g}/s")

    if problems:
        raise BenchError("; ".join(problems))
    median = statistics.median(lat.to_delivered) * 1000 if lat.to_delivered else math.nan
    print(
        f"\nsummary: {t.rate:,.0f} webhooks/s = {t.rate / ceiling.rps:.1%} of the receiver's "
        f"{ceiling.rps:,.0f} req/s (goal {GOAL:,.0f}/s); delivered webhook p50 {median:.1f} ms "
        f"at {lat.sends.rate:,.0f} sends/s"
    )
    return 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000, help="messages for the burst")
    parser.add_argument("--rate", type=float, default=1000, help="sends/s for the latency run")
    parser.add_argument("--duration", type=float, default=10, help="seconds of the latency run")
    parser.add_argument("--connections", type=int, default=32, help="sender connections")
    parser.add_argument(
        "--wrk-connections", type=int, default=64, help="to the receiver (wabox's lane: 64)"
    )
    parser.add_argument("--wrk-duration", type=float, default=5, help="seconds of wrk")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (2 cores: 1)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for webhooks")
    parser.add_argument("--keep", action="store_true", help="keep the data dirs and server log")
    args = parser.parse_args()
    if args.messages < 1 or args.rate <= 0 or args.duration <= 0:
        parser.error("need --messages >= 1, --rate > 0 and --duration > 0")
    return args


def main() -> int:
    args = parse_args()
    return run_in_workdir(
        "wabox-bench-webhooks-", args.keep, lambda work: benchmark(args, ensure_wrk(), work)
    )


if __name__ == "__main__":
    sys.exit(main())
