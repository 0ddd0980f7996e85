"""Tables every context shares: provider webhook events and the outbox."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB, UUID

from nmc_adapters.postgres.schema import SYSTEM_TABLE, metadata, timestamp

__all__ = ["outbox_events", "webhook_events"]

# A replay is recognised by this primary key, not by a read-then-write. A system table: a
# provider's event is remembered before (and whether or not) a tenant is found for it.
webhook_events = Table(
    "webhook_events",
    metadata,
    Column("provider", Text, nullable=False),
    Column("event_key", Text, nullable=False),
    Column("tenant_id", UUID(as_uuid=True)),
    Column("payload", JSONB, nullable=False),
    timestamp("received_at", now=True),
    PrimaryKeyConstraint("provider", "event_key", name="webhook_events_pkey"),
    Index("webhook_events_received", "received_at"),
    info=SYSTEM_TABLE,
)

# A system table: the workers claim every tenant's rows.
outbox_events = Table(
    "outbox_events",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True)),
    Column("topic", Text, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("schema_version", Integer, nullable=False),
    timestamp("available_at", now=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    timestamp("dispatched_at", nullable=True),
    timestamp("dead_at", nullable=True),
    timestamp("created_at", now=True),
    # The current claim's token: only its holder may finish, retry or bury the row.
    Column("lease_token", UUID(as_uuid=True)),
    # Set aside for a person (`nmc replay list --needs-review`): not pending, not dead.
    timestamp("needs_review_at", nullable=True),
    # The request (webhook, API call) that wrote the row: the worker's log lines carry it.
    Column("request_id", Text),
    # Claims of this row that lapsed (its worker died or hung past the lease).
    Column("reclaims", Integer, nullable=False, server_default="0"),
    # The last requeue (`nmc replay`): the retry budget counts from it rather than created_at.
    timestamp("requeued_at", nullable=True),
    # Pending rows by due time (dispatched, dead and set-aside rows drop out): the claim finds
    # due rows without walking timers set for later (idle checks).
    Index(
        "outbox_events_due",
        "available_at",
        "id",
        postgresql_where=sql_text(
            "dispatched_at IS NULL AND dead_at IS NULL AND needs_review_at IS NULL"
        ),
    ),
    # Finished rows by age, for the retention purge.
    Index(
        "outbox_events_finished",
        "created_at",
        postgresql_where=sql_text("dispatched_at IS NOT NULL OR dead_at IS NOT NULL"),
    ),
    info=SYSTEM_TABLE,
)
