"""Table definitions; Alembic migrations in ``migrations/`` create exactly these."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# A customer: a phone number, or a BSUID of up to 131 characters. SQLite does not bound
# VARCHAR, so its tables keep the 32 they were made with (migration 0013 widens PostgreSQL's).
CUSTOMER = sa.String(160).with_variant(sa.String(32), "sqlite")


def partial_index(name: str, *columns: str, where: str) -> sa.Index:
    """An index over the rows ``where`` holds, on SQLite and PostgreSQL alike."""
    return sa.Index(name, *columns, sqlite_where=sa.text(where), postgresql_where=sa.text(where))


settings = sa.Table(
    "settings",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

channels = sa.Table(
    "channels",
    metadata,
    sa.Column("phone_number_id", sa.String(32), primary_key=True),
    sa.Column("display_phone_number", sa.String(32), nullable=False),
    sa.Column("waba_id", sa.String(32), nullable=False),
    sa.Column("api_key", sa.String(128), nullable=False, unique=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    # ChannelSettings as JSON: later settings need no migration, unknown keys get defaults.
    sa.Column("settings", sa.Text, nullable=False, server_default="{}"),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("wamid", sa.String(128), nullable=False, unique=True),
    sa.Column(
        "channel_id",
        sa.String(32),
        sa.ForeignKey("channels.phone_number_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("recipient", CUSTOMER, nullable=False),  # a phone number or a BSUID
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("biz_opaque_callback_data", sa.Text, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    # The lifecycle's work queue: the next step (check, sent, delivered, read) and when it
    # is due (on the platform's clock). A media check in progress holds a lease until
    # ``leased_until`` (real time, store/leases.py), so a crash retries it.
    sa.Column("next_step", sa.String(16), nullable=True),
    sa.Column("due_at", sa.Float, nullable=True),
    sa.Column("leased_until", sa.Float, nullable=True),
    # Pricing decided at accept (the template's category and the window then): the
    # status webhooks' ``pricing`` (wire-facts §5.3, §6). Null on inbound messages.
    sa.Column("category", sa.String(32), nullable=True),
    sa.Column("pricing_type", sa.String(32), nullable=True),
    # A template's text with its parameters filled in (JSON), for the inbox and search.
    sa.Column("rendered", sa.Text, nullable=True),
    sa.Index("ix_messages_channel_id_id", "channel_id", "id"),
    partial_index("ix_messages_due_at", "due_at", where="due_at IS NOT NULL"),
    partial_index("ix_messages_leased_until", "leased_until", where="leased_until IS NOT NULL"),
)

message_events = sa.Table(
    "message_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column(
        "wamid",
        sa.String(128),
        sa.ForeignKey("messages.wamid", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("details", sa.Text, nullable=True),
)

media = sa.Table(
    "media",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column(
        "channel_id",
        sa.String(32),
        sa.ForeignKey("channels.phone_number_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("mime_type", sa.String(255), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("file_size", sa.BigInteger, nullable=False),
    sa.Column("filename", sa.Text, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    # upload (POST /media) or link (fetched for a message with a link).
    sa.Column("source", sa.String(16), nullable=False, server_default="upload"),
)

# The seed's per-channel cache of fetched links, keyed by the exact URL string.
link_cache = sa.Table(
    "link_cache",
    metadata,
    sa.Column(
        "channel_id",
        sa.String(32),
        sa.ForeignKey("channels.phone_number_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("url_key", sa.String(64), primary_key=True),  # sha256 of the URL: URLs are long
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("policy", sa.String(16), nullable=False),
    sa.Column("media_id", sa.String(32), nullable=False),
    sa.Column("fetched_at", sa.Float, nullable=False),
    sa.Column("fresh_until", sa.Float, nullable=False),
    sa.Column("revalidate", sa.String(24), nullable=True),
    sa.Column("last_modified", sa.Text, nullable=True),
    sa.Column("etag", sa.Text, nullable=True),
)

# Link fetches in flight, shared by the processes on one PostgreSQL database: one fetch per
# (channel, URL, kind) at a time, however many processes need it; the others wait for its
# result here (links/media.py). The lease (real time) hands a dead process's fetch over.
link_flights = sa.Table(
    "link_flights",
    metadata,
    sa.Column(
        "channel_id",
        sa.String(32),
        sa.ForeignKey("channels.phone_number_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("url_key", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("leased_until", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float, nullable=True),  # then the result's columns are set
    sa.Column("media_id", sa.String(32), nullable=True),
    sa.Column("outcome", sa.String(16), nullable=True),  # fetched | revalidated
    sa.Column("origin_status", sa.Integer, nullable=True),
    sa.Column("elapsed", sa.Float, nullable=True),
    sa.Column("failure", sa.Text, nullable=True),  # JSON: reason, details, status
)

# How each media object of an outbound message was obtained (by link: fetched, cache hit,
# revalidated, failed), with the origin's answer, for GET /sandbox/messages and the inbox.
message_media = sa.Table(
    "message_media",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column(
        "wamid",
        sa.String(128),
        sa.ForeignKey("messages.wamid", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("path", sa.String(64), nullable=False),
    sa.Column("link", sa.Text, nullable=True),
    sa.Column("media_id", sa.String(32), nullable=True),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("origin_status", sa.Integer, nullable=True),
    sa.Column("elapsed_ms", sa.Float, nullable=True),
    sa.Column("reason", sa.String(32), nullable=True),
    sa.Column("joined", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.Float, nullable=False),
)

# The webhook outbox: every status change enqueues its webhook in the same transaction.
# The URL, headers and signature are taken from the channel when the POST is made.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column(
        "channel_id",
        sa.String(32),
        sa.ForeignKey("channels.phone_number_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "wamid",
        sa.String(128),
        sa.ForeignKey("messages.wamid", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    # the status, "message" (inbound), or "probe:<kind>" (a receiver security probe)
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # pending | delivered | dead
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.Float, nullable=True),
    sa.Column("leased_until", sa.Float, nullable=True),  # a POST in flight (real time)
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("delivered_at", sa.Float, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    partial_index(
        "ix_webhook_deliveries_next_attempt_at", "next_attempt_at", where="state = 'pending'"
    ),
    sa.Index("ix_webhook_deliveries_channel_id_id", "channel_id", "id"),
    partial_index(
        "ix_webhook_deliveries_leased_until", "leased_until", where="leased_until IS NOT NULL"
    ),
    # The claim walks only a channel's pending webhooks that nobody has in flight, however
    # long its history grows and however many processes POST at once.
    partial_index(
        "ix_webhook_deliveries_claimable",
        "channel_id",
        "id",
        where="state = 'pending' AND leased_until IS NULL",
    ),
)

webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column(
        "delivery_id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("http_status", sa.Integer, nullable=True),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
)

# Scenario rules set through the admin API (those from a TOML file live in memory).
scenarios = sa.Table(
    "scenarios",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

# The customer's side of each (channel, customer): who they are and the 24-hour customer
# service window their last inbound message opened.
conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column(
        "channel_id",
        sa.String(32),
        sa.ForeignKey("channels.phone_number_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # The phone number, or the BSUID of a customer known by username alone.
    sa.Column("wa_id", CUSTOMER, primary_key=True),
    sa.Column("profile_name", sa.String(256), nullable=True),
    sa.Column("username", sa.String(64), nullable=True),
    sa.Column("last_inbound_at", sa.Float, nullable=False),
    sa.Column("window_expires_at", sa.Float, nullable=False),
    # The customer's messages the business has not marked read: kept here by the inbound
    # and mark-read writes, so neither the send path nor the inbox counts rows for it.
    sa.Column("unread", sa.Integer, nullable=False, server_default="0"),
    # The business's typing indicator (a mark-as-read with ``typing_indicator``): shown
    # from ``typing_since`` until ``typing_until`` or the business's next message.
    sa.Column("typing_since", sa.Float, nullable=True),
    sa.Column("typing_until", sa.Float, nullable=True),
    sa.Index("ix_conversations_channel_id", "channel_id", "username"),
)

templates = sa.Table(
    "templates",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column(
        "channel_id",
        sa.String(32),
        sa.ForeignKey("channels.phone_number_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.String(512), nullable=False),
    sa.Column("language", sa.String(16), nullable=False),
    sa.Column("category", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("parameter_format", sa.String(16), nullable=False),  # POSITIONAL or NAMED
    sa.Column("components", sa.Text, nullable=False),  # Meta's component list, as JSON
    sa.Column("rejected_reason", sa.String(64), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("channel_id", "name", "language"),
)
