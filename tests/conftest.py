"""Real servers on loopback: every API test talks HTTP to a ``wabox serve`` subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest

from tests.delivery.receiver import Receiver, running_receiver
from tests.helpers import eventually, free_port
from tests.links.origin import Origin, running_origin
from tests.postgres import fresh_database
from tests.s3 import BUCKET, CREDENTIALS, moto_server
from wabox.store.database import Database
from wabox.store.media import insert_media

API_KEY = "test-key-default-0001"
ADMIN_TOKEN = "test-admin-token-0001"


@dataclass
class Server:
    """One ``wabox serve`` process; ``restart`` keeps the data dir, ``kill`` is a crash."""

    data_dir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        return self.env.get("WABOX_DATABASE_URL") or f"sqlite:///{self.data_dir / 'wabox.sqlite3'}"

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the process without waiting for it (``wait_ready`` waits)."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.log = self.data_dir.parent / f"server-{self.port}-{time.monotonic_ns()}.log"
        command = [sys.executable, "-m", "wabox", "serve", "--port", str(self.port)]
        command += ["--data-dir", str(self.data_dir)]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self) -> None:
        try:
            eventually(self._healthy, timeout=20, interval=0.05, ignoring=(httpx.TransportError,))
        except AssertionError as exc:
            raise RuntimeError(f"server did not start ({exc}):\n{self.output()}") from None

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{self.output()}")
        return httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, like a crash or a power cut of the process."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def admin(self) -> httpx.Client:
        token = self.env.get("WABOX_ADMIN_TOKEN", ADMIN_TOKEN)
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    def seed_media(self, channel_id: str, media_id: str, *, expires_in: float = 86400) -> None:
        """Put a media row in the store through wabox's own store code (no upload API yet)."""

        async def seed() -> None:
            database = await Database.open(self.database_url)
            try:
                now = time.time()
                await insert_media(
                    database,
                    media_id=media_id,
                    channel_id=channel_id,
                    mime_type="image/jpeg",
                    sha256="0" * 64,
                    file_size=1234,
                    filename=None,
                    created_at=now,
                    expires_at=now + expires_in,
                )
            finally:
                await database.close()

        asyncio.run(seed())


# Most tests are about one thing (media, links, webhooks) and send to customers who never
# wrote, often many messages to one number: their channels start with the customer service
# window and the throughput limits off. tests/conversations runs on the real defaults.
RELAXED_CHANNELS = json.dumps(
    {"enforce_window": False, "throughput": None, "pair_rate_limit": False}
)


SUITE_ENV = {
    "WABOX_API_KEY": API_KEY,
    "WABOX_ADMIN_TOKEN": ADMIN_TOKEN,
    "WABOX_CHANNEL_DEFAULTS": RELAXED_CHANNELS,
}


def make_server(tmp: Path, **env: str) -> Server:
    """A server not started yet (``running_server`` starts and stops one)."""
    return Server(data_dir=tmp / "data", env={**SUITE_ENV, **env})


Setup = Literal["sqlite", "postgresql", "s3"]
# What each setup of a server fixture changes: the database, or where media bytes live.
SETUPS: dict[Setup, dict[str, Any]] = {
    "sqlite": {},
    "postgresql": {"database": "postgresql"},
    "s3": {"media": "s3"},  # on SQLite, the bytes in a bucket of a moto server
}
DATABASES: tuple[Setup, ...] = ("sqlite", "postgresql")


@contextlib.contextmanager
def running_server(
    tmp: Path,
    *,
    database: Literal["sqlite", "postgresql"] = "sqlite",
    media: Literal["local", "s3"] = "local",
    clock: Literal["real", "virtual"] = "real",
    defaults: bool = True,
    **env: str,
) -> Iterator[Server]:
    """A started ``wabox serve`` with its data dir in ``tmp/data``, stopped on exit.

    ``database="postgresql"``: a fresh database, dropped afterwards. ``media="s3"``: media
    bytes in a moto S3 server of its own. ``clock="virtual"``: time moves only with
    ``POST /sandbox/clock/advance``. ``defaults=False``: none of the suite's fixed API key,
    admin token and relaxed channel defaults, so wabox generates its own as on a first
    start. ``env``: any other ``WABOX_`` setting.
    """
    with contextlib.ExitStack() as stack:
        settings = dict(SUITE_ENV) if defaults else {}
        if clock == "virtual":
            settings["WABOX_CLOCK"] = "virtual"
        if database == "postgresql":
            settings["WABOX_DATABASE_URL"] = stack.enter_context(fresh_database())
        if media == "s3":
            endpoint = stack.enter_context(moto_server(tmp / "moto.log"))
            settings |= {**CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}
            settings["WABOX_MEDIA_URL"] = f"s3://{BUCKET}/{tmp.name}"
        instance = Server(data_dir=tmp / "data", env={**settings, **env})
        stack.callback(instance.stop)
        instance.start()
        yield instance


def server_fixture(
    label: str,
    *,
    scope: Literal["session", "package", "module"] = "module",
    setups: Sequence[Setup] = ("sqlite",),
    **options: Any,
) -> Any:
    """A fixture of one ``running_server`` per scope and per setup (``SETUPS``; with several,
    the tests run on each); ``options`` are ``running_server``'s. Assign it to the fixture's
    name: ``server = server_fixture(…)``."""

    @pytest.fixture(scope=scope, params=list(setups) if len(setups) > 1 else None)
    def fixture(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[Server]:
        setup = getattr(request, "param", setups[0])
        with running_server(tmp_path_factory.mktemp(label), **SETUPS[setup], **options) as instance:
            yield instance

    return fixture


# The suite's shared server: on the embedded defaults, then on PostgreSQL.
server = server_fixture("server", scope="session", setups=DATABASES)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on loopback, fresh for each test."""
    with running_receiver() as running:
        yield running


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    """A media origin on loopback, shared by a module's tests (each serves its own paths)."""
    with running_origin() as running:
        yield running


@dataclass
class ChannelInfo:
    phone_number_id: str
    display_phone_number: str
    api_key: str


@pytest.fixture(scope="session")
def default_channel(server: Server) -> ChannelInfo:
    with server.admin() as admin:
        channels = admin.get("/sandbox/channels").json()["channels"]
    (found,) = [c for c in channels if c["api_key"] == API_KEY]
    return ChannelInfo(found["phone_number_id"], found["display_phone_number"], found["api_key"])


@pytest.fixture(scope="session")
def other_channel(server: Server) -> ChannelInfo:
    """A second business number, for isolation tests."""
    with server.admin() as admin:
        response = admin.post("/sandbox/channels", json={"name": "other"})
    assert response.status_code == 201, response.text
    body = response.json()
    return ChannelInfo(body["phone_number_id"], body["display_phone_number"], body["api_key"])


@pytest.fixture
def d360(server: Server) -> Iterator[httpx.Client]:
    """A 360dialog-dialect client on the default channel."""
    with httpx.Client(base_url=server.base_url, headers={"D360-API-KEY": API_KEY}) as client:
        yield client


@pytest.fixture
def cloud(server: Server, default_channel: ChannelInfo) -> Iterator[httpx.Client]:
    """A Cloud-API-dialect client; its base URL ends with ``/v21.0/<phone_number_id>``."""
    base = f"{server.base_url}/v21.0/{default_channel.phone_number_id}"
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {API_KEY}"}) as client:
        yield client
