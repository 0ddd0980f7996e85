"""Tables of identity: the users of each tenant."""

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

from nmc_adapters.postgres.schema import metadata, timestamp

__all__ = ["users"]

users = Table(
    "users",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("subject", Text, nullable=False),
    # Collation "C": lists sort the same on every server, whatever its locale.
    Column("email", Text(collation="C"), nullable=False),
    Column("role", Text, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    timestamp("created_at", now=True),
    timestamp("updated_at", now=True),
    PrimaryKeyConstraint("tenant_id", "id", name="users_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    UniqueConstraint("tenant_id", "email", name="users_one_per_email"),
    UniqueConstraint("tenant_id", "subject", name="users_one_per_subject"),
    CheckConstraint("role IN ('OWNER', 'TECH')", name="user_role_known"),
)
