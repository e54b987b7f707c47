"""Chat widgets: one row per embeddable widget, its name unique per instance (the settings in ``data``).

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


def key(length: int) -> sa.types.TypeEngine[str]:
    """Byte-wise string columns on every backend (see migration 0003)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "widgets",
        sa.Column("id", key(64), primary_key=True),
        sa.Column("instance_id", key(64), nullable=False),
        sa.Column("name", key(256), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.UniqueConstraint("instance_id", "name", name="uq_widgets_name"),
    )


def downgrade() -> None:
    op.drop_table("widgets")
