"""The status machine: accepted → sent → delivered → read, or failed at any step.

Each message row carries its next step and when it is due; one worker per process claims
due rows in batches and writes each step with its event and its webhooks in one
transaction (``store/lifecycle.py``). Timing comes from the channel's settings
(``delivered_after`` after ``sent``, ``read_after`` after ``delivered``, or never) and
scenario rules may change the path. Media checks and link fetches run before ``sent``:
a message with media to check waits in the ``check`` step with a lease, so a crash
during the check makes it due again, and a restarted process checks it once more.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

import msgspec

from wabox.clock import Clock
from wabox.delivery.scenarios import ScenarioBook
from wabox.errors import GraphError, Undeliverable
from wabox.schema.sandbox import Channel, ChannelSettings
from wabox.schema.scenarios import Scenario
from wabox.store import leases
from wabox.store.database import Database
from wabox.store.lifecycle import (
    DueMessage,
    Step,
    advance_due,
    fail_unsent,
    next_due_at,
    release_checked,
    schedule_read,
)

log = logging.getLogger("wabox.lifecycle")

CHECK_LEASE = 60.0  # real seconds a media check may take before another try is due
POLL = 1.0
BATCH = 500
LINGER = 0.02


class Lifecycle:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        scenarios: ScenarioBook,
        build: Callable[..., bytes],
    ) -> None:
        self._database = database
        self._clock = clock
        self._scenarios = scenarios
        self._build = build
        self._wake = asyncio.Event()
        self._deadline: float | None = None  # when the sleeping worker wakes by itself
        # Other processes on the database make work this one is not woken for: look again
        # at least this often (real seconds). SQLite serves one process: no need.
        self._poll = POLL if database.dialect == "postgresql" else None
        self._running = False
        database.signals.subscribe("due", lambda _arg: self._wake.set())
        self.on_webhooks: Callable[[], None] = lambda: None
        self.on_recheck: Callable[[Channel, DueMessage], None] = lambda channel, message: None

    def wake(self) -> None:
        """A step is due: the worker here looks now; where none runs here (an API-only
        process), the other processes' workers are told."""
        self._database.signals.publish("due", others=not self._running)

    def first_step(
        self,
        channel: Channel,
        *,
        wamid: str,
        recipient: str,
        message_type: str,
        biz_opaque_callback_data: str | None,
        category: str,
        pricing_type: str,
        now: float,
        error: GraphError | None = None,
    ) -> Step:
        """The ``sent`` step of a message that needs no media check, planned at accept so
        it is written with the message itself; with ``error``, its failure instead (a
        closed customer service window)."""
        message = DueMessage(
            wamid=wamid,
            channel_id=channel.phone_number_id,
            recipient=recipient,
            type=message_type,
            state="accepted",
            next_step="sent",
            biz_opaque_callback_data=biz_opaque_callback_data,
            payload="",
            due_at=now,
            category=category,
            pricing_type=pricing_type,
        )
        if error is not None:
            return self._failed(message, channel, now, error)
        scenario = self._scenarios.match(channel.phone_number_id, recipient)
        return self._step(message, channel, scenario, now, now)

    def written(self, step: Step) -> None:
        """A step was committed outside the worker: wake whoever it concerns."""
        if step.webhooks:
            self.on_webhooks()
        if step.due_at is not None and (self._deadline is None or step.due_at < self._deadline):
            self.wake()

    async def run(self) -> None:
        """Advance due messages until cancelled; an error is logged and retried."""
        self._running = True
        try:
            await self._work()
        finally:
            self._running = False

    async def _work(self) -> None:
        while True:
            try:
                steps = await advance_due(self._database, self._clock.now(), BATCH, self._plan)
                await self._after(steps)
                if len(steps) == BATCH:
                    continue
                due, lease_end = await next_due_at(self._database)
                if steps and due is not None and due <= self._clock.now():
                    continue  # the steps just written made more due (a long clock advance)
                if due is not None and not self._clock.virtual:
                    # Linger a little past the next due time, so one transaction carries
                    # every step due in that window instead of one step each (events keep
                    # their due time as timestamp; only webhooks leave up to LINGER later).
                    due += LINGER
                self._deadline = due
                poll = leases.look_by(self._poll, lease_end)  # a media check's lease ends
                await self._clock.sleep_until(self._deadline, self._wake, poll)
                self._deadline = None
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("lifecycle step failed; retrying in 1 s")
                await asyncio.sleep(1)

    async def _after(self, steps: Sequence[Step]) -> None:
        if any(step.webhooks for step in steps):
            self.on_webhooks()
        unknown = {step.message.channel_id for step in steps if step.unknown_channel}
        for channel_id in unknown:  # made by another process: learn it for the next round
            await self._database.channels.find(channel_id)
        for step in steps:
            if step.recheck:
                channel = await self._database.channels.find(step.message.channel_id)
                if channel is not None:
                    self.on_recheck(channel, step.message)

    async def release(self, wamid: str) -> None:
        """The message's media passed its checks: send it."""
        if await release_checked(self._database, wamid, self._clock.now()):
            self.wake()

    async def mark_read(self, wamid: str) -> bool:
        """The customer read the message (the inbox, or the sandbox API)."""
        found = await schedule_read(self._database, wamid, self._clock.now())
        if found:
            self.wake()
        return found

    async def fail(self, channel: Channel, wamid: str, error: GraphError) -> bool:
        """Fail a message of ``channel`` that is not sent yet (media checks, link fetches)."""
        now = self._clock.now()

        def plan(message: DueMessage) -> Step:
            return self._failed(message, channel, now, error)

        failed = await fail_unsent(self._database, wamid, now, plan)
        if failed:
            self.on_webhooks()
        return failed

    # --- planning (runs inside the claiming transaction) ----------------------------------

    def _plan(self, rows: Sequence[DueMessage], now: float) -> list[Step]:
        steps = []
        for message in rows:
            channel = self._database.channels.get(message.channel_id)
            if channel is None:
                # Not deleted (its rows would have gone with it): made by another process.
                # Left due as it is; ``_after`` reads the channel before the next round.
                steps.append(
                    Step(
                        message,
                        message.state,
                        message.next_step,
                        message.due_at,
                        unknown_channel=True,
                    )
                )
                continue
            scenario = self._scenarios.match(message.channel_id, message.recipient)
            # A step happens when it was due, so one long advance of the virtual clock (or a
            # restart after downtime) plays every step in turn with its own timestamp.
            at = now if message.due_at is None else min(message.due_at, now)
            steps.append(self._step(message, channel, scenario, at, now))
        return steps

    def _step(
        self,
        message: DueMessage,
        channel: Channel,
        scenario: Scenario | None,
        now: float,
        claimed_at: float,
    ) -> Step:
        settings = channel.settings
        if message.next_step == "check":
            # A check whose lease ended without a result: run it again, under a new lease.
            leased_until = leases.wall() + CHECK_LEASE
            return Step(
                message,
                message.state,
                "check",
                claimed_at,
                leased_until=leased_until,
                recheck=True,
            )
        if message.next_step == "sent":
            if scenario is not None and scenario.not_on_whatsapp:
                error = Undeliverable(
                    "Message Undeliverable: the recipient is not on WhatsApp (wabox scenario)."
                )
                return self._failed(message, channel, now, error, scenario)
            if scenario is not None and scenario.fail and scenario.fail.after == "accepted":
                return self._failed(message, channel, now, _scenario_error(scenario), scenario)
            delay = settings.delivered_after
            if scenario is not None and scenario.delivered_after is not None:
                delay = scenario.delivered_after
            step = Step(message, "sent", "delivered", now + delay)
            self._record(step, channel, "sent", now, scenario, with_pricing=True)
            return step
        if message.next_step == "delivered":
            if scenario is not None and scenario.fail and scenario.fail.after == "sent":
                return self._failed(message, channel, now, _scenario_error(scenario), scenario)
            read_after = None if scenario and scenario.never_read else settings.read_after
            if scenario is not None and scenario.out_of_order and read_after is not None:
                step = Step(message, "read")
                step.events.append(("delivered", now, None))
                self._record(step, channel, "read", now, scenario)
                step.webhooks.extend(
                    self._webhooks(message, channel, "delivered", now, scenario, True, None)
                )
                self._then_played(step, settings, scenario, now)
                return step
            step = Step(message, "delivered")
            if read_after is not None:
                step.next_step, step.due_at = "read", now + read_after
            self._record(step, channel, "delivered", now, scenario, with_pricing=True)
            return step
        if message.next_step == "read":
            step = Step(message, "read")
            self._record(step, channel, "read", now, scenario)
            self._then_played(step, settings, scenario, now)
            return step
        if message.next_step == "played":
            step = Step(message, "played")
            self._record(step, channel, "played", now, scenario)
            return step
        return Step(message, message.state)  # nothing known to do: take it off the queue

    @staticmethod
    def _then_played(
        step: Step, settings: ChannelSettings, scenario: Scenario | None, now: float
    ) -> None:
        """A voice note read is then played, ``played_after`` later (Meta's ``played``
        status: the first time the customer plays it)."""
        if settings.played_after is None or (scenario is not None and scenario.never_read):
            return
        if step.message.type == "audio" and _is_voice_note(step.message.payload):
            step.next_step, step.due_at = "played", now + settings.played_after

    def _failed(
        self,
        message: DueMessage,
        channel: Channel,
        now: float,
        error: GraphError,
        scenario: Scenario | None = None,
    ) -> Step:
        step = Step(message, "failed")
        step.events.append(("failed", now, error))
        step.webhooks.extend(
            self._webhooks(message, channel, "failed", now, scenario, False, error)
        )
        return step

    def _record(
        self,
        step: Step,
        channel: Channel,
        status: str,
        now: float,
        scenario: Scenario | None,
        with_pricing: bool = False,
    ) -> None:
        step.events.append((status, now, None))
        step.webhooks.extend(
            self._webhooks(step.message, channel, status, now, scenario, with_pricing, None)
        )

    def _webhooks(
        self,
        message: DueMessage,
        channel: Channel,
        status: str,
        now: float,
        scenario: Scenario | None,
        with_pricing: bool,
        error: GraphError | None,
    ) -> list[tuple[str, bytes]]:
        if channel.settings.webhook is None:
            return []
        payload = self._build(
            channel,
            wamid=message.wamid,
            status=status,
            timestamp=now,
            recipient=message.recipient,
            category=message.category or "service",  # set at accept; migration 0006 fills old rows
            pricing_type=message.pricing_type or "free_customer_service",
            biz_opaque_callback_data=message.biz_opaque_callback_data,
            with_pricing=with_pricing,
            error=error,
        )
        copies = 2 if scenario is not None and scenario.duplicate_webhooks else 1
        return [(status, payload)] * copies


def _is_voice_note(payload: str) -> bool:
    try:
        audio = msgspec.json.decode(payload).get("audio")
    except (msgspec.DecodeError, AttributeError):
        return False
    return isinstance(audio, dict) and audio.get("voice") is True


def _scenario_error(scenario: Scenario) -> GraphError:
    assert scenario.fail is not None
    return GraphError.of(scenario.fail.code, scenario.fail.details, scenario.fail.title)
