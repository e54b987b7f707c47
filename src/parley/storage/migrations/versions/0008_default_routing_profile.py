"""Each instance's default routing profile says so: ``builtin`` in the data of the profile it was created with.

Connect's ``IsDefault`` was decided from the profile's name; the flag is set when an instance is created since, and
here on the profile a new instance gets ("Basic Routing Profile", which no operation renames) in older databases.
Downgrading leaves the flag in place: older code ignores keys it does not know.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The name builtin_resources (parley.service.instances) gives the routing profile of a new instance.
BASIC_ROUTING_PROFILE = "Basic Routing Profile"


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, CAST(data AS TEXT) FROM resources WHERE kind = 'routing_profile' AND name = :name"),
        {"name": BASIC_ROUTING_PROFILE},
    ).all()
    for resource_id, text in rows:
        data = json.loads(text)
        if data.get("builtin") is not True:
            data["builtin"] = True
            bind.execute(
                sa.text("UPDATE resources SET data = :data WHERE id = :id AND kind = 'routing_profile'"),
                {"data": json.dumps(data), "id": resource_id},
            )


def downgrade() -> None:
    pass
