"""Conversations in memory."""

from nmc_adapters.memory.conversation.handoffs import InMemoryHandoffs
from nmc_adapters.memory.conversation.repositories import (
    InMemoryConversations,
    InMemoryConversationSettings,
)
from nmc_adapters.memory.spec import MemoryContext

__all__ = [
    "CONTEXT",
    "InMemoryConversationSettings",
    "InMemoryConversations",
    "InMemoryHandoffs",
]

CONTEXT = MemoryContext(
    tables=("conversations", "conversation_settings", "conversation_handoffs"),
    repositories={
        "conversations": lambda views, _: InMemoryConversations(
            views["conversations"], views["tenants"]
        ),
        "conversation_settings": lambda views, _: InMemoryConversationSettings(
            views["conversation_settings"], views["tenants"]
        ),
        "handoffs": lambda views, _: InMemoryHandoffs(
            views["conversation_handoffs"], views["tenants"]
        ),
    },
)
