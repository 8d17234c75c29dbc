"""How wabox scales with processes: 1 on SQLite, and 1, 2 and 4 on one PostgreSQL database.

Why: ``wabox serve --workers N`` runs N processes on one port and one PostgreSQL database,
so accepting and delivering are no longer bound to one event loop. This bench measures, in
one run, for four configurations:

- (a) 1 process on SQLite (the embedded default);
- (b) 1 process on PostgreSQL (the baseline every figure is divided by);
- (c) ``--workers 2`` on PostgreSQL;
- (d) ``--workers 4`` on PostgreSQL;

1. accepted image-by-id messages/s: ``wrk`` against ``POST /messages`` as ``bench/run.py``
   does (next to ``POST /sandbox/noop`` of the same server, the HTTP stack's ceiling);
   after the server stops, the committed rows must cover every 200;
2. status webhooks delivered/s: the default channel's webhook goes to the loopback
   receiver of ``bench/webhooks.py`` with ``delivered_after`` and ``read_after`` 0, a
   batch of text messages is sent as fast as 32 connections go, and the 3 webhooks per
   message (sent, delivered, read) give deliveries/s from the first arrival to the last.

Each round starts every configuration afresh (new database, new data dir, dropped and
removed after), in an order that rotates from round to round, so the machine's noise
falls on all of them; the figures are medians over the rounds. While each load runs, the
CPU time of wabox, PostgreSQL, wrk (or the sender and receiver) and everything else is
read from /proc, since on a small machine these compete for the same cores.

One command: ``python bench/scale.py [--rounds 3] [--duration 5] [--messages 3000]``.
Exits non-zero when a request fails (non-2xx, socket error), a webhook is missing, out
of order or dead, or fewer rows are committed than 200s were counted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from run import (
    ACCEPT,
    ADMIN_TOKEN,
    HOST,
    NOOP,
    BenchError,
    WrkResult,
    ensure_wrk,
    free_port,
    message_body,
    run_in_workdir,
    run_wrk,
    smoke_test,
    upload_image,
    wabox_server,
    wait_healthy,
)

from webhooks import (
    LIFECYCLE,
    TEXT_BODY,
    ReceiverControl,
    check_records,
    cpu_seconds,
    receiver_process,
    send,
    wait_settled,
)

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Setup:
    key: str
    workers: int
    postgres: bool

    @property
    def label(self) -> str:
        db = "PostgreSQL" if self.postgres else "SQLite"
        return f"({self.key}) {self.workers} process{'es' if self.workers > 1 else ''}, {db}"


SETUPS = (Setup("a", 1, False), Setup("b", 1, True), Setup("c", 2, True), Setup("d", 4, True))
BASELINE = "b"


# --- CPU from /proc ---------------------------------------------------------------------------


def _stat(pid: str) -> tuple[str, str, int, float] | None:
    """(comm, state, process group, utime + stime in seconds) of a process; None if gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.find("(") + 1 : raw.rfind(")")]
    fields = raw.rsplit(")", 1)[1].split()
    return comm, fields[0], int(fields[2]), (int(fields[11]) + int(fields[12])) / TICK


def group_members(pgid: int) -> dict[str, float]:
    """Live (not zombie) processes of a process group, with their CPU seconds."""
    members = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit() and (found := _stat(pid)) is not None:
            _comm, state, group, seconds = found
            if group == pgid and state != "Z":
                members[pid] = seconds
    return members


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _postgres_process_is_ours(cmdline: str, database: str | None) -> bool:
    """A backend of ``database``, or one of the server's own processes (WAL writer,
    checkpointer, postmaster...): not the backends of other databases (other tests)."""
    parts = cmdline.split(": ", 2)
    if len(parts) < 3:
        return True  # the postmaster
    tokens = parts[2].split()
    is_backend = len(tokens) >= 3 and ("(" in tokens[2] or tokens[2] == "[local]")
    return not is_backend or tokens[1] == database


def machine_busy() -> float:
    """Seconds of CPU the whole machine spent not idle, all cores (from /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / TICK


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    at: float
    wabox: float
    postgres: float
    load: float  # wrk (waited-for children), or this process plus the receiver
    machine: float


def snapshot(server_pgid: int, database: str | None, receiver_pid: int | None) -> CpuSnapshot:
    wabox = postgres = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        found = _stat(pid)
        if found is None:
            continue
        comm, _state, group, seconds = found
        if group == server_pgid:
            wabox += seconds
        elif comm == "postgres" and _postgres_process_is_ours(_cmdline(pid), database):
            postgres += seconds
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    me = resource.getrusage(resource.RUSAGE_SELF)
    load = children.ru_utime + children.ru_stime + me.ru_utime + me.ru_stime
    if receiver_pid is not None:
        with contextlib.suppress(OSError):
            load += cpu_seconds(receiver_pid)
    return CpuSnapshot(time.monotonic(), wabox, postgres, load, machine_busy())


@dataclass(frozen=True, slots=True)
class Cores:
    """Cores busy on average over an interval (1.0 = one core all the time)."""

    wabox: float
    postgres: float
    load: float
    rest: float

    @classmethod
    def between(cls, before: CpuSnapshot, after: CpuSnapshot) -> Cores:
        wall = after.at - before.at
        wabox = (after.wabox - before.wabox) / wall
        postgres = (after.postgres - before.postgres) / wall
        load = (after.load - before.load) / wall
        machine = (after.machine - before.machine) / wall
        return cls(wabox, postgres, load, max(0.0, machine - wabox - postgres - load))

    def text(self) -> str:
        return f"{self.wabox:.2f} / {self.postgres:.2f} / {self.load:.2f} / {self.rest:.2f}"


def median_cores(samples: list[Cores]) -> Cores:
    return Cores(
        statistics.median(c.wabox for c in samples),
        statistics.median(c.postgres for c in samples),
        statistics.median(c.load for c in samples),
        statistics.median(c.rest for c in samples),
    )


# --- the databases ----------------------------------------------------------------------------


def postgres_call(admin_dsn: str, database: str, sql: str, *params: object) -> object:
    """One statement on ``database`` (a fresh connection; the bench's own queries are few)."""

    async def call() -> object:
        connection = await asyncpg.connect(f"{admin_dsn}/{database}")
        try:
            return await connection.fetchval(sql, *params)
        finally:
            await connection.close()

    return asyncio.run(call())


@contextlib.contextmanager
def fresh_database(admin_dsn: str, name: str) -> Iterator[str]:
    postgres_call(admin_dsn, "postgres", f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_dsn}/{name}"
    finally:
        postgres_call(admin_dsn, "postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class WaitSampler:
    """What the database's backends do, sampled every 20 ms while a load runs (PostgreSQL):
    on average how many are running, waiting for a lock, for the WAL, or for wabox in the
    middle of a transaction. ``idle`` backends (pooled, between transactions) are left out."""

    INTERVAL = 0.02
    QUERY_CHARS = 72

    def __init__(self, admin_dsn: str, database: str | None) -> None:
        # connected to the "postgres" database, so its polls are no commits of the one watched
        self._dsn = None if database is None else f"{admin_dsn}/postgres"
        self._database = database
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.polls = 0
        self.states: Counter[str] = Counter()
        self.queries: Counter[str] = Counter()  # what the active backends run
        self.error: str | None = None

    def __enter__(self) -> WaitSampler:
        if self._dsn is not None:
            self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    async def _run(self) -> None:
        assert self._dsn is not None
        try:
            connection = await asyncpg.connect(self._dsn)
        except (OSError, asyncpg.PostgresError) as exc:
            self.error = repr(exc)
            return
        query = (
            "SELECT state, wait_event_type, wait_event, "
            "left(regexp_replace(query, '\\s+', ' ', 'g'), $2) FROM pg_stat_activity "
            "WHERE datname = $1 AND backend_type = 'client backend' AND state <> 'idle'"
        )
        try:
            while not self._stop.is_set():
                found = await connection.fetch(query, self._database, self.QUERY_CHARS)
                for state, kind, event, text in found:
                    self.states[self.name(state, kind, event)] += 1
                    if state == "active":
                        self.queries[text] += 1
                self.polls += 1
                await asyncio.sleep(self.INTERVAL)
        finally:
            await connection.close()

    @staticmethod
    def name(state: str, kind: str | None, event: str | None) -> str:
        if state == "active":
            if kind is None:
                return "running"
            if kind == "Lock":
                return f"lock ({event})"
            return f"{kind}:{event}"
        return state  # idle in transaction: waiting for wabox's next statement

    def summary(self) -> dict[str, float]:
        """Average number of backends in each state over the polls."""
        if not self.polls:
            return {}
        return {name: count / self.polls for name, count in self.states.most_common()}

    def top_queries(self, count: int = 3) -> dict[str, float]:
        """The statements active backends ran most, as average backends running each."""
        if not self.polls:
            return {}
        return {text: n / self.polls for text, n in self.queries.most_common(count)}


class Rows:
    """Counts in one configuration's database, SQLite file or PostgreSQL."""

    def __init__(self, sqlite_path: Path | None, admin_dsn: str, database: str | None) -> None:
        self._sqlite_path = sqlite_path
        self._admin_dsn = admin_dsn
        self.database = database
        self.queries = 0  # the bench's own transactions in the database

    def scalar(self, sql: str) -> int:
        if self.database is not None:
            self.queries += 1
            found = postgres_call(self._admin_dsn, self.database, sql)
            assert isinstance(found, int), found
            return found
        assert self._sqlite_path is not None
        with contextlib.closing(sqlite3.connect(self._sqlite_path, timeout=30)) as connection:
            return int(connection.execute(sql).fetchone()[0])

    def messages(self) -> int:
        return self.scalar("SELECT count(*) FROM messages")

    def failed(self) -> int:
        return self.scalar("SELECT count(*) FROM messages WHERE state = 'failed'")

    def commits(self) -> tuple[int, int, int] | None:
        """PostgreSQL: transactions committed in this database, and WAL syncs of the whole
        server (pg_stat_wal), and how many queries the bench had made so far. Backends
        report their statistics at most once a second."""
        if self.database is None:
            return None
        return (
            self.scalar(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
            ),
            self.scalar("SELECT wal_sync FROM pg_stat_wal"),
            self.queries,
        )

    def unfinished(self) -> int:
        """Messages whose lifecycle still has a step to go."""
        return self.scalar("SELECT count(*) FROM messages WHERE next_step IS NOT NULL")


def wait_for(what: str, ready: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise BenchError(f"{what}: not so after {timeout:g} s")
        time.sleep(0.1)


def wait_started(pgid: int, workers: int, timeout: float = 60) -> None:
    """Every worker process exists and the server has gone quiet (start-up work done):
    ``/health`` answers as soon as one of ``--workers N`` processes runs."""
    deadline = time.monotonic() + timeout
    previous = group_members(pgid)
    while True:
        time.sleep(0.5)
        members = group_members(pgid)
        spawned = [pid for pid in members if "spawn_main" in _cmdline(pid)]
        busy = sum(members.values()) - sum(previous.get(pid, 0.0) for pid in members)
        if len(spawned) >= (workers if workers > 1 else 0) and busy < 0.05:
            return
        if time.monotonic() > deadline:
            raise BenchError(
                f"after {timeout:g} s: {len(spawned)} of {workers} worker processes, "
                f"{busy / 0.5:.2f} cores busy"
            )
        previous = members


def stop_leftovers(pgid: int) -> list[str]:
    """Processes of the server's group still alive 5 s after it stopped: killed, and named.
    (multiprocessing's resource tracker of ``--workers N`` exits a moment after it.)"""
    deadline = time.monotonic() + 5
    while (left := list(group_members(pgid))) and time.monotonic() < deadline:
        time.sleep(0.1)
    if left:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    return left


# --- one configuration, one round -------------------------------------------------------------


@dataclass(slots=True)
class Sample:
    setup: Setup
    round: int
    noop: WrkResult | None = None
    accept: WrkResult | None = None
    accept_cores: Cores | None = None
    webhooks_per_s: float | None = None
    webhooks_from_send: float | None = None
    send_rate: float | None = None
    webhook_cores: Cores | None = None
    duplicates: int = 0
    accept_commits: tuple[float, float] | None = None
    webhook_commits: tuple[float, float] | None = None
    accept_waits: dict[str, float] = field(default_factory=dict)
    webhook_waits: dict[str, float] = field(default_factory=dict)
    accept_queries: dict[str, float] = field(default_factory=dict)
    webhook_queries: dict[str, float] = field(default_factory=dict)
    accepted: int = 0
    rows: int = 0
    started_s: float = 0.0
    log_notes: list[str] = field(default_factory=list)


def measure(
    setup: Setup,
    number: int,
    args: argparse.Namespace,
    wrk: str,
    control: ReceiverControl,
    receiver_pid: int,
    work: Path,
) -> Sample:
    sample = Sample(setup, number)
    data_dir = work / f"{setup.key}{number}"
    log_path = work / f"server-{setup.key}{number}.log"
    database = f"wabox_scale_{os.getpid()}_{setup.key}{number}" if setup.postgres else None
    settings = {"WABOX_WORKERS": str(setup.workers), "WABOX_MEDIA_URL": str(data_dir / "media")}
    rows = Rows(data_dir / "wabox.sqlite3", args.postgres, database)
    with contextlib.ExitStack() as stack:
        if database is not None:
            settings["WABOX_DATABASE_URL"] = stack.enter_context(
                fresh_database(args.postgres, database)
            )
        port = free_port()
        base_url = f"http://{HOST}:{port}"
        began = time.monotonic()
        proc: subprocess.Popen[bytes] | None = None
        try:
            with (
                wabox_server(data_dir, port, log_path, **settings) as proc,
                httpx.Client(base_url=base_url, timeout=30) as client,
            ):
                wait_healthy(client, proc, log_path)
                wait_started(proc.pid, setup.workers)
                sample.started_s = time.monotonic() - began
                measure_in(sample, args, wrk, control, receiver_pid, client, base_url, proc, rows)
        finally:
            # the server has stopped (SIGINT, SIGKILL after 15 s): no process may be left
            if proc is not None:
                if left := stop_leftovers(proc.pid):
                    sample.log_notes.append(f"processes left after the stop, killed: {left}")
                if proc.returncode not in (0, -signal.SIGINT):
                    sample.log_notes.append(f"server exited {proc.returncode}")
            sample.log_notes += odd_log_lines(log_path)
        # every row is committed now; counted before the database is dropped
        check_rows(sample, rows)
    if not args.keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    return sample


def measure_in(
    sample: Sample,
    args: argparse.Namespace,
    wrk: str,
    control: ReceiverControl,
    receiver_pid: int,
    client: httpx.Client,
    base_url: str,
    proc: subprocess.Popen[bytes],
    rows: Rows,
) -> None:
    setup = sample.setup
    database = rows.database
    body = message_body(upload_image(client))
    smoke_test(client, body)
    sample.accepted = 1
    # wrk: a warm-up (every process gets connections and caches the key and media ID),
    # the HTTP stack's ceiling (noop), then the accept figure.
    sample.accepted += run_wrk(wrk, base_url, ACCEPT, args, args.warmup, body).requests
    sample.noop = run_wrk(wrk, base_url, NOOP, args, args.duration, body)
    commits_before = rows.commits()
    before = snapshot(proc.pid, database, None)
    with WaitSampler(args.postgres, database) as waits:
        sample.accept = run_wrk(wrk, base_url, ACCEPT, args, args.duration, body)
    sample.accept_cores = Cores.between(before, snapshot(proc.pid, database, None))
    sample.accept_waits = waits.summary()
    sample.accept_queries = waits.top_queries()
    sample.accepted += sample.accept.requests
    print(
        f"  {setup.label:<28} started in {sample.started_s:4.1f} s   noop {sample.noop.rps:>7,.0f}"
        f"   accept {sample.accept.rps:>7,.0f} req/s (p50 {sample.accept.p50_ms:.1f} ms, "
        f"p99 {sample.accept.p99_ms:.1f} ms)   cores {sample.accept_cores.text()}",
        flush=True,
    )

    # Webhooks: the accepted messages' lifecycle must be over first, or their later steps
    # would make webhooks of messages this batch did not send.
    wait_for("lifecycle of the accepted messages finished", lambda: rows.unfinished() == 0, 120)
    sample.accept_commits = per_message(commits_before, rows, sample.accept.requests)
    channel = client.get("/sandbox/channels", headers=ADMIN).raise_for_status().json()
    phone_number_id = channel["channels"][0]["phone_number_id"]
    settings = {"webhook": {"url": control.url}, "delivered_after": 0, "read_after": 0}
    response = client.patch(
        f"/sandbox/channels/{phone_number_id}", json={"settings": settings}, headers=ADMIN
    )
    if response.status_code != 200:
        raise BenchError(f"PATCH channel: {response.status_code} {response.text}")
    control.reset()
    time.sleep(0.5)  # every process hears of the new webhook (NOTIFY) within milliseconds
    n = args.messages
    headers = {
        "D360-API-KEY": channel["channels"][0]["api_key"],
        "Content-Type": "application/json",
    }
    commits_before = rows.commits()
    before = snapshot(proc.pid, database, receiver_pid)
    sent_at = time.time()
    with WaitSampler(args.postgres, database) as waits:
        sends = send(base_url + "/messages", headers, TEXT_BODY, n, None, args.sender_connections)
        if sends.failures:
            raise BenchError(
                f"{setup.label}: {len(sends.failures)} of {n} sends failed, first: "
                f"{sends.failures[0]}"
            )
        sample.accepted += n
        control.wait_for({status: n for status in LIFECYCLE}, args.timeout)
    after = snapshot(proc.pid, database, receiver_pid)
    sample.webhook_waits = waits.summary()
    sample.webhook_queries = waits.top_queries()
    records = control.records()
    check = check_records(records, sends.wamids, LIFECYCLE)
    if check.missing or check.out_of_order or check.unknown or check.unparsed:
        raise BenchError(f"{setup.label}: webhooks wrong: {check}")
    wait_settled(client, args.timeout)
    sample.webhook_commits = per_message(commits_before, rows, n)
    first, last = min(records.at), max(records.at)
    sample.duplicates = check.duplicates
    sample.send_rate = sends.rate
    sample.webhooks_per_s = 3 * n / (last - first)
    sample.webhooks_from_send = 3 * n / (last - sent_at)
    sample.webhook_cores = Cores.between(before, after)
    print(
        f"  {'':<28} {n:,} messages sent at {sends.rate:,.0f}/s; {3 * n:,} webhooks in "
        f"{last - first:.2f} s = {sample.webhooks_per_s:,.0f}/s "
        f"({last - sent_at:.2f} s from the first send; duplicates {check.duplicates})   "
        f"cores {sample.webhook_cores.text()}",
        flush=True,
    )


def per_message(
    before: tuple[int, int, int] | None, rows: Rows, messages: int
) -> tuple[float, float] | None:
    """PostgreSQL transactions (this database) and WAL syncs (the server) per message since
    ``before``, once every process has reported its statistics."""
    if before is None:
        return None
    time.sleep(1.2)
    queries = rows.queries
    after = rows.commits()
    assert after is not None
    ours = queries - before[2] + 2  # the bench's own since (and with) the first reading
    return (after[0] - before[0] - ours) / messages, (after[1] - before[1]) / messages


def check_rows(sample: Sample, rows: Rows) -> None:
    sample.rows = rows.messages()
    if sample.rows < sample.accepted:
        raise BenchError(
            f"{sample.setup.label}: {sample.accepted} messages got a 200 but only "
            f"{sample.rows} rows are committed"
        )
    if failed := rows.failed():
        raise BenchError(f"{sample.setup.label}: {failed} messages failed")


def odd_log_lines(log_path: Path) -> list[str]:
    """Server log lines that are not the start banner: warnings, errors, tracebacks."""
    if not log_path.exists():
        return []
    banner = ("wabox ", "  ")
    lines = [
        line
        for line in log_path.read_text(errors="replace").splitlines()
        if line.strip() and not line.startswith(banner)
    ]
    return lines[:20] + ([f"... {len(lines) - 20} more lines"] if len(lines) > 20 else [])


# --- the run ----------------------------------------------------------------------------------


def median_of(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def ratio(value: float | None, baseline: float | None) -> str:
    if value is None or not baseline:
        return "–"
    return f"{value / baseline:.2f}×"


def number(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def report(samples: list[Sample], args: argparse.Namespace) -> None:
    by_setup = {s: [x for x in samples if x.setup == s] for s in SETUPS}
    medians: dict[str, dict[str, float | None]] = {}
    for setup, runs in by_setup.items():
        medians[setup.key] = {
            "noop": median_of([r.noop.rps if r.noop else None for r in runs]),
            "accept": median_of([r.accept.rps if r.accept else None for r in runs]),
            "p50": median_of([r.accept.p50_ms if r.accept else None for r in runs]),
            "p99": median_of([r.accept.p99_ms if r.accept else None for r in runs]),
            "webhooks": median_of([r.webhooks_per_s for r in runs]),
            "from_send": median_of([r.webhooks_from_send for r in runs]),
        }
    base = medians[BASELINE]
    print("\n== per round (req/s; webhooks/s from the first arrival to the last)")
    print(
        f"{'round':>5} {'configuration':<30} {'noop':>8} {'accept':>8} {'webhooks':>9} "
        f"{'sends':>7} {'start s':>7}"
    )
    for s in sorted(samples, key=lambda x: (x.round, x.setup.key)):
        print(
            f"{s.round:>5} {s.setup.label:<30} {number(s.noop.rps if s.noop else None):>8} "
            f"{number(s.accept.rps if s.accept else None):>8} {number(s.webhooks_per_s):>9} "
            f"{number(s.send_rate):>7} {s.started_s:>7.1f}"
        )
    print(f"\n== medians of {args.rounds} rounds; ratios to ({BASELINE}) 1 process on PostgreSQL\n")
    print(
        "| configuration | noop req/s | accept req/s | ÷ (b) | accept p50 / p99 ms "
        "| webhooks/s | ÷ (b) | cores in accept: wabox / PostgreSQL / wrk / rest "
        "| cores in webhooks: wabox / PostgreSQL / sender+receiver / rest |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for setup, runs in by_setup.items():
        m = medians[setup.key]
        accept_cores = [r.accept_cores for r in runs if r.accept_cores]
        webhook_cores = [r.webhook_cores for r in runs if r.webhook_cores]
        latency = "–" if m["p50"] is None else f"{m['p50']:.1f} / {m['p99']:.1f}"
        print(
            f"| {setup.label} | {number(m['noop'])} | {number(m['accept'])} "
            f"| {ratio(m['accept'], base['accept'])} | {latency} | {number(m['webhooks'])} "
            f"| {ratio(m['webhooks'], base['webhooks'])} "
            f"| {median_cores(accept_cores).text() if accept_cores else '–'} "
            f"| {median_cores(webhook_cores).text() if webhook_cores else '–'} |"
        )
    print(
        "\nnoop ÷ (b): "
        + ", ".join(f"({k}) {ratio(m['noop'], base['noop'])}" for k, m in medians.items())
        + "; webhooks/s counted from the first send instead: "
        + ", ".join(f"({k}) {number(m['from_send'])}" for k, m in medians.items())
    )
    for s in samples:
        if s.accept is not None:
            over = s.rows - s.accepted
            print(
                f"round {s.round} {s.setup.label}: {s.rows:,} rows committed for {s.accepted:,} "
                f"200s (+{over} answered after wrk stopped counting); webhook duplicates "
                f"{s.duplicates}"
            )
    print(
        "\nPostgreSQL per message (medians): transactions committed in its database, and WAL "
        "syncs of the whole server (other databases' included)"
    )
    for setup, runs in by_setup.items():
        accept = [r.accept_commits for r in runs if r.accept_commits]
        hooks = [r.webhook_commits for r in runs if r.webhook_commits]
        if accept and hooks:
            print(
                f"  {setup.label:<30} accept (with its lifecycle, no webhook): "
                f"{statistics.median(a[0] for a in accept):.2f} commits, "
                f"{statistics.median(a[1] for a in accept):.2f} WAL syncs; with 3 webhooks: "
                f"{statistics.median(h[0] for h in hooks):.2f} commits, "
                f"{statistics.median(h[1] for h in hooks):.2f} WAL syncs"
            )
    print(
        "\nPostgreSQL backends of wabox not idle, on average (sampled every 20 ms; "
        "'idle in transaction' = waiting for wabox's next statement)"
    )
    for setup, runs in by_setup.items():
        for phase in ("accept", "webhooks"):
            waits = [r.accept_waits if phase == "accept" else r.webhook_waits for r in runs]
            if any(waits):
                print(f"  {setup.label:<30} {phase:<9} {wait_text(waits)}")
    print("\nthe statements active backends ran most (average backends; the last round)")
    for setup, runs in by_setup.items():
        for phase in ("accept", "webhooks"):
            last = runs[-1] if runs else None
            queries = (
                {}
                if last is None
                else (last.accept_queries if phase == "accept" else last.webhook_queries)
            )
            for text, value in queries.items():
                print(f"  {setup.label:<30} {phase:<9} {value:.2f}  {text}")
    cores = os.cpu_count()
    print(
        f"\nnote: this machine has {cores} cores. wrk (1 thread), the webhook receiver, "
        "PostgreSQL and every wabox process share them, so configurations with more "
        "processes than free cores mostly show contention, not scaling: see the cores "
        "columns ('rest' is everything else on the machine)."
    )


def wait_text(samples: list[dict[str, float]]) -> str:
    """Median per state over the rounds, the busiest first."""
    names = {name for sample in samples for name in sample}
    medians = {name: statistics.median(s.get(name, 0.0) for s in samples) for name in names}
    ordered = sorted(medians.items(), key=lambda item: -item[1])
    total = sum(medians.values())
    return f"{total:.2f} in all: " + ", ".join(f"{n} {v:.2f}" for n, v in ordered if v >= 0.01)


def run(args: argparse.Namespace, wrk: str, work: Path) -> int:
    started = time.monotonic()
    setups = [s for s in SETUPS if s.key in args.configs]
    with open("/proc/loadavg") as file:
        load = file.read().split()[:3]
    sync = postgres_call(args.postgres, "postgres", "SHOW synchronous_commit")
    version = postgres_call(args.postgres, "postgres", "SHOW server_version")
    commit = subprocess.run(
        ["git", "-C", str(Path(__file__).parent), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, wabox at {commit or '?'}, "
        f"Python {sys.version.split()[0]}\n"
        f"{os.cpu_count()} cores, load average {' '.join(load)}; PostgreSQL {version} "
        f"(synchronous_commit {sync}) at {args.postgres}\n{args.rounds} rounds; each: "
        f"{', '.join(s.label for s in setups)} (order rotating), each started afresh;\n"
        f"wrk -t{args.threads} -c{args.connections}: {args.warmup:g} s warm-up, "
        f"{args.duration:g} s noop, {args.duration:g} s accept; then {args.messages:,} text "
        f"messages over {args.sender_connections} connections for the webhooks",
        flush=True,
    )
    samples: list[Sample] = []
    problems: list[str] = []
    port = free_port()
    control = ReceiverControl(port)
    with receiver_process(port) as receiver:
        control.wait_up(receiver)
        assert receiver.pid is not None
        for number in range(1, args.rounds + 1):
            print(f"\nround {number}", flush=True)
            shift = (number - 1) % len(setups)
            for setup in setups[shift:] + setups[:shift]:
                try:
                    sample = measure(setup, number, args, wrk, control, receiver.pid, work)
                except (BenchError, httpx.HTTPError, OSError, asyncpg.PostgresError) as exc:
                    problems.append(f"round {number} {setup.label}: {exc!r}")
                    print(f"  {setup.label}: FAILED {exc!r}", flush=True)
                    log = work / f"server-{setup.key}{number}.log"
                    if log.exists():
                        print(f"  server log:\n{log.read_text(errors='replace')}", flush=True)
                    continue
                samples.append(sample)
                for note in sample.log_notes:
                    print(f"  {setup.label} server log: {note}", flush=True)
        control.close()
    report(samples, args)
    print(f"\nrun time {time.monotonic() - started:.0f} s")
    if problems:
        raise BenchError("; ".join(problems))
    return 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all configurations")
    parser.add_argument("--duration", type=float, default=5, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up seconds of accept")
    parser.add_argument("--connections", type=int, default=32, help="wrk open connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (2 cores: 1)")
    parser.add_argument("--messages", type=int, default=3000, help="messages per webhook batch")
    parser.add_argument("--sender-connections", type=int, default=32, help="for the batch")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for webhooks")
    parser.add_argument(
        "--configs", default="abcd", help="which configurations (a b c d; b is the baseline)"
    )
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432",
        help="PostgreSQL server (no database): each configuration gets a fresh database here",
    )
    parser.add_argument("--keep", action="store_true", help="keep the data dirs and server logs")
    args = parser.parse_args()
    if args.rounds < 1 or args.duration <= 0 or args.messages < 1:
        parser.error("need --rounds >= 1, --duration > 0 and --messages >= 1")
    if not set(args.configs) <= {s.key for s in SETUPS}:
        parser.error("--configs takes letters from abcd")
    return args


def main() -> int:
    args = parse_args()
    return run_in_workdir(
        "wabox-bench-scale-", args.keep, lambda work: run(args, ensure_wrk(), work)
    )


if __name__ == "__main__":
    sys.exit(main())
