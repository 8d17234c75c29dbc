"""The store's in-memory caches: what each remembers, and when it stops trusting it."""

from __future__ import annotations

from wabox.store.links import CacheEntry, FreshLinks
from wabox.store.media import LiveMediaCache, MediaRow

ENTRY = CacheEntry(
    channel_id="1555",
    url="https://example.com/a.jpg",
    policy="seed",
    media_id="1001",
    fetched_at=1000.0,
    fresh_until=2000.0,
    revalidate=None,
    last_modified=None,
    etag=None,
)
ROW = MediaRow(
    id="1001",
    channel_id="1555",
    mime_type="image/jpeg",
    sha256="0" * 64,
    file_size=10,
    filename="a.jpg",
    expires_at=5000.0,
)


def test_a_fresh_link_is_answered_from_memory_until_its_media_dies_here() -> None:
    live = LiveMediaCache()
    fresh = FreshLinks(live)
    fresh.remember(ENTRY, ROW, now=1500.0)
    assert fresh.get("1555", ENTRY.url, "seed", now=1500.0) == ROW
    assert fresh.get("1555", ENTRY.url, "fixed-10m", now=1500.0) is None  # another policy
    assert fresh.get("1555", ENTRY.url, "seed", now=2000.0) is None  # no longer fresh
    live.forget("1555", "1001")  # a deletion in this process
    assert fresh.get("1555", ENTRY.url, "seed", now=1500.0) is None


def test_a_remembered_hit_is_trusted_only_as_long_as_live_media_is() -> None:
    """A deletion in another process reaches no cache here: after ``ttl`` real seconds
    the hit asks the database again, as ``LiveMediaCache`` does."""
    fresh = FreshLinks(LiveMediaCache(), ttl=0.0)
    fresh.remember(ENTRY, ROW, now=1500.0)
    assert fresh.get("1555", ENTRY.url, "seed", now=1500.0) is None


def test_a_deleted_channel_leaves_nothing_behind() -> None:
    fresh = FreshLinks(LiveMediaCache())
    fresh.remember(ENTRY, ROW, now=1500.0)
    fresh.forget_channel("1555")
    assert fresh.get("1555", ENTRY.url, "seed", now=1500.0) is None
