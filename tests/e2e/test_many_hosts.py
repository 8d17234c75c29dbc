"""Two wabox hosts on a virtual network share PostgreSQL, Redis and S3 as machines would.

Three network namespaces on one bridge stand for three machines: host A runs
``wabox serve --role api``, host B ``--role all``, and a client runs in the third. The
shared services are reached over the virtual network only: PostgreSQL and Redis through
relays on the bridge's address (they listen on the root namespace's loopback), S3 as a moto
server bound to the bridge's address, and the webhook receiver through a relay too.

What it proves: a message accepted on A is delivered by B's worker (A, ``--role api``, runs
no background work): all 20 reach ``read``, with their three status webhooks, every one
POSTed from B's address; and a media download URL A issued works on B, because the URL's
signing secret and the media row are in the shared database and the bytes in the shared
bucket.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from PIL import Image

from tests.conftest import SUITE_ENV, Server
from tests.delivery.receiver import running_receiver
from tests.e2e.netns import Forwarders, Host, Network, require_netns, running_forwarders
from tests.e2e.netns import virtual_network as make_network
from tests.helpers import eventually, stored
from tests.postgres import fresh_database
from tests.s3 import BUCKET, CREDENTIALS, moto_server

PORT = 8360
MESSAGES = 20
STATUSES = ["sent", "delivered", "read"]

CLIENT = r"""
import hashlib, json, sys
import httpx

config = json.loads(sys.argv[1])
a, b = config["a"], config["b"]
summary = {}
with httpx.Client(timeout=10, trust_env=False) as http:
    made = http.post(
        f"{a}/sandbox/channels",
        headers={"Authorization": f"Bearer {config['admin_token']}"},
        json={"settings": config["settings"]},
    )
    assert made.status_code == 201, made.text
    channel = made.json()
    key = {"D360-API-KEY": channel["api_key"]}
    summary["phone_number_id"] = channel["phone_number_id"]
    wamids = []
    for n in range(config["messages"]):
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "16505550123",
            "type": "text",
            "text": {"body": f"hi {n}"},
        }
        sent = http.post(f"{a}/messages", headers=key, json=body)
        assert sent.status_code == 200, sent.text
        wamids.append(sent.json()["messages"][0]["id"])
    summary["wamids"] = wamids
    with open(config["png"], "rb") as file:
        png = file.read()
    summary["uploaded_sha256"] = hashlib.sha256(png).hexdigest()
    uploaded = http.post(
        f"{a}/media",
        headers=key,
        data={"messaging_product": "whatsapp"},
        files={"file": ("red.png", png, "image/png")},
    )
    assert uploaded.status_code == 200, uploaded.text
    media_id = uploaded.json()["id"]
    issued = http.get(f"{a}/{media_id}", headers=key)
    assert issued.status_code == 200, issued.text
    url = issued.json()["url"]
    summary["issued_url"] = url
    scheme, rest = url.split("://", 1)
    on_b = b + "/" + rest.split("/", 1)[1]  # the same path and signed query, on host B
    downloaded = http.get(on_b, headers=key)
    summary["download_url"] = on_b
    summary["download_status"] = downloaded.status_code
    summary["download_type"] = downloaded.headers.get("content-type")
    summary["downloaded_sha256"] = hashlib.sha256(downloaded.content).hexdigest()
print(json.dumps(summary))
"""


@dataclass(kw_only=True)
class HostServer(Server):
    """A ``wabox serve`` inside a host's namespace, listening on that host's address."""

    host: Host
    role: str = "all"
    label: str = "server"

    @property
    def base_url(self) -> str:
        return f"http://{self.host.address}:{self.port}"

    def launch(self) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.log = self.data_dir.parent / f"{self.label}.log"
        command = self.host.command(
            *(sys.executable, "-m", "wabox", "serve", "--role", self.role),
            *("--host", self.host.address, "--port", str(self.port)),
            *("--data-dir", str(self.data_dir)),
        )
        # ``ip netns exec`` execs the command itself: the pid is wabox's, signals reach it.
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT
            )


def via(url: str, address: str) -> str:
    """A database or Redis URL with its host:port replaced by a relay's ``address``."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@{address}" if credentials else address
    return parts._replace(netloc=netloc).geturl()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


@contextlib.contextmanager
def logs_on_failure(*servers: Server) -> Iterator[None]:
    """A failed assertion carries every server's log."""
    try:
        yield
    except AssertionError as exc:
        logs = "\n".join(f"--- {s.log}:\n{s.output()}" for s in servers)
        raise AssertionError(f"{exc}\n{logs}") from exc


def test_a_message_accepted_on_one_host_is_delivered_by_the_others_worker(
    tmp_path: Path,
) -> None:
    require_netns()
    image = tmp_path / "red.png"
    image.write_bytes(png())
    with contextlib.ExitStack() as stack:
        database = stack.enter_context(fresh_database())
        network: Network = stack.enter_context(make_network("a", "b", "c"))
        relays: Forwarders = stack.enter_context(running_forwarders())
        gateway = network.gateway
        postgres = relays.forward(gateway, "127.0.0.1", 5432)
        redis = relays.forward(gateway, "127.0.0.1", 6379)
        receiver = stack.enter_context(running_receiver())
        webhooks = relays.forward(gateway, "127.0.0.1", receiver.port)
        endpoint = stack.enter_context(moto_server(tmp_path / "moto.log", gateway))
        shared = {
            **SUITE_ENV,
            **CREDENTIALS,
            "AWS_ENDPOINT_URL": endpoint,
            "WABOX_MEDIA_URL": f"s3://{BUCKET}/{tmp_path.name}",
            "WABOX_DATABASE_URL": via(database, postgres.address),
            "WABOX_REDIS_URL": f"redis://{redis.address}/0",
        }
        a, b = (
            HostServer(
                data_dir=tmp_path / label,
                env=shared,
                port=PORT,
                host=network.hosts[label],
                role=role,
                label=label,
            )
            for label, role in (("a", "api"), ("b", "all"))
        )
        for server in (a, b):
            server.launch()
            stack.callback(server.stop)
        for server in (a, b):
            server.wait_ready()
        stack.enter_context(logs_on_failure(a, b))

        # Host A runs the HTTP API only: no lifecycle, no webhook dispatcher, no sweeper, so
        # its readiness has no "workers" check; B runs them.
        assert httpx.get(f"{a.base_url}/readyz").json()["checks"] == {
            "database": "ok",
            "schema": "ok",
        }
        assert httpx.get(f"{b.base_url}/readyz").json()["checks"]["workers"] == "ok"

        # The throughput limit on, so every send through A takes a bucket in Redis.
        settings = {
            "webhook": {"url": f"http://{webhooks.address}/webhook"},
            "delivered_after": 0.1,
            "read_after": 0.1,
            "throughput": 80,
        }
        config = {
            "a": a.base_url,
            "b": b.base_url,
            "admin_token": SUITE_ENV["WABOX_ADMIN_TOKEN"],
            "settings": settings,
            "messages": MESSAGES,
            "png": str(image),
        }
        script = tmp_path / "client.py"
        script.write_text(CLIENT)
        client = network.hosts["c"]
        ran = subprocess.run(
            client.command(sys.executable, str(script), json.dumps(config)),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
        summary: dict[str, Any] = json.loads(ran.stdout)
        wamids: list[str] = summary["wamids"]
        assert len(set(wamids)) == MESSAGES

        # Accepted on A, and every step after that done by B's worker.
        def read_on_b(wamid: str) -> bool:
            return bool(stored(b, wamid)["state"] == "read")

        for wamid in wamids:
            eventually(partial(read_on_b, wamid), timeout=20, what=f"{wamid} read on B")
        for wamid in wamids:
            receiver.wait_for(wamid, len(STATUSES))
        assert {w: receiver.statuses(w) for w in wamids} == {w: STATUSES for w in wamids}
        assert set(webhooks.peers) == {b.host.address}, webhooks.peers

        # A's download URL names A, and works on B: same secret, same row, same bucket.
        assert summary["issued_url"].startswith(f"{a.base_url}/"), summary
        assert summary["download_status"] == 200, summary
        assert summary["download_type"] == "image/png", summary
        assert summary["downloaded_sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()
        assert summary["uploaded_sha256"] == summary["downloaded_sha256"]

        # moto's request log: A wrote the bytes to the bucket, B read them from it.
        def s3_requests(host: Host, method: str) -> bool:
            lines = (tmp_path / "moto.log").read_text().splitlines()
            asked = f'"{method} /{BUCKET}/{tmp_path.name}/blobs/'
            return any(line.startswith(f"{host.address} ") and asked in line for line in lines)

        assert eventually(lambda: s3_requests(a.host, "PUT") and s3_requests(b.host, "GET"))

        # Both hosts reached PostgreSQL and Redis through the virtual network only, and Redis
        # answered every rate-limit check (none was let through unlimited).
        hosts = {a.host.address, b.host.address}
        assert set(postgres.peers) == hosts, postgres.peers
        assert a.host.address in redis.peers, redis.peers
        for server in (a, b):
            metrics = httpx.get(f"{server.base_url}/metrics").text
            assert "wabox_rate_limit_fail_open_total 0.0" in metrics, metrics
