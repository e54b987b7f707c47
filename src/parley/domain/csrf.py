"""The double-submit CSRF token every form of Parley uses (the sign-in pages' and the pages for people's): what a
token looks like, a new one, and the constant-time comparison of the cookie's copy with the submitted one. Which
cookie carries it (name, path, SameSite) is each surface's own."""

from __future__ import annotations

import hmac
import secrets

# Length of ``secrets.token_urlsafe(32)``, the only token shape Parley hands out.
TOKEN_LENGTH = 43


def new_token() -> str:
    return secrets.token_urlsafe(32)


def plausible(value: str | None) -> bool:
    """True for a value shaped like the tokens Parley hands out (safe to echo into a cookie or a form)."""
    return (value is not None and len(value) == TOKEN_LENGTH and value.isascii()
            and value.replace("-", "").replace("_", "").isalnum())


def same(cookie: str | None, submitted: str | None) -> bool:
    """Both copies present and equal (compared in constant time)."""
    return bool(cookie) and bool(submitted) and hmac.compare_digest(str(cookie).encode(), str(submitted).encode())
