"""PostgreSQL adapters every context shares: the outbox and the webhook event log."""

from nmc_adapters.postgres.shared.outbox import PgOutbox, PgOutboxQueue, PgWakeups
from nmc_adapters.postgres.shared.outbox_admin import PgOutboxAdmin
from nmc_adapters.postgres.shared.webhooks import PgWebhookEvents

__all__ = [
    "REPOSITORIES",
    "PgOutbox",
    "PgOutboxAdmin",
    "PgOutboxQueue",
    "PgWakeups",
    "PgWebhookEvents",
]

# The unit of work's attributes this context provides (each built on the transaction).
REPOSITORIES = {"outbox": PgOutbox, "webhooks": PgWebhookEvents}
