"""the claim's index holds only pending webhooks nobody has in flight

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_webhook_deliveries_pending_channel_id_id", table_name="webhook_deliveries")
    op.create_index(
        "ix_webhook_deliveries_claimable",
        "webhook_deliveries",
        ["channel_id", "id"],
        sqlite_where=sa.text("state = 'pending' AND leased_until IS NULL"),
        postgresql_where=sa.text("state = 'pending' AND leased_until IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_claimable", table_name="webhook_deliveries")
    op.create_index(
        "ix_webhook_deliveries_pending_channel_id_id",
        "webhook_deliveries",
        ["channel_id", "id"],
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    )
