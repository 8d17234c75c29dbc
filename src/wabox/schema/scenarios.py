"""Scenario rules: what happens to messages for matching recipients (delivery/scenarios.py)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

Pattern = Annotated[str, Meta(pattern=r"^\+?[0-9*?]{1,20}$")]


class ScenarioFailure(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Fail with this error: instead of ``sent`` (after "accepted"), or after ``sent``."""

    code: Annotated[int, Meta(ge=0)]
    details: Annotated[str, Meta(max_length=1024)]
    title: Annotated[str, Meta(max_length=256)] | None = None
    after: Literal["accepted", "sent"] = "accepted"


class Scenario(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """What happens to messages for matching recipients.

    - ``not_on_whatsapp``: fails with 131026 instead of being sent.
    - ``fail``: fails with any code and details.
    - ``delivered_after``: an offline phone; delivered this many seconds after ``sent``.
    - ``never_read``: delivered, never read.
    - ``duplicate_webhooks``: every status webhook is delivered twice.
    - ``out_of_order``: ``read`` comes with ``delivered``, and its webhook goes first.
    """

    match: Pattern
    id: str | None = None
    channel: Annotated[str, Meta(pattern=r"^[0-9]{5,20}$")] | None = None
    description: Annotated[str, Meta(max_length=512)] | None = None
    not_on_whatsapp: bool = False
    fail: ScenarioFailure | None = None
    delivered_after: Annotated[float, Meta(ge=0, le=7 * 86400)] | None = None
    never_read: bool = False
    duplicate_webhooks: bool = False
    out_of_order: bool = False

    @property
    def number(self) -> str:
        return self.match.lstrip("+")

    @property
    def exact(self) -> bool:
        return "*" not in self.match and "?" not in self.match


class ScenarioList(msgspec.Struct):
    scenarios: list[Scenario]
