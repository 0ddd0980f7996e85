"""The report period an owner sees when choosing none: the last 14 tenant-local days on the
store's clock (not UTC's day), OWNER only, and a length within a report's bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from nmc_adapters.memory import InMemoryStore, InMemoryUnitOfWork
from nmc_domain.identity.model import Principal
from nmc_domain.identity.users import add_user
from nmc_domain.reporting.use_cases import recent_period
from nmc_domain.shared.errors import InvalidInput, PermissionDenied
from tests.support.tenants import onboard

OWNER = "owner@acme-plumbing.example"
# Tuesday Jan 7 2025, 3:00 UTC is still Monday Jan 6, 21:00 in Chicago (the tenant's zone).
LATE_MONDAY = datetime(2025, 1, 7, 3, 0, tzinfo=UTC)


async def shop() -> tuple[InMemoryStore, Principal]:
    store = InMemoryStore(now=LATE_MONDAY)
    tenant, _ = await onboard(lambda: InMemoryUnitOfWork(store))
    return store, Principal(OWNER, tenant.id)


async def test_the_last_14_days_end_today_in_the_tenants_zone() -> None:
    store, owner = await shop()

    period = await recent_period(InMemoryUnitOfWork(store), owner)

    # Jan 6 back 13 days: Dec 24 .. Jan 6, both included.
    assert period == (date(2024, 12, 24), date(2025, 1, 6))


async def test_one_day_is_today_only() -> None:
    store, owner = await shop()

    assert await recent_period(InMemoryUnitOfWork(store), owner, days=1) == (
        date(2025, 1, 6),
        date(2025, 1, 6),
    )


@pytest.mark.parametrize("days", [0, 367])
async def test_a_length_out_of_bounds_is_invalid(days: int) -> None:
    store, owner = await shop()

    with pytest.raises(InvalidInput) as raised:
        await recent_period(InMemoryUnitOfWork(store), owner, days=days)
    assert raised.value.field == "days"


async def test_a_tech_may_not_read_reports() -> None:
    store, owner = await shop()
    tech = "mo.tech@acme-plumbing.example"
    await add_user(InMemoryUnitOfWork(store), owner, email=tech, role="TECH")

    with pytest.raises(PermissionDenied):
        await recent_period(InMemoryUnitOfWork(store), Principal(tech, owner.tenant_id))
