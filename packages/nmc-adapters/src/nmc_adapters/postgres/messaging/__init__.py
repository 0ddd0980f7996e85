"""Messaging in PostgreSQL: messages."""

from nmc_adapters.postgres.messaging.repository import PgMessages

__all__ = ["REPOSITORIES", "PgMessages"]

REPOSITORIES = {"messages": PgMessages}
