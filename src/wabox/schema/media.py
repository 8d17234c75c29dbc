"""Bodies of the media endpoints (wire-facts §2)."""

from __future__ import annotations

import msgspec


class UploadedMedia(msgspec.Struct):
    """``POST /media``: the new media ID (all digits)."""

    id: str


class MediaUrl(msgspec.Struct, kw_only=True):
    """``GET /{media_id}``: where to download the bytes, valid for 5 minutes."""

    messaging_product: str = "whatsapp"
    url: str
    mime_type: str
    sha256: str
    file_size: int
    id: str


class SweepResult(msgspec.Struct):
    """What one retention sweep removed: media rows, and blobs no live media used."""

    rows: int
    blobs: int
