"""Migrations on a pristine database: up to head, down to base, up again; schema == metadata."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from nmc_adapters.postgres import sqlalchemy_url
from nmc_adapters.postgres.migrate import downgrade, upgrade
from nmc_adapters.postgres.schema import metadata, tenant_tables
from tests.support.databases import create_database, drop_database, with_database

# Every context's tables (tenant_tables() imports them all onto the metadata).
TENANT_TABLES = tenant_tables()
TABLES = set(metadata.tables)


@pytest.fixture
def pristine(pg_admin_url: str) -> Iterator[str]:
    name = create_database(pg_admin_url, prefix="nmc_pristine")
    yield with_database(pg_admin_url, name)
    drop_database(pg_admin_url, name)


def tables(url: str) -> set[str]:
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def schema_drift(url: str) -> list[object]:
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(pristine: str) -> None:
    assert {"tenants", "users", "messages", "outbox_events"} <= TABLES  # all contexts loaded
    upgrade(pristine)
    assert tables(pristine) == TABLES

    downgrade(pristine, "base")
    assert tables(pristine) == set()

    upgrade(pristine)
    assert tables(pristine) == TABLES


def test_migrated_schema_matches_the_tables_the_code_queries(pristine: str) -> None:
    upgrade(pristine)
    assert schema_drift(pristine) == []


def test_tenant_tables_have_forced_row_level_security(pristine: str) -> None:
    upgrade(pristine)
    engine = create_engine(sqlalchemy_url(pristine))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                    "WHERE relname = ANY(:names)"
                ),
                {"names": list(TABLES)},
            ).all()
            app_role = conn.execute(
                text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'nmc_app'")
            ).one()
    finally:
        engine.dispose()
    guarded = {name for name, enabled, forced in rows if enabled and forced}
    assert guarded == set(TENANT_TABLES)
    assert tuple(app_role) == (False, False)
