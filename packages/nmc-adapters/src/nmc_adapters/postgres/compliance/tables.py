"""Tables of compliance: each tenant's 10DLC submission, each contact's opt-out state, and the
append-only ledger (the registration status itself is on the tenant's row)."""

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
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from nmc_adapters.postgres.schema import metadata, timestamp

__all__ = ["contacts", "opt_outs", "registrations"]

# One current row per tenant: a re-submission replaces it. The domain checks every field; the
# constraints here keep what no check may let through.
registrations = Table(
    "compliance_registrations",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("legal_name", Text, nullable=False),
    Column("tax_id", Text, nullable=False),
    Column("street", Text, nullable=False),
    Column("city", Text, nullable=False),
    Column("region", Text, nullable=False),
    Column("postal_code", Text, nullable=False),
    Column("country", Text, nullable=False),
    Column("website", Text, nullable=False),
    Column("contact_name", Text, nullable=False),
    Column("contact_email", Text, nullable=False),
    Column("contact_phone", Text, nullable=False),
    Column("use_case", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column(
        "sample_messages",
        ARRAY(Text),
        nullable=False,
        info={"example": ["Hi, this is ACME Plumbing.", "Reply STOP to opt out."]},
    ),
    Column("consent_description", Text, nullable=False),
    timestamp("submitted_at"),
    PrimaryKeyConstraint("tenant_id", name="compliance_registrations_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    CheckConstraint("use_case IN ('CUSTOMER_CARE')", name="registration_use_case_known"),
    CheckConstraint(
        "cardinality(sample_messages) BETWEEN 2 AND 5", name="registration_samples_count"
    ),
)

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
