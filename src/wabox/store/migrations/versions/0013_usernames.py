"""conversations: the customer's username; customers keyed by BSUID need longer keys

A customer who reaches a business by username with no phone number shared is known by
its business-scoped user ID, up to 131 characters (Meta: ISO country, ".", up to 128
alphanumerics), so the customer columns grow from 32 to 160 characters.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("username", sa.String(64), nullable=True))
    # A customer who writes by username alone is found by it.
    op.create_index("ix_conversations_channel_id", "conversations", ["channel_id", "username"])
    if op.get_bind().dialect.name == "postgresql":  # SQLite does not bound VARCHAR
        op.alter_column("conversations", "wa_id", type_=sa.String(160))
        op.alter_column("messages", "recipient", type_=sa.String(160))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("messages", "recipient", type_=sa.String(32))
        op.alter_column("conversations", "wa_id", type_=sa.String(32))
    op.drop_index("ix_conversations_channel_id", table_name="conversations")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("username")
