"""Canned responses: one row per saved reply, of an instance's shared list (``owner`` empty) or of one agent
(``owner`` the user's id), its name unique in its list (the reply itself in ``data``).

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


def key(length: int) -> sa.types.TypeEngine[str]:
    """Byte-wise string columns on every backend (see migration 0003)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "canned_responses",
        sa.Column("id", key(64), primary_key=True),
        sa.Column("instance_id", key(64), nullable=False),
        sa.Column("owner", key(64), nullable=False),
        sa.Column("name", key(256), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.UniqueConstraint("instance_id", "owner", "name", name="uq_canned_responses_name"),
    )


def downgrade() -> None:
    op.drop_table("canned_responses")
