"""Agents: sign-in sessions and access tokens, agent presence (state, idle time), segments by agent.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def key(length: int) -> sa.types.TypeEngine[str]:
    """Byte-wise string columns on every backend (see migration 0003)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "agent_sessions",
        sa.Column("token_hash", key(64), primary_key=True),
        sa.Column("kind", key(16), nullable=False),
        sa.Column("instance_id", key(64), nullable=False),
        sa.Column("user_id", key(64), nullable=False),
        sa.Column("created", key(40), nullable=False),
        sa.Column("expires", key(40), nullable=False),
    )
    op.create_index("ix_agent_sessions_user", "agent_sessions", ["user_id"])
    op.create_table(
        "agents",
        sa.Column("user_id", key(64), primary_key=True),
        sa.Column("instance_id", key(64), nullable=False),
        sa.Column("routable", sa.Boolean, nullable=False),
        sa.Column("idle_since", key(40), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index("ix_agents_routable", "agents", ["instance_id", "routable", "idle_since"])
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("agent_user_id", key(64), nullable=True))
    op.create_index("ix_contacts_agent", "contacts", ["agent_user_id", "state"])
    op.create_index("ix_contacts_state", "contacts", ["instance_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_contacts_state", "contacts")
    op.drop_index("ix_contacts_agent", "contacts")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("agent_user_id")
    op.drop_table("agents")
    op.drop_table("agent_sessions")
