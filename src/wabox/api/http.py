"""Starlette glue shared by every route: JSON bodies in, msgspec out, errors as Graph envelopes."""

from __future__ import annotations

import logging
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from wabox.errors import (
    BodyTooLarge,
    GraphError,
    InvalidParameter,
    ObjectNotFound,
    SomethingWentWrong,
    UnsupportedMediaType,
    graph_error_for,
)

T = TypeVar("T")
log = logging.getLogger("wabox.api")
_encoder = msgspec.json.Encoder()


def json_response(body: Any, status_code: int = 200) -> Response:
    return Response(_encoder.encode(body), status_code=status_code, media_type="application/json")


def error_response(error: GraphError) -> Response:
    headers = (
        {"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token"'}
        if error.http_status == 401
        else None
    )
    return Response(
        _encoder.encode(error.envelope()),
        status_code=error.http_status,
        media_type="application/json",
        headers=headers,
    )


async def read_json_body(request: Request, max_bytes: int) -> bytes:
    """The raw body of a JSON request, refused early when it is too large or not JSON."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise UnsupportedMediaType(
            f'Content-Type must be application/json - got "{content_type or "(none)"}".'
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) <= max_bytes:
        return await request.body()
    return await _bounded_body(request, max_bytes)


# Graph's own query parameters (authentication, output format): never a call's fields.
GRAPH_META_PARAMS = frozenset(
    {
        "access_token",
        "appsecret_proof",
        "debug",
        "format",
        "method",
        "pretty",
        "suppress_http_code",
        "transport",
    }
)
FORM = "application/x-www-form-urlencoded"


async def read_graph_body(request: Request, max_bytes: int) -> bytes:
    """A Cloud API POST's parameters as one JSON object.

    Graph reads a POST's parameters from the query string as well as from the body, and
    takes a form-encoded body as well as JSON; where both name a parameter the body wins.
    A parameter holding JSON (an object or an array, ``text={"body":"hi"}``) or a boolean
    is read as such, as Graph does for structured fields. A JSON body without query
    parameters is passed on untouched.
    """
    if not request.scope["query_string"]:
        content_type = request.headers.get("content-type", "")
        if not content_type.lower().startswith(FORM):
            return await read_json_body(request, max_bytes)  # the common call, untouched
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in GRAPH_META_PARAMS]
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    fields: dict[str, Any]
    if content_type == FORM:
        raw = await _bounded_body(request, max_bytes)
        fields = {k: graph_value(v) for k, v in parse_qsl(raw.decode("utf-8", "replace"))}
    elif content_type or not query:
        body = await read_json_body(request, max_bytes)
        if not query:
            return body
        try:
            decoded = msgspec.json.decode(body) if body.strip() else {}
        except msgspec.DecodeError:
            return body  # the decoder that follows words the error
        if not isinstance(decoded, dict):
            return body
        fields = decoded
    else:  # no body, parameters in the query string only
        if await _bounded_body(request, max_bytes):
            raise UnsupportedMediaType('Content-Type must be application/json - got "(none)".')
        fields = {}
    for key, value in query:
        fields.setdefault(key, graph_value(value))
    return _encoder.encode(fields)


def graph_value(raw: str) -> Any:
    stripped = raw.strip()
    if stripped[:1] in ("{", "["):
        try:
            return msgspec.json.decode(stripped)
        except msgspec.DecodeError:
            return raw
    if stripped in ("true", "false"):
        return stripped == "true"
    return raw


async def _bounded_body(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge(f"Request body is {declared} bytes; the limit is {max_bytes} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(f"Request body exceeds the limit of {max_bytes} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def decode(decoder: msgspec.json.Decoder[T], body: bytes) -> T:
    """Decode and validate, turning msgspec's errors into Graph code 100 errors."""
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise graph_error_for(exc) from exc
    except msgspec.DecodeError as exc:
        raise InvalidParameter(f"Request body is not valid JSON: {exc}.") from exc


async def handle_graph_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GraphError)
    return error_response(exc)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods answer like Graph does for an object it cannot serve."""
    assert isinstance(exc, HTTPException)
    error: GraphError
    if exc.status_code in (404, 405):
        error = ObjectNotFound(
            f"Unsupported {request.method.lower()} request. Unknown path {request.url.path!r} "
            "for this method."
        )
    else:
        error = InvalidParameter(exc.detail)
    return Response(
        _encoder.encode(error.envelope()),
        status_code=exc.status_code,
        media_type="application/json",
    )


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """Still the envelope, never a traceback; the server log keeps the details."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(
        SomethingWentWrong("An unexpected error occurred. Please retry your request later.")
    )
