"""Row-level security for a migration's new tenant tables (the policy every tenant table has)."""

from __future__ import annotations

from alembic import op

__all__ = ["disable_tenant_rls", "enable_tenant_rls"]

_CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"


def enable_tenant_rls(table: str, column: str = "tenant_id") -> None:
    """Guard `table` by its tenant column; FORCE holds the owner to it too."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING ({column} = {_CURRENT_TENANT}) WITH CHECK ({column} = {_CURRENT_TENANT})"
    )


def disable_tenant_rls(table: str) -> None:
    """The reverse of `enable_tenant_rls` (for downgrades)."""
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
