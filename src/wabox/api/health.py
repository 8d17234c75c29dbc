"""Liveness, readiness, metrics, and the no-op endpoint the benchmark measures the accept
path against."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from wabox.api.http import json_response, read_json_body
from wabox.runtime import Runtime
from wabox.schema.messages import SuccessResponse
from wabox.schema.sandbox import Health, Readiness


async def health(_request: Request) -> Response:
    return json_response(Health(status="ok"))


async def livez(_request: Request) -> Response:
    """The process runs and answers (restart it if not)."""
    return json_response(Health(status="ok"))


async def readyz(request: Request) -> Response:
    """The database answers, its schema is this wabox's, and the background workers run
    (send it traffic only if so); 503 with what is wrong otherwise."""
    runtime: Runtime = request.state.runtime
    checks = await runtime.readiness()
    ready = all(value == "ok" for value in checks.values())
    return json_response(
        Readiness(status="ready" if ready else "not ready", checks=checks),
        status_code=200 if ready else 503,
    )


async def noop(request: Request) -> Response:
    """Reads the JSON body like ``/messages`` does, then does nothing with it."""
    runtime: Runtime = request.state.runtime
    await read_json_body(request, runtime.config.max_body_bytes)
    return json_response(SuccessResponse())


async def metrics(request: Request) -> Response:
    """Prometheus text format; counters only, no message content, so no token is needed."""
    runtime: Runtime = request.state.runtime
    return Response(generate_latest(runtime.metrics), media_type=CONTENT_TYPE_LATEST)
