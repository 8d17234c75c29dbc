"""Media a customer sends: real bytes kept as the channel's media for 7 days.

The business receives an inbound media message with a media ID it can retrieve and
download like its own uploads (wire-facts §5.2, §2.2). The bytes come from wabox's
bundled samples or from the caller (base64), and must pass the same rules as an outbound
message of that kind, as WhatsApp's own apps only send what those rules allow.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from wabox.errors import InvalidParameter, MissingParameter
from wabox.media.ingest import keep_blob
from wabox.media.inspect import check, is_animated, size_problem
from wabox.media.store import BlobStore
from wabox.samples import SAMPLES, sample_path
from wabox.schema.inbound import InboundMedia
from wabox.schema.sandbox import Channel
from wabox.store.database import Database

INBOUND_MEDIA_TTL = 7 * 86400.0
DEFAULT_SAMPLES = {
    "image": "image.jpg",
    "video": "video.mp4",
    "document": "document.pdf",
    "sticker": "sticker.webp",
}
_CAPTIONED = ("image", "video", "document")

# media ID, expiry → a download URL for the webhook's ``url``
UrlFor = Callable[[str, float], str]


class CustomerFiles:
    def __init__(self, database: Database, blobs: BlobStore) -> None:
        self._database = database
        self._blobs = blobs

    async def keep(
        self, channel: Channel, kind: str, spec: InboundMedia, now: float, url_for: UrlFor
    ) -> tuple[dict[str, Any], str]:
        """Store the file; the message's ``kind`` object (§5.2) and the new media ID."""
        _check_fields(kind, spec)
        content, mime_type = _content(kind, spec)
        voice = bool(spec.voice)
        problem = size_problem(kind, len(content)) or check(kind, mime_type, content, voice=voice)
        if problem is not None:
            raise InvalidParameter(f"Param {kind} cannot be sent by a customer: {problem}")
        writer = self._blobs.writer(len(content))
        try:
            await writer.write(content)
            blob = await writer.finish()
            row = await keep_blob(
                self._database,
                self._blobs,
                writer,
                blob,
                channel_id=channel.phone_number_id,
                mime_type=mime_type,
                filename=spec.filename,
                ttl=INBOUND_MEDIA_TTL,
                source="inbound",
                now=now,
            )
        except BaseException:
            await writer.abort()
            raise
        body: dict[str, Any] = {}
        if spec.caption is not None:
            body["caption"] = spec.caption
        if kind == "document":
            body["filename"] = spec.filename or "document.pdf"
        body["mime_type"] = (
            "audio/ogg; codecs=opus" if mime_type == "audio/ogg" else mime_type
        )  # as WhatsApp's apps label their recordings
        body["sha256"] = base64.b64encode(bytes.fromhex(blob.sha256)).decode()
        body["id"] = row.id
        body["url"] = url_for(row.id, now + INBOUND_MEDIA_TTL)
        if kind == "audio":
            body["voice"] = voice
        if kind == "sticker":
            body["animated"] = is_animated(content)
        return body, row.id


def _check_fields(kind: str, spec: InboundMedia) -> None:
    if spec.caption is not None and kind not in _CAPTIONED:
        raise InvalidParameter(f"Param {kind}['caption'] is not allowed for {kind}.")
    if spec.filename is not None and kind != "document":
        raise InvalidParameter(f"Param {kind}['filename'] is only allowed for document.")
    if spec.voice is not None and kind != "audio":
        raise InvalidParameter(f"Param {kind}['voice'] is only allowed for audio.")
    if spec.sample is not None and spec.data is not None:
        raise InvalidParameter(f"Param {kind} takes either 'sample' or 'data', not both.")


def _content(kind: str, spec: InboundMedia) -> tuple[bytes, str]:
    if spec.data is not None:
        if spec.mime_type is None:
            raise MissingParameter(f"The parameter {kind}['mime_type'] is required with data.")
        try:
            return base64.b64decode(spec.data, validate=True), spec.mime_type
        except (binascii.Error, ValueError):
            raise InvalidParameter(f"Param {kind}['data'] must be base64.") from None
    name = spec.sample or DEFAULT_SAMPLES.get(kind) or ("voice.ogg" if spec.voice else "audio.mp3")
    sample = SAMPLES.get(name)
    if sample is None or sample.kind != kind:
        fitting = sorted(s.name for s in SAMPLES.values() if s.kind == kind)
        raise InvalidParameter(
            f"Param {kind}['sample'] must be one of {', '.join(fitting)} - got \"{name}\"."
        )
    if spec.mime_type is not None and spec.mime_type != sample.mime_type:
        raise InvalidParameter(
            f"Param {kind}['mime_type'] must be {sample.mime_type} for the sample {name}."
        )
    return sample_path(name).read_bytes(), sample.mime_type
