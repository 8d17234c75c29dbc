"""Turning bytes that just reached the store into a media row, the same way for every source."""

from __future__ import annotations

import secrets

from wabox.media.store import Blob, BlobStore, BlobWriter
from wabox.store.database import Database
from wabox.store.media import MediaRow, insert_media


def new_media_id() -> str:
    """17 random digits: all-digit like Meta's (pywa relies on it) and not guessable."""
    return str(secrets.randbelow(9 * 10**16) + 10**16)


async def keep_blob(
    database: Database,
    blobs: BlobStore,
    writer: BlobWriter,
    blob: Blob,
    *,
    channel_id: str,
    mime_type: str,
    filename: str | None,
    ttl: float,
    source: str,
    now: float,
) -> MediaRow:
    """Insert the media row, then move the bytes to their content key, under the key's lock
    (this process's, and the database's for every other process).

    The order matters: a delete or sweep releasing the same bytes takes the same locks and
    checks for live rows, so it never removes bytes a new row already points at.
    """
    media_id = new_media_id()
    async with blobs.holding(blob.sha256), database.holding_blob(blob.sha256):
        await insert_media(
            database,
            media_id=media_id,
            channel_id=channel_id,
            mime_type=mime_type,
            sha256=blob.sha256,
            file_size=blob.size,
            filename=filename,
            created_at=now,
            expires_at=now + ttl,
            source=source,
        )
        await writer.commit(blob)
    return MediaRow(
        id=media_id,
        channel_id=channel_id,
        mime_type=mime_type,
        sha256=blob.sha256,
        file_size=blob.size,
        filename=filename,
        expires_at=now + ttl,
    )
