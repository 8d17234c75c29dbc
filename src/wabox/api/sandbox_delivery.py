"""The sandbox's delivery powers (admin token): the clock, scenarios, reads, the webhook log."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from wabox.api.http import decode, json_response, read_json_body
from wabox.api.sandbox import admin_runtime, limit_param
from wabox.delivery.receiver_probes import probe_receiver
from wabox.errors import InvalidParameter, ObjectNotFound
from wabox.schema.sandbox import (
    ClockAdvance,
    ClockState,
    Deleted,
    ProbeAnswer,
    WebhookDeliveryList,
    WebhookProbeRequest,
    WebhookProbeResult,
)
from wabox.schema.scenarios import Scenario, ScenarioList
from wabox.store.webhooks import list_deliveries, redeliver
from wabox.webhooks.probes import Probe

_advance = msgspec.json.Decoder(ClockAdvance)
_scenario = msgspec.json.Decoder(Scenario)
DELIVERY_STATES = ("pending", "delivered", "dead", "probe")


async def get_clock(request: Request) -> Response:
    runtime = admin_runtime(request)
    return json_response(ClockState(mode=runtime.clock.mode, now=runtime.clock.now()))


async def advance_clock(request: Request) -> Response:
    """Move the virtual clock; every delay, retry and expiry that falls due runs now."""
    runtime = admin_runtime(request)
    body = decode(_advance, await read_json_body(request, runtime.config.max_body_bytes) or b"{}")
    if not runtime.clock.virtual:
        raise InvalidParameter(
            "The clock is real: start wabox with WABOX_CLOCK=virtual to move it by hand."
        )
    now = await runtime.advance_clock(body.seconds)
    return json_response(ClockState(mode=runtime.clock.mode, now=now))


async def list_scenarios(request: Request) -> Response:
    runtime = admin_runtime(request)
    return json_response(ScenarioList(scenarios=runtime.scenarios.all()))


async def create_scenario(request: Request) -> Response:
    runtime = admin_runtime(request)
    body = await read_json_body(request, runtime.config.max_body_bytes)
    scenario = decode(_scenario, body or b"{}")
    if scenario.id is not None:
        raise InvalidParameter("Param id is set by the server; leave it out.")
    scenario = await runtime.scenarios.add(scenario, runtime.clock.now())
    return json_response(scenario, status_code=201)


async def delete_scenarios(request: Request) -> Response:
    """``DELETE /sandbox/scenarios``: every rule set through the API (file rules stay)."""
    runtime = admin_runtime(request)
    deleted = await runtime.scenarios.delete()
    return json_response(Deleted(deleted=deleted))


async def delete_one_scenario(request: Request) -> Response:
    runtime = admin_runtime(request)
    scenario_id = request.path_params["scenario_id"]
    if not await runtime.scenarios.delete(scenario_id):
        raise ObjectNotFound.for_object("delete", scenario_id)
    return json_response({"success": True})


async def mark_read(request: Request) -> Response:
    """The customer opens the message: ``read`` now (for channels with ``read_after`` null)."""
    runtime = admin_runtime(request)
    wamid = request.path_params["wamid"]
    if not await runtime.lifecycle.mark_read(wamid):
        raise ObjectNotFound(
            f"Unsupported post request. Message {wamid} does not exist, or is not sent or "
            "delivered (accepted, failed and read messages cannot be marked read)."
        )
    return json_response({"success": True})


async def get_webhooks(request: Request) -> Response:
    runtime = admin_runtime(request)
    query = request.query_params
    state = query.get("state")
    if state is not None and state not in DELIVERY_STATES:
        raise InvalidParameter(
            f'Param state must be one of {{{", ".join(DELIVERY_STATES)}}} - got "{state}".'
        )
    found = await list_deliveries(
        runtime.database,
        channel=query.get("channel"),
        wamid=query.get("message_id"),
        state=state,
        event=query.get("event"),
        limit=limit_param(query.get("limit")),
    )
    return json_response(WebhookDeliveryList(deliveries=found, count=len(found)))


async def redeliver_webhook(request: Request) -> Response:
    runtime = admin_runtime(request)
    raw = request.path_params["delivery_id"]
    if not await redeliver(runtime.database, int(raw), runtime.clock.now()):
        raise ObjectNotFound.for_object("post", raw)
    runtime.dispatcher.wake()
    return json_response({"success": True})


_probe_request = msgspec.json.Decoder(WebhookProbeRequest)


async def probe_webhook(request: Request) -> Response:
    """Send the channel's receiver a webhook it must refuse (unsigned, wrongly signed,
    signed with the previous app secret), a replay, or a verification GET with a wrong
    token, and say what it answered; a receiver that takes a bad one is flagged."""
    runtime = admin_runtime(request)
    phone_number_id = request.path_params["phone_number_id"]
    channel = await runtime.database.channels.find(phone_number_id)
    if channel is None:
        raise ObjectNotFound.for_object("post", phone_number_id)
    spec = decode(_probe_request, await read_json_body(request, runtime.config.max_body_bytes))
    log_id, probe = await probe_receiver(runtime.database, runtime.clock, channel, spec.kind)
    return json_response(probe_result(log_id, probe))


def probe_result(log_id: int, probe: Probe) -> WebhookProbeResult:
    return WebhookProbeResult(
        kind=probe.kind,
        method=probe.method,
        url=probe.url,
        headers=probe.headers,
        body=probe.body.decode("utf-8", "replace"),
        answer=ProbeAnswer(
            probe.answer.status, probe.answer.latency_ms, probe.answer.body, probe.answer.error
        ),
        verdict=probe.verdict,
        flagged=probe.flagged,
        log_id=log_id,
    )
