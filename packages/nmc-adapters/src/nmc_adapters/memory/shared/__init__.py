"""The shared context in memory: the outbox and the webhook event log."""

from nmc_adapters.memory.shared.records import OutboxRow, WebhookEvent
from nmc_adapters.memory.shared.repositories import InMemoryOutbox, InMemoryWebhookEvents
from nmc_adapters.memory.spec import MemoryContext

__all__ = ["CONTEXT", "InMemoryOutbox", "InMemoryWebhookEvents", "OutboxRow", "WebhookEvent"]

CONTEXT = MemoryContext(
    tables=("webhook_events",),
    repositories={
        "outbox": lambda views, session: InMemoryOutbox(session),
        "webhooks": lambda views, session: InMemoryWebhookEvents(
            views["webhook_events"], session.clock
        ),
    },
)
