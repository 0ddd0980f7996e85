"""Conversations: the SMS thread with a caller, its lifecycle, and who answers it."""

from nmc_domain.conversation.model import Conversation, ConversationStatus
from nmc_domain.conversation.ports import ConversationRepository, ConversationUnitOfWork

__all__ = [
    "Conversation",
    "ConversationRepository",
    "ConversationStatus",
    "ConversationUnitOfWork",
]
