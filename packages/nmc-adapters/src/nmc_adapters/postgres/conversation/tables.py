"""Tables of conversations."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    PrimaryKeyConstraint,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from nmc_adapters.postgres.schema import metadata, timestamp

__all__ = ["conversations"]

conversations = Table(
    "conversations",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("caller", Text, nullable=False),
    Column("status", Text, nullable=False),
    timestamp("opened_at"),
    timestamp("closed_at", nullable=True),
    PrimaryKeyConstraint("tenant_id", "id", name="conversations_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    CheckConstraint("status IN ('open', 'closed')", name="conversation_status_known"),
    # At most one open conversation per caller: "open or find" is an upsert on this index.
    Index(
        "conversations_one_open_per_caller",
        "tenant_id",
        "caller",
        unique=True,
        postgresql_where=text("status = 'open'"),
    ),
)
