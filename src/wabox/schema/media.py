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
    """What one retention sweep removed: media rows, blobs no live media used, and link
    cache entries that can never be used again."""

    rows: int
    blobs: int
    link_cache: int = 0
