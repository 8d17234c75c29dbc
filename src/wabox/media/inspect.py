"""The rules media must pass to be sent as a given message type (wire-facts §3).

``check`` answers None when the media may be sent, or the details of the first rule it
breaks, naming the rule and what was measured; the caller turns them into a 131053 failure.
Sniffing uses a small table of signatures rather than a general detector: every type here
has one unambiguous magic number, and a general detector names OOXML files "zip".
"""

from __future__ import annotations

import io
from collections.abc import Callable

import mutagen
from mutagen.oggopus import OggOpus
from PIL import Image
from pymediainfo import MediaInfo

KB = 1024
MB = 1024 * 1024

DOCUMENT_TYPES = (
    "text/plain",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/pdf",
)
SEND_TYPES: dict[str, tuple[str, ...]] = {
    "audio": ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"),
    "document": DOCUMENT_TYPES,
    "image": ("image/jpeg", "image/png"),
    "sticker": ("image/webp",),
    "video": ("video/3gpp", "video/mp4"),
}
SIZE_LIMITS = {"audio": 16 * MB, "document": 100 * MB, "image": 5 * MB, "video": 16 * MB}
STICKER_STATIC_LIMIT = 100 * KB
STICKER_ANIMATED_LIMIT = 500 * KB
STICKER_SIZE = (512, 512)
SNIFF_BYTES = 64 * KB

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"


def _ftyp(head: bytes) -> bytes | None:
    return head[8:12] if head[4:8] == b"ftyp" else None


def _is_mp4(head: bytes) -> bool:
    brand = _ftyp(head)
    return brand is not None and not brand.startswith(b"3g")


def _is_3gp(head: bytes) -> bool:
    brand = _ftyp(head)
    return brand is not None and brand.startswith(b"3g")


def _is_mp3(head: bytes) -> bool:
    return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] >= 0xE0)


def _is_adts(head: bytes) -> bool:
    return head.startswith(b"ADIF") or (
        len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0
    )


def _is_text(head: bytes) -> bool:
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3  # a character cut at the end of the sample
    return True


_SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    "image/jpeg": lambda h: h.startswith(b"\xff\xd8\xff"),
    "image/png": lambda h: h.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/webp": lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP",
    "application/pdf": lambda h: h.startswith(b"%PDF-"),
    "video/mp4": _is_mp4,
    "audio/mp4": _is_mp4,
    "video/3gpp": _is_3gp,
    "audio/ogg": lambda h: h.startswith(b"OggS"),
    "audio/mpeg": _is_mp3,
    "audio/aac": _is_adts,
    "audio/amr": lambda h: h.startswith(b"#!AMR"),
    "application/msword": lambda h: h.startswith(_OLE2),
    "application/vnd.ms-excel": lambda h: h.startswith(_OLE2),
    "application/vnd.ms-powerpoint": lambda h: h.startswith(_OLE2),
    "text/plain": _is_text,
}
for _ooxml in DOCUMENT_TYPES:
    if "openxmlformats" in _ooxml:
        _SIGNATURES[_ooxml] = lambda h: h.startswith(_ZIP)


def human_size(n: int) -> str:
    return f"{n / MB:.2f} MB" if n >= MB else f"{n / KB:.1f} KB"


def takes(kind: str, mime_type: str | None) -> bool:
    """Whether messages of ``kind`` accept the MIME type at all (§3's table)."""
    return mime_type in SEND_TYPES[kind]


def allowed_types(kind: str) -> str:
    return ", ".join(SEND_TYPES[kind])


def type_problem(kind: str, mime_type: str) -> str | None:
    """The first rule of all: the MIME type must be one ``kind`` takes."""
    if takes(kind, mime_type):
        return None
    return (
        f"Media of type {mime_type} cannot be sent as {kind}; {kind} takes {allowed_types(kind)}."
    )


def check(kind: str, mime_type: str, content: bytes, *, voice: bool = False) -> str | None:
    """The first broken rule for sending ``content`` (declared ``mime_type``) as ``kind``.

    ``content`` is the whole file for every kind but documents, whose first
    ``SNIFF_BYTES`` are enough (their only deep rule is the size, checked by the caller
    through ``size_problem``).
    """
    problem = type_problem(kind, mime_type)
    if problem is not None:
        return problem
    signature = _SIGNATURES.get(mime_type)
    if signature is not None and not signature(content[:SNIFF_BYTES]):
        return f"The file's content does not match its declared type {mime_type}."
    if kind == "image":
        return _image_problem(content)
    if kind == "sticker":
        return _sticker_problem(content)
    if kind == "audio" and (voice or mime_type == "audio/ogg"):
        return _ogg_opus_problem(content, mime_type, voice)
    if kind == "video":
        return _video_problem(content)
    return None


def size_problem(kind: str, size: int) -> str | None:
    """The per-type limit; stickers are checked in ``check`` (static and animated differ)."""
    limit = SIZE_LIMITS.get(kind)
    if limit is not None and size > limit:
        measured, allowed = human_size(size), human_size(limit)
        return f"{kind.capitalize()} file size {measured} exceeds the {allowed} limit."
    return None


def is_animated(content: bytes) -> bool:
    """A sticker with more than one frame (for the inbound webhook's ``animated``)."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            return bool(getattr(image, "is_animated", False))
    except Exception:
        return False


def _image_problem(content: bytes) -> str | None:
    try:
        with Image.open(io.BytesIO(content)) as image:
            mode = image.mode
    except Exception:
        return "The image cannot be decoded."
    if mode not in ("RGB", "RGBA"):
        return f"Images must be 8-bit, RGB or RGBA; this image's mode is {mode}."
    return None


def _sticker_problem(content: bytes) -> str | None:
    try:
        with Image.open(io.BytesIO(content)) as image:
            size, animated = image.size, bool(getattr(image, "is_animated", False))
    except Exception:
        return "The sticker cannot be decoded as WebP."
    if size != STICKER_SIZE:
        return f"Stickers must be 512x512 pixels; this one is {size[0]}x{size[1]}."
    limit = STICKER_ANIMATED_LIMIT if animated else STICKER_STATIC_LIMIT
    if len(content) > limit:
        which = "Animated" if animated else "Static"
        measured, allowed = human_size(len(content)), human_size(limit)
        return f"{which} sticker size {measured} exceeds the {allowed} limit."
    return None


def _ogg_opus_problem(content: bytes, mime_type: str, voice: bool) -> str | None:
    subject = "Voice messages" if voice else "OGG audio"
    if mime_type != "audio/ogg":
        return f"{subject} must be OGG/OPUS; this file is {mime_type}."
    try:
        audio = OggOpus(io.BytesIO(content))  # type: ignore[no-untyped-call]
    except mutagen.MutagenError:
        codec = _ogg_codec(content)
        return f"{subject} must use the OPUS codec; this OGG file holds {codec}."
    channels = int(audio.info.channels)  # type: ignore[attr-defined]
    if channels != 1:
        return f"{subject} must be mono (OPUS, 1 channel); this file has {channels} channels."
    return None


def _ogg_codec(content: bytes) -> str:
    head = content[:256]
    for marker, name in ((b"vorbis", "Vorbis"), (b"OpusHead", "OPUS"), (b"Speex", "Speex")):
        if marker in head:
            return name
    return "an unknown codec"


def _video_problem(content: bytes) -> str | None:
    info = MediaInfo.parse(io.BytesIO(content))
    video = [track for track in info.tracks if track.track_type == "Video"]
    audio = [track for track in info.tracks if track.track_type == "Audio"]
    if not video:
        return "The video has no video track."
    if video[0].format != "AVC":
        return f"Videos must be H.264 (AVC); this video track is {video[0].format}."
    if len(audio) > 1:
        return f"Videos may have one audio track at most; this one has {len(audio)}."
    if audio and audio[0].format != "AAC":
        return f"Video sound must be AAC; this audio track is {audio[0].format}."
    return None
