"""Small, real media files that the sandbox's simulated customer sends to a business.

A real customer's phone sends real photos, stickers, voice notes, videos and documents.
The sandbox's customer phone needs the same, so that inbound media passes every rule a
business would meet in production (``wabox.media.inspect``): a real JPEG, 512x512 WebP
stickers (static and animated), a mono OGG/OPUS voice note, an MP3, an H.264 + AAC MP4
and a one-page PDF. The files ship inside the package and are read through
``importlib.resources``, so they work from a wheel as well as from a source checkout.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Sample:
    """One bundled file: its name in this package, MIME type and message kind."""

    name: str
    mime_type: str
    kind: str  # "image", "sticker", "audio", "video" or "document"


SAMPLES: dict[str, Sample] = {
    sample.name: sample
    for sample in (
        Sample("image.jpg", "image/jpeg", "image"),
        Sample("sticker.webp", "image/webp", "sticker"),
        Sample("sticker_animated.webp", "image/webp", "sticker"),
        Sample("voice.ogg", "audio/ogg", "audio"),
        Sample("audio.mp3", "audio/mpeg", "audio"),
        Sample("video.mp4", "video/mp4", "video"),
        Sample("document.pdf", "application/pdf", "document"),
    )
}


def sample_path(name: str) -> pathlib.Path:
    """The path of the bundled sample ``name``; KeyError for a name not in ``SAMPLES``."""
    if name not in SAMPLES:
        raise KeyError(name)
    return pathlib.Path(str(resources.files(__name__).joinpath(name)))
