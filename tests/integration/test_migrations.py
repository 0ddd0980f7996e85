"""Migrations on a pristine database: up to head, down to base, up again; schema == metadata."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime

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


class AlembicLog(logging.Handler):
    """What Alembic said it did ("Running upgrade 0001 -> 0002, ..."), by step."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")

    def step(self, title: str) -> None:
        self.lines.append(f"== {title}")

    def revisions(self, direction: str) -> list[str]:
        """`A -> B` of every `Running <direction>` line, in order."""
        found = (re.search(rf"Running {direction} ([^\s,]*) -> ([^\s,]*)", s) for s in self.lines)
        return [f"{m[1] or 'base'} -> {m[2] or 'base'}" for m in found if m]


@pytest.fixture
def alembic_log(pytestconfig: pytest.Config) -> Iterator[AlembicLog]:
    """Alembic's log of the test, written to reports/migrations.log (pass or fail)."""
    handler = AlembicLog()
    parent, emitter = logging.getLogger("alembic"), logging.getLogger("alembic.runtime.migration")
    saved = parent.level, emitter.disabled
    parent.setLevel(logging.INFO)
    emitter.disabled = False
    parent.addHandler(handler)
    try:
        yield handler
    finally:
        parent.removeHandler(handler)
        parent.setLevel(saved[0])
        emitter.disabled = saved[1]
        reports = pytestconfig.rootpath / "reports"
        reports.mkdir(exist_ok=True)
        header = f"# migrations on a pristine database, {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"
        (reports / "migrations.log").write_text(
            "\n".join([header, *handler.lines]) + "\n", encoding="utf-8"
        )


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


def test_upgrade_downgrade_upgrade(pristine: str, alembic_log: AlembicLog) -> None:
    assert {"tenants", "users", "messages", "outbox_events"} <= TABLES  # all contexts loaded
    alembic_log.step("upgrade head")
    upgrade(pristine)
    assert tables(pristine) == TABLES
    up = alembic_log.revisions("upgrade")

    alembic_log.step("downgrade base")
    downgrade(pristine, "base")
    assert tables(pristine) == set()
    down = alembic_log.revisions("downgrade")

    alembic_log.step("upgrade head again")
    upgrade(pristine)
    assert tables(pristine) == TABLES

    # Every revision went up, came down in reverse order, and went up again.
    assert up
    assert up[0].startswith("base -> ")
    assert [step.split(" -> ")[::-1] for step in reversed(down)] == [
        step.split(" -> ") for step in up
    ]
    assert alembic_log.revisions("upgrade") == up + up


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
