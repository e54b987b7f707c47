"""The tables, as SQLAlchemy Core metadata; Alembic migrations create them (see migrations/)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

instances = sa.Table(
    "instances",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("alias", sa.String(64), nullable=False, unique=True),
    sa.Column("created", sa.String(40), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
)

resources = sa.Table(
    "resources",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("instance_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("name", sa.String(256), nullable=True),
    sa.Column("sort_key", sa.String(256), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.UniqueConstraint("instance_id", "kind", "name", name="uq_resources_name"),
    sa.Index("ix_resources_listing", "instance_id", "kind", "sort_key", "id"),
)

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("instance_id", sa.String(64), nullable=False),
    sa.Column("initial_contact_id", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("queue_id", sa.String(64), nullable=True),
    sa.Column("enqueue_time", sa.String(40), nullable=True),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Index("ix_contacts_chain", "initial_contact_id"),
    sa.Index("ix_contacts_queue", "instance_id", "queue_id", "state", "enqueue_time"),
)

participants = sa.Table(
    "participants",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("chat_id", sa.String(64), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Index("ix_participants_chat", "chat_id"),
)

idempotency = sa.Table(
    "idempotency",
    metadata,
    sa.Column("scope", sa.String(200), primary_key=True),
    sa.Column("token", sa.String(500), primary_key=True),
    sa.Column("created", sa.String(40), nullable=False),
    sa.Column("result", sa.JSON, nullable=False),
)
