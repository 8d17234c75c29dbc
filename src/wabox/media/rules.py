"""The type rules applied to bytes already in the media store (uploads, fetched links).

A message's media is checked where it lies, so the accept path, the background checks and
``wabox assets check`` read the same bytes and give the same verdict.
"""

from __future__ import annotations

import asyncio

from wabox.media.inspect import SNIFF_BYTES, check, size_problem
from wabox.media.store import BlobStore


async def stored_media_problem(
    blobs: BlobStore, sha256: str, kind: str, mime_type: str, size: int, *, voice: bool = False
) -> str | None:
    """The first rule stored bytes break as ``kind``: the size, then the content."""
    problem = size_problem(kind, size)
    if problem is not None:
        return problem
    # Sizes are bounded above (16 MB at most outside documents, whose head is enough).
    end = min(size, SNIFF_BYTES) if kind == "document" else size
    try:
        chunks = await blobs.read(sha256, 0, end) if end else None
        content = b"".join([chunk async for chunk in chunks]) if chunks is not None else b""
    except FileNotFoundError:
        return "The media's bytes are missing from the media store."
    return await asyncio.to_thread(check, kind, mime_type, content, voice=voice)
