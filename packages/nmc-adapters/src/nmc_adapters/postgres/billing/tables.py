"""Tables of billing: each tenant's subscription mirror, and the customer routing table."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from nmc_adapters.postgres.schema import SYSTEM_TABLE, metadata, timestamp

__all__ = ["customers", "subscriptions"]

# One row per tenant: Stripe's latest word on its subscription (status NULL until Stripe has
# one: a customer made at checkout, say).
subscriptions = Table(
    "bill_subscriptions",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", Text, nullable=False),
    Column("subscription_id", Text),
    Column("status", Text),
    Column("price_id", Text),
    timestamp("current_period_end", nullable=True),
    Column("cancel_at_period_end", Boolean, nullable=False, server_default=text("false")),
    timestamp("updated_at", now=True),
    # When the status last changed: a past_due grace counts from it.
    timestamp("status_since", nullable=True),
    PrimaryKeyConstraint("tenant_id", name="bill_subscriptions_pkey"),
    UniqueConstraint("customer_id", name="bill_subscriptions_one_per_customer"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    CheckConstraint(
        "status IN ('incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', "
        "'canceled', 'unpaid', 'paused')",
        name="subscription_status_known",
    ),
)

# Routing table: Stripe's events name a customer, and the tenant is not known until it is
# looked up here (row-level security cannot guard a row read to find out whose it is). A system
# table, like phone_numbers; written with the mirror's row, in the same transaction.
customers = Table(
    "bill_customers",
    metadata,
    Column("customer_id", Text, nullable=False),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    PrimaryKeyConstraint("customer_id", name="bill_customers_pkey"),
    UniqueConstraint("tenant_id", name="bill_customers_one_per_tenant"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    info=SYSTEM_TABLE,
)
