"""Schema migrations (Alembic) as functions the CLI and the tests call."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

__all__ = ["downgrade", "upgrade"]


def _config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "nmc_adapters.postgres:migrations")
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate up to `revision` (default: the newest)."""
    command.upgrade(_config(database_url), revision)


def downgrade(database_url: str, revision: str = "-1") -> None:
    """Migrate down to `revision` (default: one step; "base" removes everything)."""
    command.downgrade(_config(database_url), revision)


def revision(database_url: str, message: str, *, autogenerate: bool = True) -> None:
    """Write a new migration script (for developers)."""
    command.revision(_config(database_url), message=message, autogenerate=autogenerate)
