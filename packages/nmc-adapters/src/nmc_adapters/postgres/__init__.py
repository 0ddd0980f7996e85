"""PostgreSQL adapters: schema, migrations, unit of work, outbox, embedded cluster."""

from nmc_adapters.postgres.embedded import EmbeddedPostgres, PostgresUnavailable
from nmc_adapters.postgres.shared.outbox import PgOutboxQueue, PgWakeups
from nmc_adapters.postgres.shared.outbox_admin import PgOutboxAdmin
from nmc_adapters.postgres.uow import PgUnitOfWork, create_engine, is_reachable
from nmc_adapters.postgres.url import libpq_url, sqlalchemy_url

__all__ = [
    "EmbeddedPostgres",
    "PgOutboxAdmin",
    "PgOutboxQueue",
    "PgUnitOfWork",
    "PgWakeups",
    "PostgresUnavailable",
    "create_engine",
    "is_reachable",
    "libpq_url",
    "sqlalchemy_url",
]
