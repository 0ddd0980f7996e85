"""Conversations in PostgreSQL."""

from nmc_adapters.postgres.conversation.repository import PgConversations

__all__ = ["REPOSITORIES", "PgConversations"]

REPOSITORIES = {"conversations": PgConversations}
