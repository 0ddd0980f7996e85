"""Owners deactivated all at once on real PostgreSQL: no deadlock, and never the last owner."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from uuid import UUID

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork, create_engine
from nmc_adapters.postgres.identity.tables import users
from nmc_domain.identity.model import User
from nmc_domain.identity.users import add_user_for_tenant, deactivate_user_by_email
from nmc_domain.shared.errors import Conflict
from tests.support.tenants import onboard
from tests.support.waiting import eventually

OWNERS = 10  # the onboarded owner and nine more
TRIALS = 4
# Names the race's own connections, so the test can see when they have all gone.
APP_NAME = "nmc-test-deactivation-race"
DEADLOCKS = text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
RACERS = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name")


@pytest.fixture
async def racing_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A pool big enough that every deactivation holds its own connection at once."""
    separator = "&" if "?" in database_url else "?"
    engine = create_engine(
        f"{database_url}{separator}application_name={APP_NAME}", pool_size=OWNERS
    )
    yield engine
    await engine.dispose()


async def deadlocks(admin_engine: AsyncEngine) -> int:
    async with admin_engine.connect() as conn:
        await conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        return int((await conn.execute(DEADLOCKS)).scalar_one())


async def racers(admin_engine: AsyncEngine) -> int:
    async with admin_engine.connect() as conn:
        return int((await conn.execute(RACERS, {"name": APP_NAME})).scalar_one())


async def tenant_with_owners(new_uow) -> tuple[UUID, list[str]]:
    tenant, _ = await onboard(new_uow)
    emails = ["owner@acme-plumbing.example"]
    for n in range(1, OWNERS):
        email = f"owner{n}@acme-plumbing.example"
        await add_user_for_tenant(new_uow(), tenant.id, email=email, role="OWNER")
        emails.append(email)
    return tenant.id, emails


async def active_owners(admin_engine: AsyncEngine, tenant_id: UUID) -> list[str]:
    query = select(users.c.email).where(
        users.c.tenant_id == tenant_id, users.c.role == "OWNER", users.c.active.is_(True)
    )
    async with admin_engine.connect() as conn:
        return sorted((await conn.execute(query)).scalars())


async def test_concurrent_owner_deactivations_neither_deadlock_nor_remove_every_owner(
    engine: AsyncEngine, admin_engine: AsyncEngine, racing_engine: AsyncEngine
) -> None:
    before = await deadlocks(admin_engine)
    shuffle = random.Random(20250106)

    for _ in range(TRIALS):
        tenant_id, emails = await tenant_with_owners(lambda: PgUnitOfWork(engine))
        shuffle.shuffle(emails)

        results = await asyncio.gather(
            *(
                deactivate_user_by_email(PgUnitOfWork(racing_engine), tenant_id, email)
                for email in emails
            ),
            return_exceptions=True,
        )

        # Nothing but a deactivated user or Conflict: a deadlock would show up here (as TryAgain,
        # or as psycopg's DeadlockDetected should it slip past the unit of work untranslated).
        unexpected = [r for r in results if not isinstance(r, User | Conflict)]
        assert unexpected == []
        gone = [r.email for r in results if isinstance(r, User)]
        refused = [e for e, r in zip(emails, results, strict=True) if isinstance(r, Conflict)]
        assert all(isinstance(r, User) and not r.active for r in results if isinstance(r, User))
        assert all("last active OWNER" in str(r) for r in results if isinstance(r, Conflict))
        # The owners' locks queue the deactivations one behind the other, so each sees the
        # count its predecessors left: all but one go, and the one refused is still there.
        remaining = await active_owners(admin_engine, tenant_id)
        assert len(remaining) >= 1
        assert remaining == sorted(refused)
        assert sorted(gone + refused) == sorted(emails)
        assert len(refused) == 1

    # The server's own count, once every racing connection has gone (a backend hands in its
    # statistics as it exits): not one deadlock was detected and resolved behind our backs.
    assert await racers(admin_engine) >= 2  # the pool's connections are there to be counted
    await racing_engine.dispose()

    async def racers_gone() -> bool:
        return await racers(admin_engine) == 0

    await eventually(racers_gone)
    assert await deadlocks(admin_engine) == before
