"""The asset server and the link check: host your own media links, and see them as wabox does.

``serve`` answers a folder's files with the headers a media link's origin should send
(``wabox.assets.server``); ``check`` fetches any link the way wabox's link fetcher does and
reports its caching and, per message type, whether it is sendable (``wabox.assets.check``).
"""

from __future__ import annotations

from wabox.assets.check import CacheVerdict, CheckResult, KindVerdict, acheck, check
from wabox.assets.server import DEFAULT_POLICY, NO_CACHE, NO_STORE, AssetApp, CachePolicy, serve

__all__ = [
    "DEFAULT_POLICY",
    "NO_CACHE",
    "NO_STORE",
    "AssetApp",
    "CachePolicy",
    "CacheVerdict",
    "CheckResult",
    "KindVerdict",
    "acheck",
    "check",
    "serve",
]
