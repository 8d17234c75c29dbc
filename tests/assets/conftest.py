"""Asset servers on real loopback sockets, run by uvicorn in a thread of the test process."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.helpers import eventually
from wabox.assets.server import AssetApp, CachePolicy
from wabox.samples import sample_path

SAMPLES = ("image.jpg", "sticker.webp", "voice.ogg", "video.mp4", "document.pdf")


@contextlib.contextmanager
def running_assets(directory: Path, cache: CachePolicy) -> Iterator[str]:
    """Serve ``directory`` on a free loopback port; yields the base URL (no trailing slash)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        AssetApp(directory, cache), lifespan="off", ws="none", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()

    def started() -> bool:
        if not thread.is_alive():
            raise RuntimeError("the asset server stopped before it started")
        return bool(server.started)

    eventually(started, interval=0.01, what="the asset server starts")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


def copy_samples(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in SAMPLES:
        shutil.copy(sample_path(name), folder / name)


@pytest.fixture(scope="module")
def samples_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("assets") / "public"
    copy_samples(folder)
    return folder
