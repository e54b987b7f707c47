"""Storage adapter: one SQL layer (SQLAlchemy Core) over SQLite and PostgreSQL."""

from parley.storage.database import open_storage

__all__ = ["open_storage"]
