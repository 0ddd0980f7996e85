"""The schema's shared parts: one MetaData for every context's tables, and which are tenants'.

Each context declares its tables in its own `tables` module, on this `metadata`; migrations
create them, queries are compiled from them. `tenant_tables()` reads the metadata, so a new
tenant-owned table is known to row-level security checks the moment it is declared.
"""

from __future__ import annotations

from sqlalchemy import Column, MetaData, Table, text
from sqlalchemy.dialects.postgresql import TIMESTAMP

__all__ = ["SYSTEM_TABLE", "TENANT_ROOT", "metadata", "tenant_tables", "timestamp"]

metadata = MetaData()
_NOW = text("now()")

# `Table(..., info=SYSTEM_TABLE)`: the rows carry a tenant_id but are read across tenants on
# purpose (routing a number before a tenant is known, provider events, the outbox the workers
# claim for every tenant), so row-level security does not guard them. Say why at each use.
SYSTEM_TABLE = {"system": True}
# `Table(..., info=TENANT_ROOT)`: the tenants table, whose own id is the tenant.
TENANT_ROOT = {"tenant_key": "id"}


def timestamp(name: str, *, nullable: bool = False, now: bool = False) -> Column[object]:
    """A timestamptz column, defaulting to the database's now() when asked."""
    return Column(
        name, TIMESTAMP(timezone=True), nullable=nullable, server_default=_NOW if now else None
    )


def _tenant_key(table: Table) -> str | None:
    if table.info.get("system"):
        return None
    key = table.info.get("tenant_key")
    if key is not None:
        return str(key)
    return "tenant_id" if "tenant_id" in table.c else None


def tenant_tables() -> dict[str, str]:
    """Table name -> the column naming its tenant, for every tenant-owned table declared.

    Every context's tables must have been imported (`nmc_adapters.postgres.contexts` does).
    """
    from nmc_adapters.postgres import contexts  # noqa: F401 - declares every table

    return {
        name: key
        for name, table in sorted(metadata.tables.items())
        if (key := _tenant_key(table)) is not None
    }
