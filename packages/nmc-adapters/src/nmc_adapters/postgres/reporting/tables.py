"""Tables of reporting: response episodes (written once) and daily rollups (upserted)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    Double,
    ForeignKeyConstraint,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from nmc_adapters.postgres.schema import metadata, timestamp

__all__ = ["report_daily", "report_episodes"]

report_episodes = Table(
    "report_episodes",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("conversation_id", UUID(as_uuid=True), nullable=False),
    Column("start_type", Text, nullable=False),
    timestamp("started_at"),
    Column("end_type", Text, nullable=False),
    timestamp("ended_at"),
    Column("seconds", Double, nullable=False),
    PrimaryKeyConstraint(
        "tenant_id", "conversation_id", "start_type", "started_at", name="report_episodes_pkey"
    ),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    CheckConstraint(
        "start_type IN ('missed_call', 'inbound', 'handoff')", name="episode_start_known"
    ),
    CheckConstraint("end_type IN ('text_back', 'assistant', 'person')", name="episode_end_known"),
)

report_daily = Table(
    "report_daily",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    # The tenant-local day.
    Column("day", Date, nullable=False),
    Column("metric", Text, nullable=False),
    Column("count", Integer, nullable=False),
    Column("p50", Double),
    Column("p95", Double),
    # Counts per fixed bucket (nmc_domain.reporting.stats.BUCKET_BOUNDS); empty for counts.
    Column("buckets", ARRAY(Integer), nullable=False),
    # A sum (recovered revenue's cents); NULL for the other metrics.
    Column("total", BigInteger),
    PrimaryKeyConstraint("tenant_id", "day", "metric", name="report_daily_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
)
