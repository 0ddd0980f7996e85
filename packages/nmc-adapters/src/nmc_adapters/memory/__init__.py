"""In-memory fakes of the ports, arranged by context like the domain (no I/O at all).

They stay in the library: embedding NMC in someone else's tests is one of its uses.
"""

from nmc_adapters.memory.messaging.sms import FakeSmsSender, SentSms
from nmc_adapters.memory.shared.queue import InMemoryOutboxQueue, InMemoryWakeups
from nmc_adapters.memory.shared.records import OutboxRow, WebhookEvent
from nmc_adapters.memory.store import DEFAULT_START, InMemoryStore
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
