"""Billing: the Stripe subscription mirror, its customer routing, and texts a lapsed plan held.

`bill_subscriptions` mirrors each tenant's subscription (tenant row-level security). Stripe's
webhooks name a customer, not a tenant: `bill_customers` routes a customer id to its tenant
before any tenant is bound, as `phone_numbers` routes a number (a system table). A SECURITY
DEFINER lookup would not do: the definer is the tables' owner, and FORCE row-level security
holds the owner too, unless it is a superuser (the migration role need not be one).
Inbound texts the assistant left unanswered because billing was inactive say so
(`messages.suppressed_reason`); calls record the same reason in their free `reason` column.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from nmc_adapters.postgres.migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Kept literally (not read from the domain) so this migration never changes once shipped.
TABLE = "bill_subscriptions"
STATUSES = (
    "('incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', "
    "'unpaid', 'paused')"
)
SUPPRESSED_REASONS = "('billing_inactive')"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("subscription_id", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("price_id", sa.Text(), nullable=True),
        sa.Column("current_period_end", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column(
            "cancel_at_period_end", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "updated_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("status_since", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.CheckConstraint(f"status IN {STATUSES}", name="subscription_status_known"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", name="bill_subscriptions_pkey"),
        sa.UniqueConstraint("customer_id", name="bill_subscriptions_one_per_customer"),
    )
    enable_tenant_rls(TABLE)
    op.create_table(
        "bill_customers",
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("customer_id", name="bill_customers_pkey"),
        sa.UniqueConstraint("tenant_id", name="bill_customers_one_per_tenant"),
    )
    op.add_column("messages", sa.Column("suppressed_reason", sa.Text(), nullable=True))
    op.create_check_constraint(
        "message_suppressed_reason_known",
        "messages",
        f"suppressed_reason IN {SUPPRESSED_REASONS}",
    )


def downgrade() -> None:
    op.drop_constraint("message_suppressed_reason_known", "messages", type_="check")
    op.drop_column("messages", "suppressed_reason")
    op.drop_table("bill_customers")
    disable_tenant_rls(TABLE)
    op.drop_table(TABLE)
