"""Tables of tenancy: the tenants and the global number routing table."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import UUID

from nmc_adapters.postgres.schema import SYSTEM_TABLE, TENANT_ROOT, metadata, timestamp
from nmc_domain.tenancy.template import DEFAULT_AFTER_HOURS

__all__ = ["phone_numbers", "tenants"]

tenants = Table(
    "tenants",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", Text, nullable=False),
    Column("timezone", Text, nullable=False),
    Column("forward_to", Text, nullable=False),
    Column("owner_email", Text, nullable=False),
    # The compliance context's columns (its registration status lives with the tenant's row).
    Column("compliance_status", Text, nullable=False, server_default="pending"),
    Column("compliance_reason", Text),
    Column("text_back_template", Text, nullable=False),
    Column("after_hours_template", Text, nullable=False, server_default=DEFAULT_AFTER_HOURS),
    Column("ring_timeout_seconds", Integer, nullable=False, server_default="18"),
    Column("short_call_threshold_seconds", Integer),
    timestamp("created_at", now=True),
    timestamp("updated_at", now=True),
    CheckConstraint(
        "compliance_status IN ('pending', 'approved', 'rejected')", name="compliance_status_known"
    ),
    CheckConstraint("ring_timeout_seconds BETWEEN 5 AND 600", name="ring_timeout_range"),
    CheckConstraint("short_call_threshold_seconds > 0", name="short_call_threshold_positive"),
    info=TENANT_ROOT,
)

# Global routing table: an E.164 number belongs to exactly one tenant. A system table: routing
# happens before the tenant is known.
phone_numbers = Table(
    "phone_numbers",
    metadata,
    Column("e164", Text, primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    timestamp("created_at", now=True),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    CheckConstraint("e164 ~ '^\\+[1-9][0-9]{6,14}$'", name="e164_shape"),
    Index("phone_numbers_tenant", "tenant_id"),
    info=SYSTEM_TABLE,
)
