"""templates per channel; messages keep their pricing and a template's rendered text

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("category", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("pricing_type", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("rendered", sa.Text(), nullable=True))
    # What the webhooks said before: templates billed as utility, the rest free service.
    op.execute(
        "UPDATE messages SET category = CASE WHEN type = 'template' THEN 'utility' "
        "ELSE 'service' END, pricing_type = CASE WHEN type = 'template' THEN 'regular' "
        "ELSE 'free_customer_service' END WHERE direction = 'outbound'"
    )
    op.create_table(
        "templates",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("parameter_format", sa.String(length=16), nullable=False),
        sa.Column("components", sa.Text(), nullable=False),
        sa.Column("rejected_reason", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.phone_number_id"],
            name=op.f("fk_templates_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_templates")),
        sa.UniqueConstraint("channel_id", "name", "language", name=op.f("uq_templates_channel_id")),
    )


def downgrade() -> None:
    op.drop_table("templates")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("rendered")
        batch.drop_column("pricing_type")
        batch.drop_column("category")
