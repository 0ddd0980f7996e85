"""Conversations in PostgreSQL."""

from nmc_adapters.postgres.conversation.repository import (
    PgConversations,
    PgConversationSettings,
)

__all__ = ["REPOSITORIES", "PgConversationSettings", "PgConversations"]

REPOSITORIES = {
    "conversations": PgConversations,
    "conversation_settings": PgConversationSettings,
}
