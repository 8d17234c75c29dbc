"""The blocking client. ``AsyncClient`` (``aio.py``) has the same methods, awaited."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import httpx

from wabox.client import _core as core
from wabox.client._core import Progress, Source, Target
from wabox.client.errors import WhatsAppError
from wabox.client.types import HeaderMedia, MediaInfo, SentMessage

DEFAULT_360 = "https://waba-v2.360dialog.io"
DEFAULT_GRAPH = "https://graph.facebook.com"


class Client:
    """One business number in either dialect; point ``base_url`` at wabox to use it."""

    def __init__(self, target: Target, *, timeout: float = 30.0, retries: int = 2) -> None:
        self.target = target
        self.retries = retries
        self._http = httpx.Client(base_url=target.base_url, headers=target.headers, timeout=timeout)

    @classmethod
    def for_360dialog(cls, api_key: str, base_url: str = DEFAULT_360, **options: Any) -> Client:
        return cls(Target("360dialog", base_url, api_key), **options)

    @classmethod
    def for_cloud_api(
        cls,
        token: str,
        phone_number_id: str,
        base_url: str = DEFAULT_GRAPH,
        version: str = "v23.0",
        **options: Any,
    ) -> Client:
        return cls(Target("cloud", base_url, token, phone_number_id, version), **options)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- media -------------------------------------------------------------------------------

    def upload_media(
        self,
        source: Source,
        mime_type: str | None = None,
        *,
        filename: str | None = None,
        progress: Progress | None = None,
    ) -> str:
        """Upload a path, bytes or binary file (streamed); the new media ID. The MIME type
        is taken from the name, else from the first bytes, when not given."""
        upload = core.open_upload(source, mime_type, filename, progress)
        try:
            body = core.check(
                self._http.post(self.target.path("media"), data=upload.data(), files=upload.files())
            )
        finally:
            upload.close()
        return str(body["id"])

    def get_media(self, media_id: str) -> MediaInfo:
        return core.media_info(self._request("GET", self.target.media_path(media_id)))

    def download_media(
        self, media: str, to: str | Path | IO[bytes] | None = None
    ) -> bytes | Path | None:
        """A media ID or a URL from ``get_media``/a webhook. With ``to`` (a path or binary
        file) the bytes are streamed there; without, they are returned."""
        url = self.get_media(media).url if media.isdigit() else media
        with self._http.stream("GET", self.target.download_url(url)) as response:
            if not response.is_success:
                response.read()
                core.check(response)
            if to is None:
                return response.read()
            if isinstance(to, str | Path):
                path = Path(to)
                with path.open("wb") as file:
                    for chunk in response.iter_bytes(core.CHUNK):
                        file.write(chunk)
                return path
            for chunk in response.iter_bytes(core.CHUNK):
                to.write(chunk)
            return None

    def delete_media(self, media_id: str) -> bool:
        return bool(self._request("DELETE", self.target.media_path(media_id)).get("success"))

    # --- messages ----------------------------------------------------------------------------

    def send_text(
        self, to: str, body: str, *, preview_url: bool = False, reply_to: str | None = None
    ) -> SentMessage:
        text = {"body": body, "preview_url": preview_url}
        return self._message(core.envelope(to, "text", text, reply_to))

    def send_image(
        self,
        to: str,
        *,
        media_id: str | None = None,
        link: str | None = None,
        path: Source | None = None,
        caption: str | None = None,
        reply_to: str | None = None,
    ) -> SentMessage:
        return self._media("image", to, media_id, link, path, reply_to, caption=caption)

    def send_video(
        self,
        to: str,
        *,
        media_id: str | None = None,
        link: str | None = None,
        path: Source | None = None,
        caption: str | None = None,
        reply_to: str | None = None,
    ) -> SentMessage:
        return self._media("video", to, media_id, link, path, reply_to, caption=caption)

    def send_document(
        self,
        to: str,
        *,
        media_id: str | None = None,
        link: str | None = None,
        path: Source | None = None,
        caption: str | None = None,
        filename: str | None = None,
        reply_to: str | None = None,
    ) -> SentMessage:
        if filename is None and isinstance(path, str | Path):
            filename = Path(path).name
        return self._media(
            "document", to, media_id, link, path, reply_to, caption=caption, filename=filename
        )

    def send_audio(
        self,
        to: str,
        *,
        media_id: str | None = None,
        link: str | None = None,
        path: Source | None = None,
        voice: bool = False,
        reply_to: str | None = None,
    ) -> SentMessage:
        return self._media("audio", to, media_id, link, path, reply_to, voice=voice)

    def send_sticker(
        self,
        to: str,
        *,
        media_id: str | None = None,
        link: str | None = None,
        path: Source | None = None,
        reply_to: str | None = None,
    ) -> SentMessage:
        return self._media("sticker", to, media_id, link, path, reply_to)

    def send_template(
        self,
        to: str,
        name: str,
        language: str = "en_US",
        *,
        body_params: Sequence[str] = (),
        header: HeaderMedia | str | None = None,
        components: Sequence[dict[str, Any]] | None = None,
    ) -> SentMessage:
        """``header``: a ``HeaderMedia`` (image, video or document by id or link) or the
        text of a text header's parameter; ``components`` are added as given."""
        template = core.template_body(name, language, body_params, header, components)
        return self._message(core.envelope(to, "template", template))

    def send_reaction(self, to: str, message_id: str, emoji: str) -> SentMessage:
        """An empty ``emoji`` removes the reaction."""
        reaction = {"message_id": message_id, "emoji": emoji}
        return self._message(core.envelope(to, "reaction", reaction))

    def mark_read(self, message_id: str, *, typing: bool = False) -> bool:
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": message_id,
        }
        if typing:
            body["typing_indicator"] = {"type": "text"}
        answer = self._request("POST", self.target.path("messages"), json=body)
        return bool(answer.get("success"))

    # --- plumbing ----------------------------------------------------------------------------

    def _media(
        self,
        kind: str,
        to: str,
        media_id: str | None,
        link: str | None,
        path: Source | None,
        reply_to: str | None,
        voice: bool = False,
        **fields: str | None,
    ) -> SentMessage:
        """Upload first when given a path, then send by ID, as the seed recommends."""
        core.one_source(media_id, link, path)
        if path is not None:
            media_id = self.upload_media(path)
        body = core.media_body(kind, media_id=media_id, link=link, **fields)
        if voice:
            body["voice"] = True
        return self._message(core.envelope(to, kind, body, reply_to))

    def _message(self, message: dict[str, Any]) -> SentMessage:
        return core.sent(self._request("POST", self.target.path("messages"), json=message))

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        attempt = 0
        while True:
            try:
                return core.check(self._http.request(method, path, **kwargs))
            except (httpx.TransportError, WhatsAppError) as exc:
                wait = core.should_retry(exc, method, attempt, self.retries)
                if wait is None:
                    raise
                attempt += 1
                time.sleep(wait)
