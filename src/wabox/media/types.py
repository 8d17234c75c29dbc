"""Which MIME types the upload endpoint takes (wire-facts §2.1) and the upload size limit (§3)."""

from __future__ import annotations

# The order of Meta's own error message (wire-facts §2.1, quoted from a real response).
UPLOAD_TYPES: tuple[str, ...] = (
    "text/plain",
    "video/mp4",
    "video/3gpp",
    "image/jpeg",
    "image/png",
    "image/webp",
    "audio/aac",
    "audio/mp4",
    "audio/mpeg",
    "audio/amr",
    "audio/ogg",
    "audio/opus",
    "application/vnd.ms-powerpoint",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/pdf",
    "application/vnd.ms-excel",
)

# The largest per-type limit (documents); the per-type limits apply when media is sent.
MAX_UPLOAD_BYTES = 100 * 1024 * 1024


def upload_type_error(received: str) -> str:
    """Meta's exact wording for a refused upload type."""
    accepted = ", ".join(UPLOAD_TYPES)
    return (
        f"Param file must be a file with one of the following types: {accepted}. "
        f"Received file of type '{received}'."
    )
