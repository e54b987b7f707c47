"""The tables, as SQLAlchemy Core metadata; Alembic migrations create them (see migrations/)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()


def key_string(length: int) -> sa.types.TypeEngine[str]:
    """A string column that compares byte-wise on every backend, as Python compares ``str``.

    SQLite does so already; on PostgreSQL the column gets ``COLLATE "C"`` whatever the database's default
    collation (migration 0003), so keyset paging, ``ORDER BY`` and ISO-8601 timestamp comparisons agree
    with Python. Every string column uses it, and new migrations must create string columns with it.
    """
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


instances = sa.Table(
    "instances",
    metadata,
    sa.Column("id", key_string(64), primary_key=True),
    sa.Column("alias", key_string(64), nullable=False, unique=True),
    sa.Column("created", key_string(40), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
)

resources = sa.Table(
    "resources",
    metadata,
    sa.Column("id", key_string(64), primary_key=True),
    sa.Column("instance_id", key_string(64), nullable=False),
    sa.Column("kind", key_string(32), nullable=False),
    sa.Column("name", key_string(256), nullable=True),
    sa.Column("sort_key", key_string(256), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.UniqueConstraint("instance_id", "kind", "name", name="uq_resources_name"),
    sa.Index("ix_resources_listing", "instance_id", "kind", "sort_key", "id"),
)

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("id", key_string(64), primary_key=True),
    sa.Column("instance_id", key_string(64), nullable=False),
    sa.Column("initial_contact_id", key_string(64), nullable=False),
    sa.Column("state", key_string(16), nullable=False),
    sa.Column("queue_id", key_string(64), nullable=True),
    sa.Column("enqueue_time", key_string(40), nullable=True),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("agent_user_id", key_string(64), nullable=True),
    sa.Index("ix_contacts_chain", "initial_contact_id"),
    sa.Index("ix_contacts_queue", "instance_id", "queue_id", "state", "enqueue_time"),
    sa.Index("ix_contacts_agent", "agent_user_id", "state"),
    sa.Index("ix_contacts_state", "instance_id", "state"),
    # The router's scans of every instance (queued contacts, offers to expire), in their order.
    sa.Index("ix_contacts_state_order", "state", "enqueue_time", "id"),
)

participants = sa.Table(
    "participants",
    metadata,
    sa.Column("id", key_string(64), primary_key=True),
    sa.Column("chat_id", key_string(64), nullable=False),
    sa.Column("token_hash", key_string(64), nullable=False, unique=True),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Index("ix_participants_chat", "chat_id"),
)

idempotency = sa.Table(
    "idempotency",
    metadata,
    sa.Column("scope", key_string(200), primary_key=True),
    sa.Column("token", key_string(500), primary_key=True),
    sa.Column("created", key_string(40), nullable=False),
    sa.Column("result", sa.JSON, nullable=False),
)

chats = sa.Table(
    "chats",
    metadata,
    sa.Column("id", key_string(64), primary_key=True),
    sa.Column("instance_id", key_string(64), nullable=False),
    sa.Column("ended", sa.Boolean, nullable=False),
    sa.Column("expires_at", key_string(40), nullable=False),
    sa.Index("ix_chats_expiry", "ended", "expires_at"),
)

chat_items = sa.Table(
    "chat_items",
    metadata,
    sa.Column("chat_id", key_string(64), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("id", key_string(64), nullable=False, unique=True),
    sa.Column("absolute_time", key_string(40), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
)

connections = sa.Table(
    "connections",
    metadata,
    sa.Column("token_hash", key_string(64), primary_key=True),
    sa.Column("kind", key_string(16), nullable=False),
    sa.Column("participant_id", key_string(64), nullable=False),
    sa.Column("expires", key_string(40), nullable=False),
    sa.Index("ix_connections_participant", "participant_id"),
)

attachments = sa.Table(
    "attachments",
    metadata,
    sa.Column("id", key_string(64), primary_key=True),
    sa.Column("chat_id", key_string(64), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Index("ix_attachments_chat", "chat_id"),
)

agent_sessions = sa.Table(
    "agent_sessions",
    metadata,
    sa.Column("token_hash", key_string(64), primary_key=True),
    sa.Column("kind", key_string(16), nullable=False),
    sa.Column("instance_id", key_string(64), nullable=False),
    sa.Column("user_id", key_string(64), nullable=False),
    sa.Column("created", key_string(40), nullable=False),
    sa.Column("expires", key_string(40), nullable=False),
    sa.Index("ix_agent_sessions_user", "user_id"),
)

agents = sa.Table(
    "agents",
    metadata,
    sa.Column("user_id", key_string(64), primary_key=True),
    sa.Column("instance_id", key_string(64), nullable=False),
    sa.Column("routable", sa.Boolean, nullable=False),
    sa.Column("idle_since", key_string(40), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Index("ix_agents_routable", "instance_id", "routable", "idle_since"),
)

widgets = sa.Table(
    "widgets",
    metadata,
    sa.Column("id", key_string(64), primary_key=True),
    sa.Column("instance_id", key_string(64), nullable=False),
    sa.Column("name", key_string(256), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.UniqueConstraint("instance_id", "name", name="uq_widgets_name"),
)

# Canned responses (parley.domain.canned): ``owner`` is the agent's user id, or '' for the instance's shared list.
canned_responses = sa.Table(
    "canned_responses",
    metadata,
    sa.Column("id", key_string(64), primary_key=True),
    sa.Column("instance_id", key_string(64), nullable=False),
    sa.Column("owner", key_string(64), nullable=False),
    sa.Column("name", key_string(256), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.UniqueConstraint("instance_id", "owner", "name", name="uq_canned_responses_name"),
)

# The audit trail (parley.domain.audit): one row per configuration change, ``seq`` in the order they were stored.
audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("instance_id", key_string(64), nullable=False),
    sa.Column("resource_type", key_string(32), nullable=False),
    sa.Column("time", key_string(40), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Index("ix_audit_events_instance", "instance_id", "seq"),
    sa.Index("ix_audit_events_type", "instance_id", "resource_type", "seq"),
)
