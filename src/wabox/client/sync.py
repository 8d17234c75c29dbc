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
    """One business number in either dialect; point ``base_url`` at wabox to use it.

    Build it with ``for_360dialog`` or ``for_cloud_api`` and close it when done, best with
    ``with``::

        with Client.for_360dialog(api_key, base_url="http://127.0.0.1:8360") as wa:
            wa.send_text("16505551234", "Hello")

    Every method raises ``WhatsAppError`` (a subclass per code family) when the API answers
    an error and ``TransportError`` when it does not answer; both are ``WaboxError``.

    Args:
        target: The dialect, host, credential and (Cloud API) phone number ID and version.
        timeout: Seconds for each of connect, read, write and pool, per request.
        retries: How many times a transient failure is retried, with backoff, before it is
            raised. Sends (POST) are retried only when the answer says they were refused.
    """

    def __init__(self, target: Target, *, timeout: float = 30.0, retries: int = 2) -> None:
        self.target = target
        self.retries = retries
        self._http = httpx.Client(base_url=target.base_url, headers=target.headers, timeout=timeout)

    @classmethod
    def for_360dialog(cls, api_key: str, base_url: str = DEFAULT_360, **options: Any) -> Client:
        """A client for 360dialog's WABA v2 API: ``D360-API-KEY`` on unversioned paths.

        Args:
            api_key: The channel's 360dialog API key.
            base_url: The API host; a wabox server's URL to test against wabox.
            **options: ``timeout`` and ``retries``, as for ``Client``.

        Returns:
            A client for that channel.
        """
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
        """A client for Meta's Cloud API: a bearer token on ``/{version}/{phone_number_id}``.

        Args:
            token: A system-user or user access token.
            phone_number_id: The business number's ID (not the phone number).
            base_url: The Graph host; a wabox server's URL to test against wabox.
            version: The Graph API version in every path.
            **options: ``timeout`` and ``retries``, as for ``Client``.

        Returns:
            A client for that number.
        """
        return cls(Target("cloud", base_url, token, phone_number_id, version), **options)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool. The client cannot be used afterwards."""
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
        """Upload media, streamed, for sending by ID. An upload is never retried.

        Args:
            source: A path, bytes, or a binary file (read from where it stands).
            mime_type: The type to declare; by default taken from the name, else from the
                first bytes, else ``application/octet-stream``.
            filename: The name to upload under; by default the path's or file's name.
            progress: Called as ``progress(sent, total)`` while the bytes go out; ``total``
                is None when the file's size cannot be known.

        Returns:
            The new media ID.

        Raises:
            MediaUploadError: The media breaks a rule (type, size).
            WhatsAppError: Any other error answered.
            TransportError: No answer.
        """
        upload = core.open_upload(source, mime_type, filename, progress)
        try:
            with core.transport_errors():
                answer = self._http.post(
                    self.target.path("media"), data=upload.data(), files=upload.files()
                )
            body = core.check(answer)
        finally:
            upload.close()
        return str(body["id"])

    def get_media(self, media_id: str) -> MediaInfo:
        """Look up uploaded or received media.

        Args:
            media_id: The media ID (all digits).

        Returns:
            Its download URL (short-lived), MIME type, SHA-256 and size.

        Raises:
            ValueError: ``media_id`` is not all digits.
            NotFound: No such media, or not this number's.
            WhatsAppError: Any other error answered.
            TransportError: No answer, after retries.
        """
        return core.media_info(self._request("GET", self.target.media_path(media_id)))

    def download_media(
        self, media: str, to: str | Path | IO[bytes] | None = None
    ) -> bytes | Path | None:
        """Download media by ID, or by the URL that ``get_media`` or a webhook gave.

        With 360dialog the URL's host is swapped for the API's own, as 360dialog requires.

        Args:
            media: A media ID (which costs a ``get_media`` first) or a media URL.
            to: A path or binary file to stream the bytes into; None to return them.

        Returns:
            The bytes without ``to``, the ``Path`` written to a path, None for a file.

        Raises:
            NotFound: No such media, or not this number's.
            WhatsAppError: Any other error answered.
            TransportError: No answer, or the connection broke during the download.
        """
        url = self.get_media(media).url if media.isdigit() else media
        with (
            core.transport_errors(),
            self._http.stream("GET", self.target.download_url(url)) as response,
        ):
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
        """Delete uploaded media.

        Args:
            media_id: The media ID (all digits).

        Returns:
            True when the API says it was deleted.

        Raises:
            ValueError: ``media_id`` is not all digits.
            NotFound: No such media, or not this number's.
            WhatsAppError: Any other error answered.
            TransportError: No answer, after retries.
        """
        return bool(self._request("DELETE", self.target.media_path(media_id)).get("success"))

    # --- messages ----------------------------------------------------------------------------

    def send_text(
        self, to: str, body: str, *, preview_url: bool = False, reply_to: str | None = None
    ) -> SentMessage:
        """Send a text message.

        Args:
            to: The recipient's phone number, digits with country code.
            body: The text, up to 4096 characters.
            preview_url: Ask WhatsApp to render a preview of the first URL in ``body``.
            reply_to: A wamid to quote.

        Returns:
            The accepted message: its wamid and the recipient's WhatsApp ID.

        Raises:
            WhatsAppError: The API refused it (a subclass per code family).
            TransportError: No answer; the message may or may not have been accepted.
        """
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
        """Send an image (JPEG or PNG) from exactly one of ``media_id``, ``link``, ``path``.

        Args:
            to: The recipient's phone number.
            media_id: Uploaded media.
            link: An HTTPS URL WhatsApp fetches itself.
            path: A local path, bytes or file, uploaded first and then sent by ID.
            caption: Text shown under the image.
            reply_to: A wamid to quote.

        Returns:
            The accepted message.

        Raises:
            ValueError: Not exactly one source.
            WhatsAppError: The upload or the send was refused.
            TransportError: No answer.
        """
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
        """Send a video (H.264 and AAC in MP4, or 3GPP); arguments as for ``send_image``.

        Raises:
            ValueError: Not exactly one source.
            WhatsAppError: The upload or the send was refused.
            TransportError: No answer.
        """
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
        """Send a document; arguments as for ``send_image``, plus ``filename``.

        Args:
            filename: The name the recipient sees; by default a path's own name, since
                without one WhatsApp shows a generic name.

        Raises:
            ValueError: Not exactly one source.
            WhatsAppError: The upload or the send was refused.
            TransportError: No answer.
        """
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
        """Send audio; sources as for ``send_image``. Audio takes no caption.

        Args:
            voice: Show it as a voice note rather than an audio file; it should be
                OGG/OPUS.

        Raises:
            ValueError: Not exactly one source.
            WhatsAppError: The upload or the send was refused.
            TransportError: No answer.
        """
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
        """Send a sticker (WebP); sources as for ``send_image``. Stickers take no caption.

        Raises:
            ValueError: Not exactly one source.
            WhatsAppError: The upload or the send was refused.
            TransportError: No answer.
        """
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
        """Send an approved template: the one message allowed outside the 24 h window.

        Args:
            to: The recipient's phone number.
            name: The template's name.
            language: The template's language code.
            body_params: The body's ``{{1}}``, ``{{2}}``, … in order.
            header: A ``HeaderMedia`` (image, video or document by ID or link) or the text
                of a text header's parameter.
            components: Further components (buttons, …), added as given.

        Returns:
            The accepted message.

        Raises:
            TemplateNotFound: No approved template of that name and language.
            TemplateError: The parameters do not fit the template.
            WhatsAppError: Any other refusal.
            TransportError: No answer.
        """
        template = core.template_body(name, language, body_params, header, components)
        return self._message(core.envelope(to, "template", template))

    def send_reaction(self, to: str, message_id: str, emoji: str) -> SentMessage:
        """React to a message.

        Args:
            to: The phone number of the chat the message is in.
            message_id: The wamid reacted to.
            emoji: One emoji; an empty string removes the reaction.

        Returns:
            The accepted reaction, itself a message with a wamid.

        Raises:
            WhatsAppError: The API refused it.
            TransportError: No answer.
        """
        reaction = {"message_id": message_id, "emoji": emoji}
        return self._message(core.envelope(to, "reaction", reaction))

    def mark_read(self, message_id: str, *, typing: bool = False) -> bool:
        """Mark a received message read: the customer sees blue ticks.

        Args:
            message_id: The wamid of a message the customer sent.
            typing: Also show a typing indicator, for up to 25 s or until the next send.

        Returns:
            True when the API says it was done.

        Raises:
            InvalidRequest: No such received message.
            WhatsAppError: Any other refusal.
            TransportError: No answer.
        """
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
        """Upload first when given a path, then send by ID, as 360dialog recommends."""
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
        with core.transport_errors():
            while True:
                try:
                    return core.check(self._http.request(method, path, **kwargs))
                except (httpx.TransportError, WhatsAppError) as exc:
                    wait = core.should_retry(exc, method, attempt, self.retries)
                    if wait is None:
                        raise
                    attempt += 1
                    time.sleep(wait)
