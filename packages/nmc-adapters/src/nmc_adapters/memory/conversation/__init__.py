"""Conversations in memory."""

from nmc_adapters.memory.conversation.repositories import (
    InMemoryConversations,
    InMemoryConversationSettings,
)
from nmc_adapters.memory.spec import MemoryContext

__all__ = ["CONTEXT", "InMemoryConversationSettings", "InMemoryConversations"]

CONTEXT = MemoryContext(
    tables=("conversations", "conversation_settings"),
    repositories={
        "conversations": lambda views, _: InMemoryConversations(
            views["conversations"], views["tenants"]
        ),
        "conversation_settings": lambda views, _: InMemoryConversationSettings(
            views["conversation_settings"], views["tenants"]
        ),
    },
)
