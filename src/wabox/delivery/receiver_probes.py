"""Probing a channel's webhook receiver (``webhooks/probes.py``), and keeping each probe in
the webhook log with its verdict."""

from __future__ import annotations

import msgspec

from wabox.clock import Clock
from wabox.delivery.message_rules import new_wamid
from wabox.errors import InvalidParameter
from wabox.schema.sandbox import Channel
from wabox.store.database import Database
from wabox.store.webhooks import Outcome, last_delivered, record_probe
from wabox.webhooks.payloads import status_payload
from wabox.webhooks.probes import Probe, ProbeKind, send_probe
from wabox.webhooks.signing import signature

PROBE_RECIPIENT = "16505550000"
SIGNED = ("unsigned", "bad_signature", "old_secret")


async def probe_receiver(
    database: Database, clock: Clock, channel: Channel, kind: ProbeKind
) -> tuple[int, Probe]:
    """Send one probe to the channel's receiver; the log entry's id and the probe."""
    config = channel.settings.webhook
    if config is None:
        raise InvalidParameter(
            "The channel has no webhook URL to probe: set settings.webhook.url first."
        )
    if kind in SIGNED and config.app_secret is None:
        raise InvalidParameter(
            "The channel's webhooks are not signed (no settings.webhook.app_secret), so a "
            "receiver cannot tell a bad signature from none: set an app_secret first."
        )
    now = clock.now()
    key = replayed = None
    if kind == "replay":
        payload = await last_delivered(database, channel.phone_number_id)
        if payload is None:
            raise InvalidParameter(
                "No webhook of this channel was delivered yet: nothing to replay."
            )
        body = payload.encode()
        if config.app_secret is not None:
            replayed = signature(body, config.app_secret)
    elif kind == "wrong_verify_token":
        body = b""  # a GET: logged as its method and URL
    else:
        body = status_payload(
            channel,
            wamid=new_wamid(PROBE_RECIPIENT),
            status="sent",
            timestamp=now,
            recipient=PROBE_RECIPIENT,
            category="service",
            pricing_type="free_customer_service",
            with_pricing=True,
        )
    if kind == "old_secret":
        key = await database.channels.previous_app_secret(channel.phone_number_id)
        if key is None:
            raise InvalidParameter(
                "The channel's app_secret was never changed: there is no previous one to sign with."
            )
    probe = await send_probe(kind, config, body, key=key, replayed_signature=replayed)
    sent = (
        body.decode() if body else msgspec.json.encode({"method": "GET", "url": probe.url}).decode()
    )
    outcome = Outcome(
        0,
        now,
        probe.url,
        probe.answer.status,
        probe.answer.latency_ms,
        probe.answer.error,
        False,
        None,
    )
    logged = await record_probe(
        database,
        channel_id=channel.phone_number_id,
        kind=kind,
        payload=sent,
        outcome=outcome,
        verdict=probe.verdict,
        now=now,
    )
    return logged, probe
