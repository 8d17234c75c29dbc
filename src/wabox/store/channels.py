"""Channels (business numbers) and the in-memory registry the auth check reads."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from wabox.schema.sandbox import Channel, ChannelCreate, ChannelSettings
from wabox.store.signals import EVERYTHING, Signals
from wabox.store.tables import channels, settings
from wabox.store.writer import Writer

UNKNOWN_KEY_TTL = 2.0
PREVIOUS_SECRET = "previous_app_secret:"  # + phone_number_id: the settings row


def _settings(stored: str) -> ChannelSettings:
    """Stored settings may hold keys another wabox version wrote: dropped; defaults fill gaps."""
    values = msgspec.json.decode(stored)
    known = ChannelSettings.__struct_fields__
    return msgspec.convert({k: v for k, v in values.items() if k in known}, ChannelSettings)


UNKNOWN_KEYS_MAX = 10_000


class ChannelConflict(ValueError):
    """The phone_number_id or API key is already taken."""


def _digits(count: int) -> str:
    return str(secrets.randbelow(9) + 1) + "".join(
        str(secrets.randbelow(10)) for _ in range(count - 1)
    )


def new_api_key() -> str:
    return secrets.token_urlsafe(32)


def _row_to_channel(row: Any) -> Channel:
    return Channel(
        phone_number_id=row.phone_number_id,
        display_phone_number=row.display_phone_number,
        waba_id=row.waba_id,
        api_key=row.api_key,
        name=row.name,
        created_at=row.created_at,
        settings=_settings(row.settings),
    )


class ChannelRegistry:
    """Read-through cache of the channels table, keyed by API key and by phone_number_id.

    Authentication runs on every request, so it must not cost a query. A key this process
    has not seen (a channel made by another process) falls through to the database; a
    channel changed or deleted anywhere is read again here when its signal comes.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        writer: Writer,
        signals: Signals | None = None,
        on_deleted: Callable[[str], None] = lambda channel_id: None,
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._signals = signals or Signals()
        self._signals.subscribe("channel", self._changed)
        self._on_deleted = on_deleted
        self._by_key: dict[str, Channel] = {}
        self._by_id: dict[str, Channel] = {}
        # Keys recently looked up and not found: a client retrying a wrong key in a loop
        # must not cost a query per request. Bounded, and short-lived for other processes.
        self._unknown: dict[str, float] = {}

    async def load(self) -> None:
        async with self._engine.connect() as connection:
            rows = (await connection.execute(sa.select(channels))).all()
        known = set(self._by_id)
        self._by_key.clear()
        self._by_id.clear()
        for row in rows:
            self._remember(_row_to_channel(row))
        for gone in known - set(self._by_id):
            self._on_deleted(gone)

    async def _changed(self, channel_id: str) -> None:
        """A channel was made, changed or deleted, maybe by another process."""
        if channel_id == EVERYTHING:
            await self.load()
            return
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(channels).where(channels.c.phone_number_id == channel_id)
                )
            ).first()
        if (known := self._by_id.get(channel_id)) is not None:
            self._forget(known)
        if row is not None:
            self._remember(_row_to_channel(row))
        elif known is not None:
            self._on_deleted(channel_id)

    def _remember(self, channel: Channel) -> None:
        self._unknown.pop(channel.api_key, None)
        self._by_key[channel.api_key] = channel
        self._by_id[channel.phone_number_id] = channel

    def _forget(self, channel: Channel) -> None:
        self._by_key.pop(channel.api_key, None)
        self._by_id.pop(channel.phone_number_id, None)

    def all(self) -> list[Channel]:
        """The channels this process knows (``listed`` asks the database)."""
        return sorted(self._by_id.values(), key=lambda c: (c.created_at, c.phone_number_id))

    async def listed(self) -> list[Channel]:
        """Every channel, those other processes made included."""
        await self.load()
        return self.all()

    def get(self, phone_number_id: str) -> Channel | None:
        """The channel if this process knows it; None may mean another process made it
        (``find`` asks the database), never that it was deleted."""
        return self._by_id.get(phone_number_id)

    async def find(self, phone_number_id: str) -> Channel | None:
        """The channel, from memory or else the database; None only if there is none."""
        channel = self._by_id.get(phone_number_id)
        if channel is not None:
            return channel
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(channels).where(channels.c.phone_number_id == phone_number_id)
                )
            ).first()
        if row is None:
            return None
        channel = _row_to_channel(row)
        self._remember(channel)
        return channel

    def cached(self, api_key: str) -> Channel | None:
        """The channel for a key this process knows, without touching the database."""
        return self._by_key.get(api_key)

    async def by_api_key(self, api_key: str) -> Channel | None:
        channel = self._by_key.get(api_key)
        if channel is not None:
            return channel
        if self._unknown.get(api_key, 0.0) > time.monotonic():
            return None
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(sa.select(channels).where(channels.c.api_key == api_key))
            ).first()
        if row is None:
            if len(self._unknown) >= UNKNOWN_KEYS_MAX:
                self._unknown.clear()
            self._unknown[api_key] = time.monotonic() + UNKNOWN_KEY_TTL
            return None
        channel = _row_to_channel(row)
        self._remember(channel)
        return channel

    async def create(self, spec: ChannelCreate) -> Channel:
        channel = Channel(
            phone_number_id=spec.phone_number_id or _digits(15),
            display_phone_number=_normalise_display(spec.display_phone_number)
            or "1555" + _digits(7),
            waba_id=spec.waba_id or _digits(15),
            api_key=spec.api_key or new_api_key(),
            name=spec.name or "",
            created_at=time.time(),
            settings=spec.settings or ChannelSettings(),
        )
        if channel.phone_number_id in self._by_id:
            raise ChannelConflict(f"phone_number_id {channel.phone_number_id} is already a channel")
        if channel.api_key in self._by_key:
            raise ChannelConflict("that api_key is already used by another channel")

        def write(connection: sa.Connection) -> None:
            connection.execute(sa.insert(channels).values(**_channel_values(channel)))

        try:
            await self._writer.run(write)
        except sa.exc.IntegrityError as exc:
            raise ChannelConflict("phone_number_id or api_key is already taken") from exc
        self._remember(channel)
        self._published(channel.phone_number_id)
        return channel

    async def set_api_key(self, channel: Channel, api_key: str) -> Channel:
        if (other := self._by_key.get(api_key)) is not None and other is not channel:
            raise ChannelConflict("that api_key is already used by another channel")

        def write(connection: sa.Connection) -> None:
            connection.execute(
                sa.update(channels)
                .where(channels.c.phone_number_id == channel.phone_number_id)
                .values(api_key=api_key)
            )

        await self._writer.run(write)
        self._forget(channel)
        updated = msgspec.structs.replace(channel, api_key=api_key)
        self._remember(updated)
        self._published(channel.phone_number_id)
        return updated

    async def update(self, channel: Channel, **changes: Any) -> Channel:
        """Replace some fields (``name``, ``settings``) of a channel. A webhook app secret
        that changes is kept as the previous one (``previous_app_secret``)."""
        updated = msgspec.structs.replace(channel, **changes)
        values = _channel_values(updated)
        before, after = (
            c.settings.webhook.app_secret if c.settings.webhook else None
            for c in (channel, updated)
        )

        def write(connection: sa.Connection) -> None:
            connection.execute(
                sa.update(channels)
                .where(channels.c.phone_number_id == channel.phone_number_id)
                .values({name: values[name] for name in changes})
            )
            if before is not None and before != after:
                key = PREVIOUS_SECRET + channel.phone_number_id
                connection.execute(sa.delete(settings).where(settings.c.key == key))
                connection.execute(sa.insert(settings).values(key=key, value=before))

        await self._writer.run(write)
        self._forget(channel)
        self._remember(updated)
        self._published(channel.phone_number_id)
        return updated

    async def previous_app_secret(self, phone_number_id: str) -> str | None:
        """The webhook app secret the channel had before its current one."""
        async with self._engine.connect() as connection:
            found: str | None = await connection.scalar(
                sa.select(settings.c.value).where(
                    settings.c.key == PREVIOUS_SECRET + phone_number_id
                )
            )
        return found

    async def delete(self, phone_number_id: str) -> bool:
        """Delete the channel and, by cascade, its messages and media rows."""

        def write(connection: sa.Connection) -> int:
            connection.execute(
                sa.delete(settings).where(settings.c.key == PREVIOUS_SECRET + phone_number_id)
            )
            query = sa.delete(channels).where(channels.c.phone_number_id == phone_number_id)
            return connection.execute(query).rowcount

        deleted = await self._writer.run(write)
        if (channel := self._by_id.get(phone_number_id)) is not None:
            self._forget(channel)
        if deleted:
            self._on_deleted(phone_number_id)
            self._published(phone_number_id)
        return deleted > 0

    def _published(self, channel_id: str) -> None:
        """Every process, this one included, reads the channel again (rare: a change)."""
        self._signals.publish("channel", channel_id)


def _normalise_display(value: str | None) -> str | None:
    """Webhook metadata carries the display number as bare digits ("15550783881")."""
    if value is None:
        return None
    return "".join(ch for ch in value if ch.isdigit())


def _channel_values(channel: Channel) -> dict[str, Any]:
    return {
        "phone_number_id": channel.phone_number_id,
        "display_phone_number": channel.display_phone_number,
        "waba_id": channel.waba_id,
        "api_key": channel.api_key,
        "name": channel.name,
        "created_at": channel.created_at,
        "settings": msgspec.json.encode(channel.settings).decode(),
    }
