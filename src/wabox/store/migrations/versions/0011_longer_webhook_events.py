"""webhook_deliveries.event holds up to 32 characters (receiver probes: probe:<kind>)

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.alter_column("event", type_=sa.String(32), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.alter_column("event", type_=sa.String(16), existing_nullable=False)
