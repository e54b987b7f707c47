"""The audit trail: one row per configuration change of an instance (who, what, when in ``data``), numbered in the
order the changes were stored, indexed for the newest first of an instance and of one kind of resource.

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


def key(length: int) -> sa.types.TypeEngine[str]:
    """Byte-wise string columns on every backend (see migration 0003)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "audit_events",
        # SQLite numbers only an INTEGER PRIMARY KEY by itself; PostgreSQL gets a BIGINT with a sequence.
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("instance_id", key(64), nullable=False),
        sa.Column("resource_type", key(32), nullable=False),
        sa.Column("time", key(40), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_events_instance", "audit_events", ["instance_id", "seq"])
    op.create_index("ix_audit_events_type", "audit_events", ["instance_id", "resource_type", "seq"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_type", table_name="audit_events")
    op.drop_index("ix_audit_events_instance", table_name="audit_events")
    op.drop_table("audit_events")
