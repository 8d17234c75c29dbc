"""link_flights: one link fetch at a time across the processes on one database

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_flights",
        sa.Column(
            "channel_id",
            sa.String(32),
            sa.ForeignKey("channels.phone_number_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("url_key", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("leased_until", sa.Float(), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("media_id", sa.String(32), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("origin_status", sa.Integer(), nullable=True),
        sa.Column("elapsed", sa.Float(), nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("link_flights")
