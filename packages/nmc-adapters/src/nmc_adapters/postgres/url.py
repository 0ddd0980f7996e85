"""Database URLs: users write plain libpq URLs; SQLAlchemy wants its driver spelled out."""

from __future__ import annotations

__all__ = ["libpq_url", "sqlalchemy_url"]

_PREFIXES = ("postgresql+psycopg://", "postgresql://", "postgres://")


def sqlalchemy_url(url: str) -> str:
    """`postgresql+psycopg://…` for any accepted spelling."""
    for prefix in _PREFIXES:
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url.split('://')[0]}://…")


def libpq_url(url: str) -> str:
    """`postgresql://…` for psycopg's own connections (the LISTEN connection, admin)."""
    return "postgresql://" + sqlalchemy_url(url)[len("postgresql+psycopg://") :]
