"""Retention against real PostgreSQL: finished outbox rows and stored webhooks past their days
are deleted in small batches; pending, set-aside and recent rows stay.

Each test gets a database of its own, so the counts purged are exact. The clock is fixed and
every row's time is written relative to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import (
    PgOutboxAdmin,
    contexts,  # noqa: F401 - declares every table
    create_engine,
)
from nmc_adapters.postgres.shared.tables import outbox_events, webhook_events
from nmc_domain.shared.ports import Purged
from nmc_worker.retention import Retention
from tests.support.databases import create_database, drop_database, with_database
from tests.support.waiting import eventually

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
OLD = timedelta(days=30, seconds=1)  # just past a 30-day retention
RECENT = timedelta(days=29, hours=23)  # just inside it


@dataclass(frozen=True)
class Db:
    engine: AsyncEngine  # the apps' role (nmc_app): the worker purges as it
    admin: AsyncEngine  # the server's superuser: rows set up and counted past any policy


@pytest.fixture
async def db(pg_admin_url: str, migrated_template: str) -> AsyncIterator[Db]:
    name = create_database(pg_admin_url, template=migrated_template, prefix="nmc_retention")
    url = with_database(pg_admin_url, name)
    engine = create_engine(url, pool_size=2)
    admin = create_engine(url, pool_size=2, role=None)
    try:
        yield Db(engine, admin)
    finally:
        await engine.dispose()
        await admin.dispose()
        drop_database(pg_admin_url, name)


async def add_row(db: Db, state: str, age: timedelta) -> int:
    """An outbox row in `state`, written `age` before NOW (finished a minute after that)."""
    created = NOW - age
    values: dict[str, Any] = {
        "topic": "message.queued.v1",
        "payload": {"type": "message.queued.v1"},
        "schema_version": 1,
        "created_at": created,
        "available_at": created,
    }
    column = {
        "dispatched": "dispatched_at",
        "dead": "dead_at",
        "needs_review": "needs_review_at",
        "pending": None,
    }[state]
    if column is not None:
        values[column] = created + timedelta(minutes=1)
    if state in ("dead", "needs_review"):
        values |= {"attempts": 9, "last_error": "SmsNotSent: provider answered 503"}
    async with db.admin.begin() as conn:
        inserted = insert(outbox_events).values(values).returning(outbox_events.c.id)
        return (await conn.execute(inserted)).scalar_one()


async def add_webhook(db: Db, key: str, age: timedelta) -> str:
    async with db.admin.begin() as conn:
        await conn.execute(
            insert(webhook_events).values(
                provider="twilio.voice",
                event_key=key,
                payload={"CallSid": key, "CallStatus": "no-answer"},
                received_at=NOW - age,
            )
        )
    return key


async def outbox_ids(db: Db) -> set[int]:
    async with db.admin.connect() as conn:
        return set((await conn.execute(select(outbox_events.c.id))).scalars())


async def webhook_keys(db: Db) -> set[str]:
    async with db.admin.connect() as conn:
        return set((await conn.execute(select(webhook_events.c.event_key))).scalars())


class CountingAdmin:
    """The real PgOutboxAdmin, with each purge call (one batch) recorded."""

    def __init__(self, admin: PgOutboxAdmin) -> None:
        self._admin = admin
        self.calls: list[tuple[datetime, int, Purged]] = []

    async def purge(self, older_than: datetime, *, batch: int) -> Purged:
        purged = await self._admin.purge(older_than, batch=batch)
        self.calls.append((older_than, batch, purged))
        return purged

    def __getattr__(self, name: str) -> Any:
        return getattr(self._admin, name)


async def test_purge_deletes_old_finished_rows_and_webhooks_only(db) -> None:
    old_dispatched = await add_row(db, "dispatched", OLD)
    old_dead = await add_row(db, "dead", OLD)
    old_pending = await add_row(db, "pending", timedelta(days=45))
    old_review = await add_row(db, "needs_review", timedelta(days=45))
    recent_dispatched = await add_row(db, "dispatched", RECENT)
    recent_dead = await add_row(db, "dead", RECENT)
    await add_webhook(db, "CAold1", OLD)
    await add_webhook(db, "CAold2", timedelta(days=90))
    await add_webhook(db, "CArecent", RECENT)
    admin = CountingAdmin(PgOutboxAdmin(db.engine))

    purged = await Retention(admin, keep_days=30, pause_seconds=0, clock=lambda: NOW).purge_once()

    assert purged == (2, 2)
    assert await outbox_ids(db) == {old_pending, old_review, recent_dispatched, recent_dead}
    assert old_dispatched not in await outbox_ids(db)
    assert old_dead not in await outbox_ids(db)
    assert await webhook_keys(db) == {"CArecent"}
    [(before, batch, _)] = admin.calls
    assert (before, batch) == (NOW - timedelta(days=30), 500)


async def test_small_batches_still_purge_everything_old_with_exact_counts(db) -> None:
    old = [await add_row(db, state, OLD) for state in ("dead", "dispatched") * 2 + ("dead",)]
    keep = {
        await add_row(db, "pending", OLD),
        await add_row(db, "needs_review", OLD),
        await add_row(db, "dispatched", RECENT),
    }
    for n in range(3):
        await add_webhook(db, f"CAold{n}", OLD + timedelta(hours=n))
    await add_webhook(db, "CArecent", RECENT)
    admin = CountingAdmin(PgOutboxAdmin(db.engine))
    retention = Retention(admin, keep_days=30, batch=2, pause_seconds=0, clock=lambda: NOW)

    purged = await retention.purge_once()

    assert len(old) == 5
    assert purged == (5, 3)
    assert await outbox_ids(db) == keep
    assert await webhook_keys(db) == {"CArecent"}
    # Batches of two: (2, 2), (2, 1), then (1, 0) is short of a batch and ends the pass.
    assert [call[2] for call in admin.calls] == [Purged(2, 2), Purged(2, 1), Purged(1, 0)]
    assert {call[1] for call in admin.calls} == {2}


async def test_a_second_pass_finds_nothing_and_keep_days_counts(db) -> None:
    ten_days = await add_row(db, "dispatched", timedelta(days=10))
    twenty_days = await add_row(db, "dead", timedelta(days=20))
    await add_webhook(db, "CAten", timedelta(days=10))
    admin = PgOutboxAdmin(db.engine)

    first = await Retention(admin, keep_days=15, clock=lambda: NOW).purge_once()
    second = await Retention(admin, keep_days=15, clock=lambda: NOW).purge_once()
    shorter = await Retention(admin, keep_days=7, clock=lambda: NOW).purge_once()

    assert first == (1, 0)
    assert twenty_days not in await outbox_ids(db)
    assert second == (0, 0)
    assert shorter == (1, 1)
    assert ten_days not in await outbox_ids(db)
    assert await webhook_keys(db) == set()


async def test_run_purges_until_stopped(db) -> None:
    old = await add_row(db, "dispatched", OLD)
    kept = await add_row(db, "pending", OLD)
    await add_webhook(db, "CAold", OLD)
    admin = CountingAdmin(PgOutboxAdmin(db.engine))
    retention = Retention(admin, keep_days=30, every_seconds=0.05, clock=lambda: NOW)
    stop = asyncio.Event()

    task = asyncio.create_task(retention.run(stop))
    await eventually(lambda: len(admin.calls) >= 2, within=5)  # purged, then found nothing
    stop.set()
    await asyncio.wait_for(task, 5)

    assert admin.calls[0][2] == Purged(1, 1)
    assert admin.calls[1][2] == Purged(0, 0)
    assert await outbox_ids(db) == {kept}
    assert old not in await outbox_ids(db)
