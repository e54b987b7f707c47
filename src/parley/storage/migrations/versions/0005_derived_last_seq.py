"""A chat's last seq is read from its items instead of kept in ``chats.last_seq``.

The column was updated by every commit that stored an item: one more statement, and one more page of the chats'
table written per chat the commit touched. The highest ``chat_items.seq`` of the chat (one seek in the items'
primary key) is the same number and cannot disagree with the items. Downgrading puts the column back with that
number.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("last_seq")


def downgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("last_seq", sa.BigInteger, nullable=False, server_default="0"))
    op.execute("UPDATE chats SET last_seq = COALESCE("
               "(SELECT MAX(chat_items.seq) FROM chat_items WHERE chat_items.chat_id = chats.id), 0)")
    with op.batch_alter_table("chats") as batch:
        batch.alter_column("last_seq", server_default=None)
