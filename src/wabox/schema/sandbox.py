"""Bodies of the sandbox admin API (``/sandbox/…``): channels and the stored-message view."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

Digits = Annotated[str, Meta(pattern=r"^[0-9]{5,20}$")]


Seconds = Annotated[float, Meta(ge=0, le=7 * 86400)]
HeaderName = Annotated[str, Meta(pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")]


class WebhookConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Where the channel's webhooks go.

    ``headers`` are sent with every delivery (360dialog's custom headers). With
    ``app_secret`` every POST carries ``X-Hub-Signature-256`` (Meta). With ``verify_token``
    the URL must answer Meta's verification GET before it is accepted.
    """

    url: Annotated[str, Meta(pattern=r"^https?://[^\s]+$", max_length=2048)]
    headers: dict[HeaderName, Annotated[str, Meta(max_length=4096)]] = msgspec.field(
        default_factory=dict
    )
    verify_token: Annotated[str, Meta(max_length=256)] | None = None
    app_secret: Annotated[str, Meta(max_length=256)] | None = None
    # The Graph API version the webhook is subscribed at (Meta: the App Dashboard's
    # Webhooks page); statuses take that version's shape: ``conversation`` before v24.0.
    version: Annotated[str, Meta(pattern=r"^v[0-9]{1,3}\.[0-9]{1,3}$")] | None = None


class ChannelSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How the sandbox behaves for one channel; every field has the real platform's default.

    ``link_cache``: ``seed`` follows the origin's caching headers as 360dialog documents them;
    ``fixed-10m`` is Meta's behaviour since September 2024 (every link reused for 10 minutes).
    ``delivered_after``: seconds from ``sent`` to ``delivered``; ``read_after``: seconds
    from ``delivered`` to ``read``, or null for "never by itself" (the inbox or
    ``POST /sandbox/messages/{wamid}/read`` marks it read); ``played_after``: seconds from
    ``read`` to ``played`` for a voice note the customer listens to, or null for never.
    ``enforce_window``: a non-template message outside the customer's 24-hour window
    fails with 131047, as on Meta's platform; false lets every message through.
    ``throughput``: messages per second the channel may send (Meta: 80, up to 1,000), null
    for no limit; ``pair_rate_limit``: Meta's one message per 6 s (bursts of 45) to one
    customer. Both answer HTTP 400 at once (130429, 131056).
    ``parent_user_ids``: the business is enrolled for parent BSUIDs, so webhooks also name
    each customer's parent business-scoped user ID (``<ISO>.ENT.<digits>``).
    """

    link_cache: Literal["seed", "fixed-10m"] = "seed"
    delivered_after: Seconds = 0.1
    read_after: Seconds | None = 1.0
    played_after: Seconds | None = 1.0
    webhook: WebhookConfig | None = None
    enforce_window: bool = True
    throughput: Annotated[int, Meta(ge=1, le=1000)] | None = 80
    pair_rate_limit: bool = True
    parent_user_ids: bool = False


class _SettingsBody(msgspec.Struct):
    settings: ChannelSettings


_settings_body = msgspec.json.Decoder(_SettingsBody)  # errors name the param "settings"


def merged_settings(base: dict[str, Any], given: dict[str, Any]) -> ChannelSettings:
    """``given`` over ``base``; raises msgspec.ValidationError naming the bad field."""
    return _settings_body.decode(msgspec.json.encode({"settings": {**base, **given}})).settings


def channel_defaults(raw: str) -> dict[str, Any]:
    """``WABOX_CHANNEL_DEFAULTS``, checked at start so a typo stops the server."""
    try:
        found = msgspec.json.decode(raw)
        if not isinstance(found, dict):
            raise ValueError("must be a JSON object")
        merged_settings({}, found)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
        raise ValueError(f"WABOX_CHANNEL_DEFAULTS: {exc}") from None
    return found


class Channel(msgspec.Struct, kw_only=True):
    """One business number: what a 360dialog API key or a Cloud API phone_number_id names."""

    phone_number_id: str
    display_phone_number: str
    waba_id: str
    api_key: str
    name: str
    created_at: float
    settings: ChannelSettings = msgspec.field(default_factory=ChannelSettings)


class ChannelCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Every field is optional; what is left out is generated."""

    phone_number_id: Digits | None = None
    display_phone_number: Annotated[str, Meta(pattern=r"^\+?[0-9][0-9 ()-]{4,30}$")] | None = None
    waba_id: Digits | None = None
    api_key: (
        Annotated[str, Meta(min_length=8, max_length=128, pattern=r"^[\x21-\x7e]+$")] | None
    ) = None
    name: Annotated[str, Meta(max_length=128)] | None = None
    settings: ChannelSettings | None = None


class ChannelUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``PATCH /sandbox/channels/{id}``: the settings given replace those values only."""

    name: Annotated[str, Meta(max_length=128)] | None = None
    settings: dict[str, Any] | None = None


class ChannelList(msgspec.Struct):
    channels: list[Channel]


class MessageEvent(msgspec.Struct, kw_only=True, omit_defaults=True):
    status: str
    timestamp: float
    details: Any = None


class MediaOutcome(msgspec.Struct, kw_only=True, omit_defaults=True):
    """How one media object of a message was obtained.

    ``outcome``: ``fetched`` (from the origin), ``cache_hit``, ``revalidated`` (the origin
    confirmed the cached copy: 304, or an unchanged validator) or ``failed``. ``joined``
    marks a message that used a fetch another message had already started (single flight).
    """

    path: str
    outcome: str
    link: str | None = None
    media_id: str | None = None
    origin_status: int | None = None
    elapsed_ms: float | None = None
    reason: str | None = None
    joined: bool = False
    timestamp: float


class MessagePricing(msgspec.Struct, kw_only=True):
    """What the status webhooks say in ``pricing`` (decided at accept)."""

    category: str
    type: str


class StoredMessage(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A message as wabox holds it, newest first in ``GET /sandbox/messages``.

    ``rendered``: a template's header, body, footer and buttons with the values filled in.
    """

    wamid: str
    channel: str
    direction: str
    to: str
    type: str
    state: str
    created_at: float
    payload: Any
    biz_opaque_callback_data: str | None = None
    pricing: MessagePricing | None = None
    rendered: Any = None
    events: list[MessageEvent] = msgspec.field(default_factory=list)
    media: list[MediaOutcome] = msgspec.field(default_factory=list)


class MessageList(msgspec.Struct):
    messages: list[StoredMessage]
    count: int


class Deleted(msgspec.Struct):
    deleted: int


class Health(msgspec.Struct):
    status: str


class WebhookProbeRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A request the channel's receiver must refuse (or, ``replay``, take once)."""

    kind: Literal["unsigned", "bad_signature", "old_secret", "replay", "wrong_verify_token"]


class ProbeAnswer(msgspec.Struct):
    status: int | None
    latency_ms: float
    body: str
    error: str | None


class WebhookProbeResult(msgspec.Struct):
    """What was sent, what the receiver answered, and whether that is a hole."""

    kind: str
    method: str
    url: str
    headers: dict[str, str]
    body: str
    answer: ProbeAnswer
    verdict: str
    flagged: bool
    log_id: int  # its entry in GET /sandbox/webhooks (state "probe")


class Readiness(msgspec.Struct):
    """``checks``: each check's name with ``ok``, or what is wrong."""

    status: str  # ready | not ready
    checks: dict[str, str]


class WebhookAttempt(msgspec.Struct, kw_only=True, omit_defaults=True):
    at: float
    url: str
    latency_ms: float
    http_status: int | None = None
    error: str | None = None


class WebhookDelivery(msgspec.Struct, kw_only=True):
    """One webhook in the outbox: ``pending`` (due or retrying), ``delivered`` or ``dead``."""

    id: int
    channel: str
    event: str
    state: str
    created_at: float
    payload: Any
    message_id: str | None = None
    attempts: list[WebhookAttempt] = msgspec.field(default_factory=list)
    delivered_at: float | None = None
    next_attempt_at: float | None = None
    last_error: str | None = None


class WebhookDeliveryList(msgspec.Struct):
    deliveries: list[WebhookDelivery]
    count: int


class ClockState(msgspec.Struct):
    mode: str
    now: float


class ClockAdvance(msgspec.Struct, forbid_unknown_fields=True):
    seconds: Annotated[float, Meta(ge=0, le=400 * 86400)]
