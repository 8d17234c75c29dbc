"""conversations: the customer's unread messages, counted as they come and are read

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("unread", sa.Integer(), server_default="0", nullable=False))
    op.execute(
        "UPDATE conversations SET unread = (SELECT count(*) FROM messages WHERE "
        "messages.channel_id = conversations.channel_id AND messages.recipient = "
        "conversations.wa_id AND messages.state = 'received')"
    )


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("unread")
