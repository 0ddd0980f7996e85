"""Tables of compliance: each contact's opt-out state, and the append-only ledger."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
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

__all__ = ["contacts", "opt_outs"]

contacts = Table(
    "contacts",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("phone", Text, nullable=False),
    Column("opted_out", Boolean, nullable=False, server_default=text("false")),
    Column("textable", Boolean, nullable=False, server_default=text("true")),
    Column("not_textable_reason", Text),
    timestamp("updated_at", now=True),
    PrimaryKeyConstraint("tenant_id", "phone", name="contacts_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
)

# Append-only: rows are added, never changed or removed (the contact row holds the state).
opt_outs = Table(
    "opt_outs",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("phone", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("message_id", UUID(as_uuid=True)),
    timestamp("occurred_at"),
    PrimaryKeyConstraint("tenant_id", "id", name="opt_outs_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    CheckConstraint("action IN ('opt_out', 'opt_in')", name="opt_out_action_known"),
    CheckConstraint("source IN ('keyword', 'carrier')", name="opt_out_source_known"),
    Index("opt_outs_by_time", "tenant_id", "occurred_at", "id"),
)
