"""Identity in PostgreSQL: users."""

from nmc_adapters.postgres.identity.repository import PgUsers

__all__ = ["REPOSITORIES", "PgUsers"]

REPOSITORIES = {"users": PgUsers}
