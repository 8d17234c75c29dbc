"""Rows the store tests insert."""

from __future__ import annotations

import time

from wabox.store.database import Database
from wabox.store.messages import insert_accepted


async def accept(database: Database, channel_id: str, n: int) -> str:
    """Store accepted message number ``n``; returns its wamid."""
    wamid = f"wamid.test{n:06d}"
    await insert_accepted(
        database,
        wamid=wamid,
        channel_id=channel_id,
        recipient="16505551234",
        type="text",
        payload=b'{"n":%d}' % n,
        biz_opaque_callback_data=None,
        now=time.time(),
    )
    return wamid
