"""media by link: link cache, per-message media outcomes, channel settings, media source

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channels") as batch:
        batch.add_column(sa.Column("settings", sa.Text(), nullable=False, server_default="{}"))
    with op.batch_alter_table("media") as batch:
        batch.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="upload")
        )
    op.create_table(
        "link_cache",
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("url_key", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("policy", sa.String(length=16), nullable=False),
        sa.Column("media_id", sa.String(length=32), nullable=False),
        sa.Column("fetched_at", sa.Float(), nullable=False),
        sa.Column("fresh_until", sa.Float(), nullable=False),
        sa.Column("revalidate", sa.String(length=24), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.phone_number_id"],
            name=op.f("fk_link_cache_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", "url_key", name=op.f("pk_link_cache")),
    )
    op.create_table(
        "message_media",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("wamid", sa.String(length=128), nullable=False),
        sa.Column("path", sa.String(length=64), nullable=False),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("media_id", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("origin_status", sa.Integer(), nullable=True),
        sa.Column("elapsed_ms", sa.Float(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("joined", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["wamid"],
            ["messages.wamid"],
            name=op.f("fk_message_media_wamid_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_media")),
    )
    op.create_index(op.f("ix_message_media_wamid"), "message_media", ["wamid"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_message_media_wamid"), table_name="message_media")
    op.drop_table("message_media")
    op.drop_table("link_cache")
    with op.batch_alter_table("media") as batch:
        batch.drop_column("source")
    with op.batch_alter_table("channels") as batch:
        batch.drop_column("settings")
