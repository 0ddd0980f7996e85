"""Conversations in PostgreSQL."""

from nmc_adapters.postgres.conversation.handoffs import PgHandoffs
from nmc_adapters.postgres.conversation.repository import (
    PgConversations,
    PgConversationSettings,
)

__all__ = ["REPOSITORIES", "PgConversationSettings", "PgConversations", "PgHandoffs"]

REPOSITORIES = {
    "conversations": PgConversations,
    "conversation_settings": PgConversationSettings,
    "handoffs": PgHandoffs,
}
