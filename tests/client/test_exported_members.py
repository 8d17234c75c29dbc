"""The public surface is a contract (encode/httpx: tests/test_exported_members.py).

A name added to or removed from ``wabox.client`` must change ``EXPECTED`` here too, so every
change to the surface is a deliberate one.
"""

from __future__ import annotations

import re
import types

import wabox.client
from wabox.client import WaboxError, errors

EXPECTED = [
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "HeaderMedia",
    "InboundMessage",
    "InvalidRequest",
    "MediaDownloadError",
    "MediaInfo",
    "MediaRef",
    "MediaUploadError",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "ReEngagementRequired",
    "RecipientError",
    "SentMessage",
    "ServiceUnavailable",
    "Status",
    "TemplateError",
    "TemplateNotFound",
    "TransportError",
    "WaboxError",
    "WebhookError",
    "WebhookEvent",
    "WhatsAppError",
    "parse_webhook",
    "verify_handshake",
    "verify_signature",
]


def test_all_is_the_expected_surface() -> None:
    assert wabox.client.__all__ == EXPECTED


def test_all_imports_are_exported() -> None:
    """Every public name of the package is in ``__all__`` and every name there exists.
    Submodules (``wabox.client.errors`` …) are attributes only because they were imported."""
    public = sorted(
        name
        for name, value in vars(wabox.client).items()
        if not name.startswith("_")
        and not (isinstance(value, types.ModuleType) and value.__name__.startswith("wabox.client."))
    )
    assert public == sorted(wabox.client.__all__)
    for name in wabox.client.__all__:
        assert hasattr(wabox.client, name), name


def test_every_exported_error_is_a_wabox_error_in_the_drawn_tree() -> None:
    """The tree in ``errors``' docstring is the class hierarchy: each class under its first
    base, every exported exception drawn, and each saying when it is raised."""
    drawn: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        found = re.fullmatch(r"([ |]*(?:\+-- )?)([A-Z]\w+)", line.rstrip())
        if not found:
            continue
        depth, name = len(found.group(1)), found.group(2)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        drawn[name] = stack[-1][1] if stack else None
        stack.append((depth, name))
    exported = {
        name: value
        for name in wabox.client.__all__
        if isinstance(value := getattr(wabox.client, name), type) and issubclass(value, Exception)
    }
    assert set(drawn) == set(exported)
    assert drawn["WaboxError"] is None
    for name, cls in exported.items():
        assert issubclass(cls, WaboxError), name
        assert cls.__doc__, name  # not inherited: each class has its own
        if name != "WaboxError":
            assert drawn[name] == cls.__bases__[0].__name__, name
