"""Releasing bytes never takes them from under a row that points at them."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path

import pytest

from wabox.media.retention import release_bytes
from wabox.media.store import BlobStore
from wabox.schema.sandbox import ChannelCreate
from wabox.store.database import Database
from wabox.store.media import insert_media

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_an_upload_and_a_release_of_the_same_bytes_do_not_interleave(
    tmp_path: Path,
) -> None:
    database = await Database.open(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    blobs = BlobStore.from_url(str(tmp_path / "media"))
    channel = await database.channels.create(ChannelCreate())
    content = b"the same bytes"
    sha = hashlib.sha256(content).hexdigest()
    older = blobs.writer(1000)
    await older.write(content)
    await older.commit(await older.finish())  # bytes whose last row was just deleted

    newer = blobs.writer(1000)
    await newer.write(content)
    blob = await newer.finish()
    deleting = asyncio.Event()
    real_delete = blobs.delete

    async def slow_delete(sha256: str) -> None:
        deleting.set()  # the release found no row and is about to delete
        await asyncio.sleep(0.05)
        await real_delete(sha256)

    blobs.delete = slow_delete  # type: ignore[method-assign]

    async def release() -> bool:
        return await release_bytes(database, blobs, sha, time.time())

    async def upload() -> None:
        await deleting.wait()
        async with blobs.holding(sha):
            now = time.time()
            await insert_media(
                database,
                media_id="1",
                channel_id=channel.phone_number_id,
                mime_type="text/plain",
                sha256=sha,
                file_size=len(content),
                filename=None,
                created_at=now,
                expires_at=now + 60,
            )
            await newer.commit(blob)

    released, _ = await asyncio.gather(release(), upload())
    assert released is True  # the old bytes went, and the upload put its own copy back
    chunks = await blobs.read(sha)
    assert b"".join([chunk async for chunk in chunks]) == content
    await database.close()
