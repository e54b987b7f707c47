"""Initial schema: instances, configuration resources, contacts, participants, idempotency.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instances",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("alias", sa.String(64), nullable=False, unique=True),
        sa.Column("created", sa.String(40), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_table(
        "resources",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("instance_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(256), nullable=True),
        sa.Column("sort_key", sa.String(256), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.UniqueConstraint("instance_id", "kind", "name", name="uq_resources_name"),
    )
    op.create_index("ix_resources_listing", "resources", ["instance_id", "kind", "sort_key", "id"])
    op.create_table(
        "contacts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("instance_id", sa.String(64), nullable=False),
        sa.Column("initial_contact_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("queue_id", sa.String(64), nullable=True),
        sa.Column("enqueue_time", sa.String(40), nullable=True),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index("ix_contacts_chain", "contacts", ["initial_contact_id"])
    op.create_index("ix_contacts_queue", "contacts", ["instance_id", "queue_id", "state", "enqueue_time"])
    op.create_table(
        "participants",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index("ix_participants_chat", "participants", ["chat_id"])
    op.create_table(
        "idempotency",
        sa.Column("scope", sa.String(200), primary_key=True),
        sa.Column("token", sa.String(500), primary_key=True),
        sa.Column("created", sa.String(40), nullable=False),
        sa.Column("result", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    for table in ("idempotency", "participants", "contacts", "resources", "instances"):
        op.drop_table(table)
