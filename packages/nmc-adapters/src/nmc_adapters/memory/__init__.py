"""In-memory fakes of the ports, for unit tests and the contract suites (no I/O at all)."""

from nmc_adapters.memory.outbox import InMemoryOutboxQueue, InMemoryWakeups
from nmc_adapters.memory.sms import FakeSmsSender, SentSms
from nmc_adapters.memory.store import DEFAULT_START, InMemoryStore, OutboxRow, WebhookEvent
from nmc_adapters.memory.uow import InMemoryUnitOfWork

__all__ = [
    "DEFAULT_START",
    "FakeSmsSender",
    "InMemoryOutboxQueue",
    "InMemoryStore",
    "InMemoryUnitOfWork",
    "InMemoryWakeups",
    "OutboxRow",
    "SentSms",
    "WebhookEvent",
]
