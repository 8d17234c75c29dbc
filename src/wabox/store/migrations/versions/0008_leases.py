"""leases on real time: a claimed media check or webhook POST holds ``leased_until``

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("messages", "webhook_deliveries"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("leased_until", sa.Float(), nullable=True))
        op.create_index(
            f"ix_{table}_leased_until",
            table,
            ["leased_until"],
            sqlite_where=sa.text("leased_until IS NOT NULL"),
            postgresql_where=sa.text("leased_until IS NOT NULL"),
        )


def downgrade() -> None:
    for table in ("messages", "webhook_deliveries"):
        op.drop_index(f"ix_{table}_leased_until", table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("leased_until")
