"""A real S3-compatible server for the tests: moto's server mode on loopback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.helpers import eventually, free_port

BUCKET = "wabox-test"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_REGION": "us-east-1",
}


@contextmanager
def moto_server(log: Path, address: str = "127.0.0.1") -> Iterator[str]:
    """Start moto's S3 server on ``address``, create the test bucket, yield its endpoint."""
    port = free_port(address)
    executable = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [executable, "-H", address, "-p", str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    endpoint = f"http://{address}:{port}"

    def bucket_made() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited:\n{log.read_text()}")
        return httpx.put(f"{endpoint}/{BUCKET}", timeout=2).status_code == 200

    try:
        eventually(
            bucket_made,
            timeout=30,
            interval=0.1,
            ignoring=(httpx.TransportError,),
            what=f"moto_server's bucket (log: {log})",
        )
        yield endpoint
    finally:
        process.terminate()
        process.wait(10)
