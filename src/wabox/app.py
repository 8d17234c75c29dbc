"""Builds the ASGI app: every route in one table, and the lifespan that opens the store."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypedDict

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Route

from wabox.api import health, messages, openapi, sandbox
from wabox.api.errors import GraphError
from wabox.api.http import handle_graph_error, handle_http_exception, handle_unexpected
from wabox.config import Config
from wabox.runtime import Runtime, open_runtime


class State(TypedDict):
    runtime: Runtime


def routes() -> list[Route]:
    """Every route; the send routes come first since the router tries them in order."""
    return [
        # 360dialog (D360-API-KEY)
        Route("/messages", messages.send_message_360dialog, methods=["POST"]),
        # Cloud API (Authorization: Bearer)
        Route(
            "/{version}/{phone_number_id}/messages", messages.send_message_cloud, methods=["POST"]
        ),
        # Server
        Route("/health", health.health, methods=["GET"]),
        Route("/openapi.json", openapi.get_openapi, methods=["GET"]),
        Route("/docs", openapi.get_docs, methods=["GET"]),
        # Sandbox (admin token)
        Route("/sandbox/noop", health.noop, methods=["POST"]),
        Route("/sandbox/channels", sandbox.list_channels, methods=["GET"]),
        Route("/sandbox/channels", sandbox.create_channel, methods=["POST"]),
        Route("/sandbox/channels/{phone_number_id}", sandbox.delete_channel, methods=["DELETE"]),
        Route("/sandbox/messages", sandbox.get_messages, methods=["GET"]),
        Route("/sandbox/messages", sandbox.delete_messages, methods=["DELETE"]),
    ]


def create_app(config: Config, on_ready: Callable[[Runtime], None] | None = None) -> Starlette:
    """The app for ``config``; ``on_ready`` runs once the store is open (the CLI's banner)."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[State]:
        runtime = await open_runtime(config)
        # Everything alive now (modules, tables, routes) lives as long as the process: keep
        # it out of the collector's sweeps, which otherwise cost the accept path ~20 %.
        gc.collect()
        gc.freeze()
        try:
            if on_ready is not None:
                on_ready(runtime)
            yield {"runtime": runtime}
        finally:
            await runtime.close()

    return Starlette(
        routes=routes(),
        lifespan=lifespan,
        exception_handlers={
            GraphError: handle_graph_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
    )
