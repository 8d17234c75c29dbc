"""Liveness, metrics, and the no-op endpoint the benchmark measures the accept path against."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from wabox.api.http import json_response, read_json_body
from wabox.runtime import Runtime
from wabox.schema.messages import SuccessResponse
from wabox.schema.sandbox import Health


async def health(_request: Request) -> Response:
    return json_response(Health(status="ok"))


async def noop(request: Request) -> Response:
    """Reads the JSON body like ``/messages`` does, then does nothing with it."""
    runtime: Runtime = request.state.runtime
    await read_json_body(request, runtime.config.max_body_bytes)
    return json_response(SuccessResponse())


async def metrics(request: Request) -> Response:
    """Prometheus text format; counters only, no message content, so no token is needed."""
    runtime: Runtime = request.state.runtime
    return Response(generate_latest(runtime.metrics), media_type=CONTENT_TYPE_LATEST)
