"""Alembic migrations of Parley's schema; applied at start-up by :mod:`parley.storage.database`."""
