"""Builds the ASGI app: every route in one table, and the lifespan that opens the store."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypedDict

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

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
from wabox.api.openapi import Group
from wabox.config import Config
from wabox.errors import GraphError
from wabox.media.urls import ATTACHMENTS_PATH
from wabox.runtime import Runtime, open_runtime
from wabox.schema.messages import BSUID_PATTERN
from wabox.ui import STATIC, forms, live, pages, signin


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


class CustomerConvertor(DigitsConvertor):
    """A customer: its phone number, or its BSUID when it shares none."""

    regex = "[0-9]{5,15}|" + BSUID_PATTERN.strip("^$")


CHAT = "/ui/{channel:digits}/chat/{wa_id:customer}"
register_url_convertor("digits", DigitsConvertor())
register_url_convertor("customer", CustomerConvertor())
register_url_convertor("version", VersionConvertor())


def routes() -> list[BaseRoute]:
    """Every route, in one table; the send routes come first since the router tries them in order.

    An API route's group is its tag in ``/openapi.json`` and names the keys that may call it;
    the handler's docstring is its summary and ``api/openapi.py`` describes its bodies. The
    UI's routes are not part of the document.
    """
    dialog = Group("360dialog", security=("d360", "bearer"))  # either dialect takes either key
    cloud = Group("Cloud API", security=("bearer", "d360"))
    both = Group("Both", security=("bearer", "d360"))
    server = Group("Server")
    admin = Group("Sandbox", security=("admin",))
    return [
        # 360dialog (D360-API-KEY)
        dialog("/messages", messages.send_message_360dialog, "POST"),
        dialog("/media", media.upload_media_360dialog, "POST"),
        dialog("/v1/configs/webhook", webhook_config.set_webhook, "POST"),
        dialog("/v1/configs/webhook", webhook_config.get_webhook, "GET"),
        dialog("/v1/configs/templates", templates.create_360dialog, "POST"),
        dialog("/v1/configs/templates", templates.list_360dialog, "GET"),
        dialog("/v1/configs/templates/{name}", templates.delete_360dialog, "DELETE"),
        dialog("/{media_id:digits}", media.get_media_url_360dialog, "GET"),
        dialog("/{media_id:digits}", media.delete_media_360dialog, "DELETE"),
        # Cloud API (Authorization: Bearer)
        cloud("/{version}/{phone_number_id}/messages", messages.send_message_cloud, "POST"),
        cloud(
            "/{version:version}/{phone_number_id:digits}/media", media.upload_media_cloud, "POST"
        ),
        cloud(
            "/{version:version}/{waba_id:digits}/message_templates", templates.create_cloud, "POST"
        ),
        cloud("/{version:version}/{waba_id:digits}/message_templates", templates.list_cloud, "GET"),
        cloud(
            "/{version:version}/{waba_id:digits}/message_templates",
            templates.delete_cloud,
            "DELETE",
        ),
        cloud("/{version:version}/{media_id:digits}", media.get_media_url_cloud, "GET"),
        cloud("/{version:version}/{media_id:digits}", media.delete_media_cloud, "DELETE"),
        # Cloud API without a version segment: Graph serves those at the default version.
        # The same operations as above, so documented once, with their version.
        *(
            cloud(path, handler, method, documented=False)
            for path, handler, method in (
                ("/{phone_number_id:digits}/messages", messages.send_message_cloud, "POST"),
                ("/{phone_number_id:digits}/media", media.upload_media_cloud, "POST"),
                ("/{waba_id:digits}/message_templates", templates.create_cloud, "POST"),
                ("/{waba_id:digits}/message_templates", templates.list_cloud, "GET"),
                ("/{waba_id:digits}/message_templates", templates.delete_cloud, "DELETE"),
            )
        ),
        # Both: the URL from GET /{media_id}, whatever host the client puts in front of it
        both(ATTACHMENTS_PATH, media.download_media, "GET"),
        # Server
        server("/health", health.health, "GET"),
        server("/livez", health.livez, "GET"),
        server("/readyz", health.readyz, "GET"),
        server("/metrics", health.metrics, "GET"),
        server("/openapi.json", openapi.get_openapi, "GET", documented=False),
        server("/docs", openapi.get_docs, "GET", documented=False),
        server("/sandbox/noop", health.noop, "POST"),
        # Sandbox (admin token)
        admin("/sandbox/channels", sandbox.list_channels, "GET"),
        admin("/sandbox/channels", sandbox.create_channel, "POST"),
        admin("/sandbox/channels/{phone_number_id}", sandbox.update_channel, "PATCH"),
        admin("/sandbox/channels/{phone_number_id}", sandbox.delete_channel, "DELETE"),
        admin("/sandbox/messages", sandbox.get_messages, "GET"),
        admin("/sandbox/messages", sandbox.delete_messages, "DELETE"),
        admin("/sandbox/messages/{wamid}/read", sandbox_delivery.mark_read, "POST"),
        admin("/sandbox/templates", templates.admin_list, "GET"),
        admin("/sandbox/templates", templates.admin_create, "POST"),
        admin("/sandbox/templates/{template_id}", templates.admin_update, "PATCH"),
        admin("/sandbox/templates/{template_id}", templates.admin_delete, "DELETE"),
        admin("/sandbox/inbound", sandbox_conversations.post_inbound, "POST"),
        admin("/sandbox/samples", sandbox_conversations.get_samples, "GET"),
        admin("/sandbox/conversations", sandbox_conversations.get_conversations, "GET"),
        admin("/sandbox/clock", sandbox_delivery.get_clock, "GET"),
        admin("/sandbox/clock/advance", sandbox_delivery.advance_clock, "POST"),
        admin("/sandbox/scenarios", sandbox_delivery.list_scenarios, "GET"),
        admin("/sandbox/scenarios", sandbox_delivery.create_scenario, "POST"),
        admin("/sandbox/scenarios", sandbox_delivery.delete_scenarios, "DELETE"),
        admin("/sandbox/scenarios/{scenario_id}", sandbox_delivery.delete_one_scenario, "DELETE"),
        admin("/sandbox/webhooks", sandbox_delivery.get_webhooks, "GET"),
        admin(
            "/sandbox/channels/{phone_number_id}/webhook/probe",
            sandbox_delivery.probe_webhook,
            "POST",
        ),
        admin(
            "/sandbox/webhooks/{delivery_id:digits}/redeliver",
            sandbox_delivery.redeliver_webhook,
            "POST",
        ),
        admin("/sandbox/media/sweep", sandbox.sweep_media, "POST"),
        admin("/sandbox/media/{media_id:digits}/expire", sandbox.expire_media_now, "POST"),
        # UI (the inbox; the cookie from the token link signs in)
        Route("/", pages.home, methods=["GET"]),
        Route("/ui/events", live.events, methods=["GET"]),
        Route("/ui/{channel:digits}/customers", pages.customer_list, methods=["GET"]),
        Route(CHAT, pages.chat, methods=["GET"]),
        Route(CHAT, forms.send_as_customer, methods=["POST"]),
        Route("/ui/{channel:digits}/media/{media_id:digits}", pages.media_bytes, methods=["GET"]),
        Route("/ui/{channel:digits}/webhooks", pages.webhook_log, methods=["GET"]),
        Route("/ui/{channel:digits}/webhooks/probe", forms.probe_webhook, methods=["POST"]),
        Route("/ui/{channel:digits}/settings", pages.settings_page, methods=["GET"]),
        Route("/ui/{channel:digits}/settings", forms.update_settings, methods=["POST"]),
        Route("/ui/{channel:digits}/scenarios", forms.add_rule, methods=["POST"]),
        Route(
            "/ui/{channel:digits}/scenarios/{scenario_id}/delete",
            forms.delete_rule,
            methods=["POST"],
        ),
        Route("/ui/messages/{wamid}", pages.message_detail, methods=["GET"]),
        Route(
            "/ui/webhooks/{delivery_id:int}/redeliver", forms.redeliver_webhook, methods=["POST"]
        ),
        Mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static"),
    ]


# What a worker-only process (``--role worker``) serves: what orchestrators ask.
WORKER_PATHS = frozenset({"/health", "/livez", "/readyz", "/metrics"})


def app_from_env() -> Starlette:
    """The app as the environment configures it: each process of ``serve --workers N``."""
    return create_app(Config.from_env())


def create_app(config: Config, on_ready: Callable[[Runtime], None] | None = None) -> Starlette:
    """The app for ``config``; ``on_ready`` runs once the store is open (the CLI's banner)."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[State]:
        runtime = await open_runtime(config)
        if config.runs_workers:
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

    served = [
        route
        for route in routes()
        if config.runs_http_api or getattr(route, "path", None) in WORKER_PATHS
    ]
    return Starlette(
        routes=served,
        lifespan=lifespan,
        exception_handlers={
            signin.NotSignedIn: signin.not_signed_in,
            signin.NoChannel: signin.no_channel,
            GraphError: handle_graph_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
    )
