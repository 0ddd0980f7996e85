"""Session fixtures: one PostgreSQL server, one migrated template, a database per module."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.logs import configure_logging
from nmc_adapters.postgres import create_engine
from nmc_adapters.postgres.migrate import upgrade
from tests.support.databases import (
    create_database,
    drop_database,
    postgres_server,
    with_database,
)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """URL of a database on the test server with the right to create databases."""
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def migrated_template(pg_admin_url: str) -> Iterator[str]:
    """A database migrated to head once; module databases are copies of it (fast)."""
    name = create_database(pg_admin_url, prefix="nmc_template")
    upgrade(with_database(pg_admin_url, name))
    yield name
    drop_database(pg_admin_url, name)


@pytest.fixture(scope="module")
def database_url(pg_admin_url: str, migrated_template: str) -> Iterator[str]:
    """A migrated database of this test module's own."""
    name = create_database(pg_admin_url, template=migrated_template)
    yield with_database(pg_admin_url, name)
    drop_database(pg_admin_url, name)


@pytest.fixture(scope="module")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The apps' engine on the module's database: as nmc_app, row-level security holds."""
    engine = create_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def admin_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The test server's superuser, past row-level security: for assertions on any tenant."""
    engine = create_engine(database_url, pool_size=2, role=None)
    yield engine
    await engine.dispose()


# The events of one name logged during a test (see structured_logs).
Logged = Callable[[str], list[dict[str, Any]]]


@pytest.fixture
def structured_logs(
    caplog: pytest.LogCaptureFixture,
) -> Iterator[Callable[[str], list[dict[str, Any]]]]:
    """The structlog events logged during the test, by event name, whatever order the tests
    run in: the apps' logging (configure_logging: through the standard library, loggers cached
    on first use) is set up, and pytest's handler listens on the root logger. Each event is its
    dict (`level` holds its level)."""
    configure_logging("json", "info")
    root = logging.getLogger()
    root.addHandler(caplog.handler)
    try:
        yield lambda event: [
            dict(record.msg)
            for record in caplog.records
            if isinstance(record.msg, dict) and record.msg.get("event") == event
        ]
    finally:
        root.removeHandler(caplog.handler)
