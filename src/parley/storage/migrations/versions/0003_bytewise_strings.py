"""Compare strings byte-wise on PostgreSQL: every string column gets ``COLLATE "C"``.

Listings are keyset-paged on ``(sort_key, id)`` and ``(created, id)``, services page in Python over rows the
database sorted, and timestamps are compared as ISO-8601 strings. All of that needs the database to order
strings exactly as Python (and SQLite) do. A PostgreSQL database created with a linguistic default
collation (``en_US.UTF-8``, ICU) ignores or reorders punctuation: unnamed resources (``~id``) sorted first
and ``…09.5+00:00`` sorted before ``…09+00:00``. SQLite compares byte-wise already: nothing to do there.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The tables that exist at this revision.
TABLES = (
    "instances", "resources", "contacts", "participants", "idempotency", "chats", "chat_items", "connections",
    "attachments",
)

_COLUMNS = sa.text(
    "SELECT table_name, column_name, character_maximum_length FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND data_type = 'character varying' "
    "AND table_name = ANY(:tables) ORDER BY table_name, ordinal_position"
)


def _set_collation(collation: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table, column, length in bind.execute(_COLUMNS, {"tables": list(TABLES)}).all():
        size = f"({int(length)})" if length is not None else ""
        op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE varchar{size} COLLATE {collation}')


def upgrade() -> None:
    _set_collation('"C"')


def downgrade() -> None:
    _set_collation('"default"')
