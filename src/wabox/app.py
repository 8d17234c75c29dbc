"""Builds the ASGI app: every route in one table, and the lifespan that opens the store."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypedDict

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.routing import Route

from wabox.api import (
    health,
    media,
    messages,
    openapi,
    sandbox,
    sandbox_conversations,
    sandbox_delivery,
    templates,
    webhook_config,
)
from wabox.api.http import handle_graph_error, handle_http_exception, handle_unexpected
from wabox.config import Config
from wabox.errors import GraphError
from wabox.media.urls import ATTACHMENTS_PATH
from wabox.runtime import Runtime, open_runtime
from wabox.ui import routes as ui


class State(TypedDict):
    runtime: Runtime


class DigitsConvertor(Convertor[str]):
    """Media IDs and phone_number_ids: all digits, kept as strings."""

    regex = "[0-9]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class VersionConvertor(DigitsConvertor):
    """``v<major>.<minor>``: clients pin anything from v14.0 to v24.0."""

    regex = r"v[0-9]{1,3}\.[0-9]{1,3}"


register_url_convertor("digits", DigitsConvertor())
register_url_convertor("version", VersionConvertor())


def routes() -> list[Route]:
    """Every route; the send routes come first since the router tries them in order."""
    return [
        # 360dialog (D360-API-KEY)
        Route("/messages", messages.send_message_360dialog, methods=["POST"]),
        Route("/media", media.upload_media_360dialog, methods=["POST"]),
        Route("/v1/configs/webhook", webhook_config.set_webhook, methods=["POST"]),
        Route("/v1/configs/webhook", webhook_config.get_webhook, methods=["GET"]),
        Route("/v1/configs/templates", templates.create_360dialog, methods=["POST"]),
        Route("/v1/configs/templates", templates.list_360dialog, methods=["GET"]),
        Route("/v1/configs/templates/{name}", templates.delete_360dialog, methods=["DELETE"]),
        Route("/{media_id:digits}", media.get_media_url_360dialog, methods=["GET"]),
        Route("/{media_id:digits}", media.delete_media_360dialog, methods=["DELETE"]),
        # Cloud API (Authorization: Bearer)
        Route(
            "/{version}/{phone_number_id}/messages", messages.send_message_cloud, methods=["POST"]
        ),
        Route(
            "/{version:version}/{phone_number_id:digits}/media",
            media.upload_media_cloud,
            methods=["POST"],
        ),
        Route(
            "/{version:version}/{waba_id:digits}/message_templates",
            templates.create_cloud,
            methods=["POST"],
        ),
        Route(
            "/{version:version}/{waba_id:digits}/message_templates",
            templates.list_cloud,
            methods=["GET"],
        ),
        Route(
            "/{version:version}/{waba_id:digits}/message_templates",
            templates.delete_cloud,
            methods=["DELETE"],
        ),
        Route("/{version:version}/{media_id:digits}", media.get_media_url_cloud, methods=["GET"]),
        Route("/{version:version}/{media_id:digits}", media.delete_media_cloud, methods=["DELETE"]),
        # Both: the URL from GET /{media_id}, whatever host the client puts in front of it
        Route(ATTACHMENTS_PATH, media.download_media, methods=["GET"]),
        # Server
        Route("/health", health.health, methods=["GET"]),
        Route("/metrics", health.metrics, methods=["GET"]),
        Route("/openapi.json", openapi.get_openapi, methods=["GET"]),
        Route("/docs", openapi.get_docs, methods=["GET"]),
        # Sandbox (admin token)
        Route("/sandbox/noop", health.noop, methods=["POST"]),
        Route("/sandbox/channels", sandbox.list_channels, methods=["GET"]),
        Route("/sandbox/channels", sandbox.create_channel, methods=["POST"]),
        Route("/sandbox/channels/{phone_number_id}", sandbox.update_channel, methods=["PATCH"]),
        Route("/sandbox/channels/{phone_number_id}", sandbox.delete_channel, methods=["DELETE"]),
        Route("/sandbox/messages", sandbox.get_messages, methods=["GET"]),
        Route("/sandbox/messages", sandbox.delete_messages, methods=["DELETE"]),
        Route("/sandbox/messages/{wamid}/read", sandbox_delivery.mark_read, methods=["POST"]),
        Route("/sandbox/templates", templates.admin_list, methods=["GET"]),
        Route("/sandbox/templates", templates.admin_create, methods=["POST"]),
        Route("/sandbox/templates/{template_id}", templates.admin_update, methods=["PATCH"]),
        Route("/sandbox/templates/{template_id}", templates.admin_delete, methods=["DELETE"]),
        Route("/sandbox/inbound", sandbox_conversations.post_inbound, methods=["POST"]),
        Route("/sandbox/samples", sandbox_conversations.get_samples, methods=["GET"]),
        Route("/sandbox/conversations", sandbox_conversations.get_conversations, methods=["GET"]),
        Route("/sandbox/clock", sandbox_delivery.get_clock, methods=["GET"]),
        Route("/sandbox/clock/advance", sandbox_delivery.advance_clock, methods=["POST"]),
        Route("/sandbox/scenarios", sandbox_delivery.list_scenarios, methods=["GET"]),
        Route("/sandbox/scenarios", sandbox_delivery.create_scenario, methods=["POST"]),
        Route("/sandbox/scenarios", sandbox_delivery.delete_scenarios, methods=["DELETE"]),
        Route(
            "/sandbox/scenarios/{scenario_id}",
            sandbox_delivery.delete_one_scenario,
            methods=["DELETE"],
        ),
        Route("/sandbox/webhooks", sandbox_delivery.get_webhooks, methods=["GET"]),
        Route(
            "/sandbox/webhooks/{delivery_id:digits}/redeliver",
            sandbox_delivery.redeliver_webhook,
            methods=["POST"],
        ),
        Route("/sandbox/media/sweep", sandbox.sweep_media, methods=["POST"]),
        Route(
            "/sandbox/media/{media_id:digits}/expire", sandbox.expire_media_now, methods=["POST"]
        ),
    ]


def create_app(config: Config, on_ready: Callable[[Runtime], None] | None = None) -> Starlette:
    """The app for ``config``; ``on_ready`` runs once the store is open (the CLI's banner)."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[State]:
        runtime = await open_runtime(config)
        runtime.start_workers()
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
        routes=[*routes(), *ui.routes()],
        lifespan=lifespan,
        exception_handlers={
            ui.NotSignedIn: ui.not_signed_in,
            ui.NoChannel: ui.no_channel,
            GraphError: handle_graph_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
    )
