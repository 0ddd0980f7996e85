"""Conversations in memory."""

from nmc_adapters.memory.conversation.repositories import InMemoryConversations
from nmc_adapters.memory.spec import MemoryContext

__all__ = ["CONTEXT", "InMemoryConversations"]

CONTEXT = MemoryContext(
    tables=("conversations",),
    repositories={
        "conversations": lambda views, _: InMemoryConversations(
            views["conversations"], views["tenants"]
        ),
    },
)
