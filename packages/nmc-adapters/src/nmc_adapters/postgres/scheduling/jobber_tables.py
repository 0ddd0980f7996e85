"""Tables of the Jobber connection: each tenant's link, the account routing table, and the
visit -> job map of the visits that have busy blocks (the blocks live in `busy_blocks`)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import UUID

from nmc_adapters.postgres.schema import SYSTEM_TABLE, metadata, timestamp

__all__ = ["jobber_accounts", "jobber_links", "jobber_visits"]

# One row per connected tenant; the tokens are sealed (Fernet, NMC_SECRET_KEY).
jobber_links = Table(
    "jobber_links",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("account_id", Text, nullable=False),
    Column("account_name", Text, nullable=False),
    Column("access_token", Text, nullable=False),
    Column("refresh_token", Text, nullable=False),
    timestamp("access_expires_at"),
    timestamp("connected_at"),
    timestamp("last_synced_at", nullable=True),
    Column("last_sync_error", Text),
    # Rows the last poll changed that no webhook had announced, and polls in a row with some.
    Column("drift_last", Integer),
    Column("drift_streak", Integer, nullable=False, server_default="0"),
    timestamp("updated_at", now=True),
    PrimaryKeyConstraint("tenant_id", name="jobber_links_pkey"),
    UniqueConstraint("account_id", name="jobber_links_one_per_account"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    CheckConstraint(
        "drift_streak >= 0 AND (drift_last IS NULL OR drift_last >= 0)", name="jobber_drift_counts"
    ),
)

# Routing table: Jobber's webhooks name an account, and the tenant is not known until it is
# looked up here (row-level security cannot guard a row read to find out whose it is); the
# poll lists the connected tenants here too. A system table, like bill_customers; written with
# the link, in the same transaction.
jobber_accounts = Table(
    "jobber_accounts",
    metadata,
    Column("account_id", Text, nullable=False),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    PrimaryKeyConstraint("account_id", name="jobber_accounts_pkey"),
    UniqueConstraint("tenant_id", name="jobber_accounts_one_per_tenant"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    info=SYSTEM_TABLE,
)

# A job deleted in Jobber names only itself: its visits' blocks are found through this map.
jobber_visits = Table(
    "jobber_visits",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("visit_id", Text, nullable=False),
    Column("job_id", Text, nullable=False),
    PrimaryKeyConstraint("tenant_id", "visit_id", name="jobber_visits_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    Index("jobber_visits_by_job", "tenant_id", "job_id"),
)
