"""The inbox's reads: customers within a channel's recent messages, unread counts."""

from __future__ import annotations

import pytest

from wabox.delivery.window import WINDOW
from wabox.schema.sandbox import ChannelCreate
from wabox.store import inbox
from wabox.store.conversations import mark_inbound_read, record_inbound
from wabox.store.database import Database
from wabox.store.messages import insert_accepted

pytestmark = pytest.mark.anyio


async def test_customers_come_from_recent_messages_with_their_unread_counts(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = await database.channels.create(ChannelCreate())
    pnid = channel.phone_number_id
    for n, to in enumerate(["16505550001", "16505550002", "16505550003"]):
        await insert_accepted(
            database, wamid=f"wamid.out{n}", channel_id=pnid, recipient=to, type="text",
            payload=b'{"text": {"body": "hi"}}', biz_opaque_callback_data=None, now=100.0 + n,
        )  # fmt: skip
    for n in range(3):
        await record_inbound(
            database, channel_id=pnid, wamid=f"wamid.in{n}", wa_id="16505550003", name="Ada",
            type="text", message=b'{"text": {"body": "yo"}}', webhook=None, now=200.0 + n,
            window=WINDOW,
        )  # fmt: skip
    everyone = await inbox.customers(database, pnid)
    assert [c.wa_id for c in everyone] == ["16505550003", "16505550002", "16505550001"]
    assert [c.unread for c in everyone] == [3, 0, 0]
    assert everyone[0].name == "Ada" and everyone[0].last_direction == "inbound"
    assert await mark_inbound_read(database, pnid, "wamid.in1", 300.0)
    assert (await inbox.customers(database, pnid))[0].unread == 1
    monkeypatch.setattr(inbox, "RECENT", 3)  # only the three newest messages are looked at
    assert [c.wa_id for c in await inbox.customers(database, pnid)] == ["16505550003"]
