"""Hosts on a virtual network, for tests that run wabox as separate machines would.

``virtual_network`` makes a bridge in the root namespace and one network namespace per host,
each joined to the bridge by a veth pair: every host has its own address on one /24 and the
root namespace (the test process) has the bridge's ``.1``. Everything is deleted on exit,
even after a failure. ``Forwarders`` relays TCP from the bridge's address to services that
listen on loopback only (PostgreSQL, Redis, a webhook receiver), and counts who connected.

It needs root and iproute2: ``require_netns`` skips without them, or fails when
``WABOX_REQUIRE_POSTGRES`` is set (as CI does), the policy of ``tests/postgres.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field

import pytest

SUBNETS = 200  # 10.77.<n>.0/24, n in [0, SUBNETS)
BUFFER = 64 * 1024


def unavailable(reason: str) -> None:
    if os.environ.get("WABOX_REQUIRE_POSTGRES"):
        pytest.fail(f"network namespaces are required but unavailable: {reason}")
    pytest.skip(f"network namespaces unavailable: {reason}")


def require_netns() -> None:
    if shutil.which("ip") is None:
        unavailable("the `ip` command (iproute2) is not installed")
    if os.geteuid() != 0:
        unavailable("they need root")


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result


@dataclass
class Host:
    namespace: str
    address: str

    def command(self, *argv: str) -> list[str]:
        """``argv`` run inside this host's namespace."""
        return ["ip", "netns", "exec", self.namespace, *argv]


@dataclass
class Network:
    bridge: str
    gateway: str  # the bridge's address: the root namespace, seen from the hosts
    hosts: dict[str, Host] = field(default_factory=dict)


@contextlib.contextmanager
def virtual_network(*labels: str) -> Iterator[Network]:
    """A bridge 10.77.<n>.1/24 and one namespace per label at .11, .12, …

    ``n`` starts at the pid modulo ``SUBNETS`` and moves on while the bridge of that ``n``
    exists: its names and subnet belong to another run (or to one that crashed)."""
    require_netns()
    start = os.getpid() % SUBNETS
    with contextlib.ExitStack() as cleanup:
        for step in range(SUBNETS):
            n = (start + step) % SUBNETS
            bridge = f"wbx{n}br"
            made = ip("link", "add", bridge, "type", "bridge", check=False)
            if made.returncode == 0:
                break
            if "exists" not in made.stderr:
                unavailable(f"cannot make a bridge: {made.stderr.strip()}")
        else:
            raise RuntimeError(f"every 10.77.<n>.0/24 of the {SUBNETS} is taken")
        cleanup.callback(ip, "link", "del", bridge, check=False)
        network = Network(bridge=bridge, gateway=f"10.77.{n}.1")
        ip("addr", "add", f"{network.gateway}/24", "dev", bridge)
        ip("link", "set", bridge, "up")
        for index, label in enumerate(labels):
            host = Host(namespace=f"wbx{n}-{label}", address=f"10.77.{n}.{11 + index}")
            outside, inside = f"wbx{n}{label}", f"wbx{n}{label}p"
            ip("netns", "add", host.namespace)
            cleanup.callback(_delete_namespace, host.namespace)
            # Gone with its namespace, unless the pair was made but not yet moved there.
            cleanup.callback(ip, "link", "del", outside, check=False)
            ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            ip("link", "set", inside, "netns", host.namespace)
            ip("link", "set", outside, "master", bridge, "up")
            ip("-n", host.namespace, "link", "set", "lo", "up")
            ip("-n", host.namespace, "addr", "add", f"{host.address}/24", "dev", inside)
            ip("-n", host.namespace, "link", "set", inside, "up")
            network.hosts[label] = host
        yield network


def _delete_namespace(namespace: str) -> None:
    """Delete a namespace, first ending what still runs in it: only this test's processes
    run there (its servers are stopped before this; this is for a failure halfway)."""
    pids = ip("netns", "pids", namespace, check=False).stdout.split()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)
    ip("netns", "del", namespace, check=False)


@dataclass
class Forward:
    """One listening relay: ``host:port`` → ``target``; ``peers`` counts the connections
    it accepted per client address."""

    host: str
    port: int
    target: tuple[str, int]
    peers: Counter[str] = field(default_factory=Counter)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class Forwarders:
    """TCP relays on an event loop of their own, in a thread of the test process."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def forward(self, host: str, target_host: str, target_port: int) -> Forward:
        """Listen on ``host`` (a free port) and relay each connection to the target."""
        future: Future[Forward] = asyncio.run_coroutine_threadsafe(
            self._listen(host, (target_host, target_port)), self._loop
        )
        return future.result(10)

    async def _listen(self, host: str, target: tuple[str, int]) -> Forward:
        forward = Forward(host=host, port=0, target=target)

        async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            self._tasks.add(task)
            try:
                forward.peers[writer.get_extra_info("peername")[0]] += 1
                await self._relay(reader, writer, target)
            finally:
                self._tasks.discard(task)

        server = await asyncio.start_server(accepted, host, 0)
        self._servers.append(server)
        forward.port = server.sockets[0].getsockname()[1]
        return forward

    @staticmethod
    async def _relay(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: tuple[str, int]
    ) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*target)
        except OSError:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(BUFFER):
                    sink.write(data)
                    await sink.drain()
            sink.close()  # one side ended: so does the connection, both ways

        try:
            await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        finally:
            for end in (writer, upstream_writer):
                end.close()
                with contextlib.suppress(OSError):
                    await end.wait_closed()

    def close(self) -> None:
        async def shut() -> None:
            for server in self._servers:
                server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            for server in self._servers:
                await server.wait_closed()

        asyncio.run_coroutine_threadsafe(shut(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@contextlib.contextmanager
def running_forwarders() -> Iterator[Forwarders]:
    forwarders = Forwarders()
    try:
        yield forwarders
    finally:
        forwarders.close()
