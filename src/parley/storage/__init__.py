"""Storage adapter: one SQL layer (SQLAlchemy Core) over SQLite and PostgreSQL."""

from parley.storage.database import open_storage
from parley.storage.revisions import check_current, head_revision, migrate

__all__ = ["check_current", "head_revision", "migrate", "open_storage"]
