"""Messaging in memory: messages, and a scriptable SMS provider."""

from nmc_adapters.memory.messaging.repositories import InMemoryMessages
from nmc_adapters.memory.messaging.sms import FakeSmsSender, SentSms
from nmc_adapters.memory.spec import MemoryContext

__all__ = ["CONTEXT", "FakeSmsSender", "InMemoryMessages", "SentSms"]

CONTEXT = MemoryContext(
    tables=("messages", "inbound_messages"),
    repositories={
        "messages": lambda views, _: InMemoryMessages(
            views["messages"], views["inbound_messages"], views["tenants"]
        ),
    },
)
