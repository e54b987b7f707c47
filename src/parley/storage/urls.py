"""The storage URLs users write, mapped to what the adapters open."""

from __future__ import annotations


def async_url(url: str) -> str:
    """Map the URLs users write (``postgresql://``) to SQLAlchemy's asyncpg driver."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("postgresql+asyncpg://"):
        return url
    raise ValueError(f"unsupported storage URL {url!r}: use sqlite:///PATH or postgresql://HOST/DB")


def sqlite_path(url: str) -> str | None:
    """The file of ``sqlite:///PATH`` (also the older ``sqlite+aiosqlite:///PATH``); None if not SQLite."""
    for prefix in ("sqlite:///", "sqlite+aiosqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            return url[len(prefix):]
    return None
