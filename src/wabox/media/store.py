"""Media bytes in an object store (obstore): a local folder by default, or S3.

Content-addressed: a blob's key is its sha256, so the same bytes uploaded twice are stored
once. An upload streams into a temporary key while it is hashed, then moves to its final
key; nothing of it is ever held whole in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import obstore
from obstore.store import LocalStore, ObjectStore, S3Store

if TYPE_CHECKING:
    from obstore import GetOptions
    from obstore.store import S3Config

# How much obstore's writer holds before it sends a part: the memory one upload may hold
# (obstore's own default is 10 MiB). S3 needs parts of at least 5 MiB.
S3_WRITE_BUFFER = 8 * 1024 * 1024
# The writer keeps every chunk it is handed until its buffer is flushed. With 8 MiB, a local
# upload's chunks pile up in fresh memory (about 150 page faults per MiB on the loop thread)
# and reach the file cache-cold; 1 MiB keeps the same memory in use (bench/README.md, Uploads).
LOCAL_WRITE_BUFFER = 1024 * 1024
READ_CHUNK = 256 * 1024


class BlobTooLarge(ValueError):
    """The stream went past the limit it was written with."""


@dataclass(frozen=True, slots=True)
class Blob:
    sha256: str
    size: int


def _key(sha256: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256}"


def _s3_config() -> S3Config:
    """The usual AWS variables; AWS_ENDPOINT_URL points at MinIO-style servers."""
    config: S3Config = {}
    for env, option in (
        ("AWS_ACCESS_KEY_ID", "access_key_id"),
        ("AWS_SECRET_ACCESS_KEY", "secret_access_key"),
        ("AWS_SESSION_TOKEN", "session_token"),
        ("AWS_ENDPOINT_URL", "endpoint"),
    ):
        if os.environ.get(env):
            config[option] = os.environ[env]  # type: ignore[literal-required]
    config["region"] = os.environ.get("AWS_REGION") or os.environ.get(
        "AWS_DEFAULT_REGION", "us-east-1"
    )
    return config


class BlobWriter:
    """One upload in progress: ``write`` chunks, then ``finish`` (or ``abort``)."""

    def __init__(self, store: BlobStore, max_bytes: int) -> None:
        self._store = store
        self._max_bytes = max_bytes
        self._temporary = f"tmp/{secrets.token_hex(16)}"
        self._file = obstore.open_writer_async(
            store.objects, self._temporary, buffer_size=store.write_buffer
        )
        self._hash = hashlib.sha256()
        self.size = 0

    async def write(self, chunk: bytes | memoryview) -> None:
        self.size += len(chunk)
        if self.size > self._max_bytes:
            raise BlobTooLarge(f"more than {self._max_bytes} bytes")
        self._hash.update(chunk)
        await self._file.write(chunk)

    async def finish(self) -> Blob:
        """All bytes written: what they are, before they move to their final key."""
        await self._file.close()
        return Blob(self._hash.hexdigest(), self.size)

    async def commit(self, blob: Blob) -> None:
        """Move the bytes to their content key.

        Call this after the media row exists: a delete or sweep that ran before the row was
        visible may have removed an older copy of the same bytes, and this puts it back.
        Same key, same bytes: overwriting an existing copy changes nothing.
        """
        await obstore.rename_async(
            self._store.objects, self._temporary, _key(blob.sha256), overwrite=True
        )

    async def abort(self) -> None:
        """Best effort: the upload already failed, and a stray tmp object harms nothing."""
        with contextlib.suppress(Exception):
            await self._file.close()
        with contextlib.suppress(FileNotFoundError):
            await obstore.delete_async(self._store.objects, self._temporary)


class BlobStore:
    def __init__(self, objects: ObjectStore, write_buffer: int = S3_WRITE_BUFFER) -> None:
        self.objects = objects
        self.write_buffer = write_buffer
        self._locks: dict[str, asyncio.Lock] = {}
        self._holders: dict[str, int] = {}

    @contextlib.asynccontextmanager
    async def holding(self, sha256: str) -> AsyncIterator[None]:
        """Serialise "is anyone using these bytes? then delete them" with an upload's
        "insert my row, then move my bytes in", so a delete cannot remove bytes a new row
        already points at, in this process (``Database.holding_blob`` does it across
        processes)."""
        lock = self._locks.setdefault(sha256, asyncio.Lock())
        self._holders[sha256] = self._holders.get(sha256, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._holders[sha256] -= 1
            if not self._holders[sha256]:
                del self._holders[sha256], self._locks[sha256]

    @classmethod
    def from_url(cls, url: str) -> BlobStore:
        """``s3://bucket/prefix`` or a local folder (created if missing)."""
        if url.startswith("s3://"):
            bucket, _, prefix = url.removeprefix("s3://").partition("/")
            config = _s3_config()
            endpoint = config.get("endpoint", "")
            return cls(
                S3Store(
                    bucket,
                    prefix=prefix or None,
                    config=config,
                    client_options={"allow_http": endpoint.startswith("http://")},
                )
            )
        path = Path(url)
        path.mkdir(parents=True, exist_ok=True)
        return cls(LocalStore(path), LOCAL_WRITE_BUFFER)

    def writer(self, max_bytes: int) -> BlobWriter:
        return BlobWriter(self, max_bytes)

    async def read(
        self, sha256: str, start: int | None = None, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """The blob's bytes ``[start, end)``, streamed."""
        options: GetOptions = {}
        if start is not None and end is not None:
            options["range"] = (start, end)
        result = await obstore.get_async(self.objects, _key(sha256), options=options)
        return _chunks(result.stream(min_chunk_size=READ_CHUNK))

    async def delete(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await obstore.delete_async(self.objects, _key(sha256))


async def _chunks(stream: Any) -> AsyncIterator[bytes]:
    async for chunk in stream:
        yield bytes(chunk)
