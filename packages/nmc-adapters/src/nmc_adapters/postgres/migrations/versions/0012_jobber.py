"""Jobber: each tenant's link (sealed tokens, last sync, drift), the account routing table, and
the visit -> job map of the visits that have busy blocks.

`jobber_links` and `jobber_visits` are tenant tables (row-level security). Jobber's webhooks
name an account, not a tenant: `jobber_accounts` routes it before any tenant is bound (a
system table, like bill_customers), and the 15-minute poll lists the connected tenants there.
The blocks themselves are busy_blocks rows with source 'jobber' and the visit's id.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-16
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from nmc_adapters.postgres.migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _timestamp(name: str, *, nullable: bool = False, now: bool = False) -> sa.Column[object]:
    default = sa.text("now()") if now else None
    return sa.Column(
        name, postgresql.TIMESTAMP(timezone=True), server_default=default, nullable=nullable
    )


def upgrade() -> None:
    op.create_table(
        "jobber_links",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("account_name", sa.Text(), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        _timestamp("access_expires_at"),
        _timestamp("connected_at"),
        _timestamp("last_synced_at", nullable=True),
        sa.Column("last_sync_error", sa.Text(), nullable=True),
        sa.Column("drift_last", sa.Integer(), nullable=True),
        sa.Column("drift_streak", sa.Integer(), server_default="0", nullable=False),
        _timestamp("updated_at", now=True),
        sa.CheckConstraint(
            "drift_streak >= 0 AND (drift_last IS NULL OR drift_last >= 0)",
            name="jobber_drift_counts",
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", name="jobber_links_pkey"),
        sa.UniqueConstraint("account_id", name="jobber_links_one_per_account"),
    )
    enable_tenant_rls("jobber_links")
    op.create_table(
        "jobber_accounts",
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", name="jobber_accounts_pkey"),
        sa.UniqueConstraint("tenant_id", name="jobber_accounts_one_per_tenant"),
    )
    op.create_table(
        "jobber_visits",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("visit_id", sa.Text(), nullable=False),
        sa.Column("job_id", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "visit_id", name="jobber_visits_pkey"),
    )
    op.create_index("jobber_visits_by_job", "jobber_visits", ["tenant_id", "job_id"])
    enable_tenant_rls("jobber_visits")
    # A Jobber visit's blocks are found without knowing whose they are (its assignees change).
    op.create_index(
        "busy_blocks_by_external_id", "busy_blocks", ["tenant_id", "source", "external_id"]
    )


def downgrade() -> None:
    op.drop_index("busy_blocks_by_external_id", table_name="busy_blocks")
    disable_tenant_rls("jobber_visits")
    op.drop_index("jobber_visits_by_job", table_name="jobber_visits")
    op.drop_table("jobber_visits")
    op.drop_table("jobber_accounts")
    disable_tenant_rls("jobber_links")
    op.drop_table("jobber_links")
