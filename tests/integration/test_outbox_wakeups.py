"""The worker's LISTEN connection on real PostgreSQL: it survives any error, logged, and wakes."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.logs import configure_logging
from nmc_adapters.postgres import PgWakeups, libpq_url
from nmc_adapters.postgres.shared.tables import outbox_events
from tests.support.waiting import eventually


class FlakyConnect:
    """Connects for real, except that the first `failures` calls raise `error` (not psycopg's)."""

    def __init__(self, error: Exception, failures: int = 1) -> None:
        self.error, self.failures, self.calls = error, failures, 0

    async def __call__(self, url: str) -> psycopg.AsyncConnection[Any]:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return await psycopg.AsyncConnection.connect(url, autocommit=True)


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    out = io.StringIO()
    configure_logging("json", "info", stream=out)
    yield out
    configure_logging("json", "info", stream=io.StringIO())


def events(out: io.StringIO, name: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == name]


@pytest.fixture
async def started() -> AsyncIterator[list[PgWakeups]]:
    """Wakeups the test starts; closed afterwards, whatever happened."""
    made: list[PgWakeups] = []
    yield made
    for wakeups in made:
        await wakeups.close()


async def notify(admin_engine: AsyncEngine) -> None:
    """An outbox row committed: the insert trigger NOTIFYs nmc_outbox."""
    async with admin_engine.begin() as conn:
        await conn.execute(
            insert(outbox_events).values(
                tenant_id=None, topic="test.wakeup.v1", payload={}, schema_version=1
            )
        )


async def test_an_unexpected_error_is_logged_and_listening_resumes(
    database_url: str, admin_engine: AsyncEngine, logs: io.StringIO, started: list[PgWakeups]
) -> None:
    connect = FlakyConnect(ValueError("ACME-PLUMBING listen connector blew up"))
    wakeups = PgWakeups(libpq_url(database_url), connect=connect)
    started.append(wakeups)

    await wakeups.start()  # returns once LISTEN is in place (the retry after the failure)

    [failure] = events(logs, "outbox.listen_failed")
    assert failure["level"] == "error"
    assert failure["error"] == "ValueError: ACME-PLUMBING listen connector blew up"
    assert failure["retry_in"] > 0
    assert wakeups.listening
    assert connect.calls == 2
    # (Re)connecting wakes the dispatcher once, for rows committed while we were deaf.
    assert await wakeups.wait(5)

    await notify(admin_engine)

    assert await wakeups.wait(5)
    assert connect.calls == 2  # that wake was the NOTIFY, not another reconnection
    assert wakeups.running


async def test_failures_back_off_and_the_task_keeps_going(
    database_url: str, admin_engine: AsyncEngine, logs: io.StringIO, started: list[PgWakeups]
) -> None:
    connect = FlakyConnect(RuntimeError("DNS said no to ACME-PLUMBING"), failures=3)
    wakeups = PgWakeups(libpq_url(database_url), connect=connect)
    started.append(wakeups)

    await wakeups.start()
    await eventually(lambda: wakeups.listening)

    failures = events(logs, "outbox.listen_failed")
    assert [f["error"] for f in failures] == ["RuntimeError: DNS said no to ACME-PLUMBING"] * 3
    delays = [f["retry_in"] for f in failures]
    assert delays == sorted(delays)
    assert delays[0] < delays[-1]  # exponential backoff, not a hot loop
    assert await wakeups.wait(5)  # the reconnection's wake
    await notify(admin_engine)
    assert await wakeups.wait(5)
    assert connect.calls == 4
    assert wakeups.running


async def test_a_misconfigured_connection_is_logged_and_retried_without_connecting(
    database_url: str, logs: io.StringIO, started: list[PgWakeups]
) -> None:
    """psycopg's own connect, refusing the URL: a ProgrammingError, not an OperationalError."""
    url = libpq_url(database_url)
    bad = url + ("&" if "?" in url else "?") + "acme_plumbing_option=1"
    wakeups = PgWakeups(bad)
    started.append(wakeups)

    await wakeups.start()  # never listens: it warns, and the dispatcher's poll carries on

    failures = await eventually(lambda: events(logs, "outbox.listen_failed"))
    assert failures[0]["error"].startswith("ProgrammingError")
    assert "acme_plumbing_option" in failures[0]["error"]
    assert failures[0]["level"] == "error"
    await eventually(lambda: len(events(logs, "outbox.listen_failed")) >= 2)  # it retried
    assert events(logs, "outbox.listen_not_ready")
    assert wakeups.running
    assert not wakeups.listening
