"""Racing claims on real PostgreSQL: the exclusion constraint (and the per-technician lock in
front of it) keep one technician's active claims apart; losers see SlotTaken, never a raw
driver error or TryAgain, and nothing deadlocks."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork, create_engine
from nmc_domain.catalog.model import ServiceItem, new_service_item
from nmc_domain.conversation.assistant import RuleBasedAssistant
from nmc_domain.conversation.inbound import InboundOutcome, InboundText, receive_text
from nmc_domain.scheduling.booking import Booking, BookingStatus
from nmc_domain.scheduling.errors import SlotTaken
from nmc_domain.scheduling.model import BusyBlock, Technician, new_technician, weekly_hours
from nmc_domain.scheduling.reservations import HoldRequest, place_hold, release
from nmc_domain.scheduling.settings import SchedulingSettings
from nmc_domain.tenancy.model import Tenant
from tests.support.tenants import caller_number, onboard

ALL_DAY = weekly_hours(
    [(day, "00:00", "24:00") for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
)
JOB = timedelta(minutes=60)  # the item's duration
CHICAGO = ZoneInfo("America/Chicago")  # where tests/support/tenants.py onboards tenants
STEP = timedelta(minutes=15)


@attrs.frozen
class Shop:
    tenant: Tenant
    item: ServiceItem


async def _open_shop(engine: AsyncEngine) -> Shop:
    """A tenant open all day every day, no notice, a 60-minute item."""
    tenant, _ = await onboard(lambda: PgUnitOfWork(engine))
    item = new_service_item(
        tenant_id=tenant.id, name="Valve Check", price_cents=9_900, duration_minutes=60
    )
    async with PgUnitOfWork(engine) as uow:
        await uow.bind_tenant(tenant.id)
        await uow.catalog.add(item)
        await uow.business_hours.replace(tenant.id, ALL_DAY)
        await uow.scheduling_settings.save(SchedulingSettings(tenant.id, min_notice_minutes=0))
        await uow.commit()
    return Shop(tenant, item)


async def _technicians(engine: AsyncEngine, shop: Shop, count: int) -> list[Technician]:
    technicians = [new_technician(tenant_id=shop.tenant.id, name=f"Tech {n}") for n in range(count)]
    async with PgUnitOfWork(engine) as uow:
        await uow.bind_tenant(shop.tenant.id)
        for technician in technicians:
            await uow.technicians.add(technician)
        await uow.commit()
    return technicians


async def _now(engine: AsyncEngine) -> datetime:
    async with engine.connect() as conn:
        now: datetime = (await conn.execute(text("SELECT now()"))).scalar_one()
    return now


async def _morning(engine: AsyncEngine, days: int) -> datetime:
    """08:00 in Chicago `days` from the database's today: jobs that day stay clear of midnight
    and of any clock change."""
    today = (await _now(engine)).astimezone(CHICAGO)
    return (today + timedelta(days=days)).replace(hour=8, minute=0, second=0, microsecond=0)


async def _scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar_one()


OVERLAPS = """
    SELECT count(*) FROM bookings a JOIN bookings b
      ON a.tenant_id = b.tenant_id AND a.technician_id = b.technician_id AND a.id < b.id
     WHERE a.tenant_id = :tenant AND a.active AND b.active AND a.during && b.during
"""
DEADLOCKS = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
BACKENDS = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"


# --- 32 holds on one slot ---------------------------------------------------------------------


@pytest.fixture
async def racing_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    racing = create_engine(database_url, pool_size=32)
    yield racing
    await racing.dispose()


async def test_32_racing_holds_on_one_slot_give_one_hold_and_31_slot_taken(
    racing_engine: AsyncEngine, engine: AsyncEngine, admin_engine: AsyncEngine
) -> None:
    shop = await _open_shop(engine)
    (technician,) = await _technicians(engine, shop, 1)
    start = await _morning(engine, 2) + timedelta(hours=2)
    backends = await _scalar(admin_engine, BACKENDS)
    deadlocks = await _scalar(admin_engine, DEADLOCKS)

    # Open the 32 connections first: the race measures claims, not connection setup.
    async def warm() -> None:
        async with racing_engine.connect() as conn:
            await conn.execute(text("SELECT pg_sleep(0.05)"))

    await asyncio.gather(*(warm() for _ in range(32)))
    gate = asyncio.Event()

    async def hold() -> tuple[Booking | BaseException, float]:
        request = HoldRequest(shop.item.id, technician.id, start, caller_number())
        await gate.wait()
        began = time.perf_counter()
        try:
            async with PgUnitOfWork(racing_engine) as uow:
                await uow.bind_tenant(shop.tenant.id)
                held = await place_hold(uow, shop.tenant, request)
                await uow.commit()
        except Exception as exc:  # every outcome is checked below
            return exc, time.perf_counter() - began
        return held, time.perf_counter() - began

    racers = [asyncio.create_task(hold()) for _ in range(32)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*racers)

    outcomes = [outcome for outcome, _ in results]
    winners = [outcome for outcome in outcomes if isinstance(outcome, Booking)]
    losers = [outcome for outcome in outcomes if not isinstance(outcome, Booking)]
    assert len(winners) == 1
    assert [type(loser) for loser in losers] == [SlotTaken] * 31, losers
    slowest = max(elapsed for _, elapsed in results)
    assert slowest < 1.0, f"the slowest claim took {slowest:.3f} s"
    rows = await _scalar(
        admin_engine,
        "SELECT count(*) FROM bookings WHERE tenant_id = :tenant AND active",
        tenant=shop.tenant.id,
    )
    assert rows == 1
    # A backend reports its deadlocks at the latest when it exits: close the pool, wait for its
    # backends to be gone, then read the counter.
    await racing_engine.dispose()
    for _ in range(100):
        if await _scalar(admin_engine, BACKENDS) <= backends:
            break
        await asyncio.sleep(0.05)
    assert await _scalar(admin_engine, DEADLOCKS) == deadlocks


# --- random claims, some racing, against the constraint ---------------------------------------


@attrs.frozen
class Claim:
    technician: int
    start: int  # in 15-minute steps from the example's base
    steps: int  # length in 15-minute steps (ignored by place_hold: the item's hour)
    buffer: int  # minutes
    how: str  # "raw": the repository alone; "locked": after the technician's lock; "hold"


@attrs.frozen
class Earlier:
    technician: int
    start: int
    steps: int
    kind: str  # "expired" hold, "live" hold, or "booked"


@attrs.frozen
class Plan:
    technicians: int
    busy: tuple[tuple[int, int, int], ...]  # (technician, start step, steps)
    earlier: tuple[Earlier, ...]
    claims: tuple[Claim, ...]


def plans() -> st.SearchStrategy[Plan]:
    @st.composite
    def build(draw: st.DrawFn) -> Plan:
        count = draw(st.integers(2, 3))
        tech = st.integers(0, count - 1)
        start = st.integers(0, 31)  # within 8 hours: claims meet often
        steps = st.integers(1, 8)
        busy = draw(st.lists(st.tuples(tech, start, steps), max_size=3))
        earlier = draw(
            st.lists(
                st.builds(
                    Earlier,
                    tech,
                    start,
                    steps,
                    st.sampled_from(["expired", "expired", "live", "booked"]),
                ),
                max_size=5,
            )
        )
        claims = draw(
            st.lists(
                st.builds(
                    Claim,
                    tech,
                    start,
                    steps,
                    st.sampled_from([0, 0, 15]),
                    st.sampled_from(["raw", "locked", "hold"]),
                ),
                min_size=2,
                max_size=12,
            )
        )
        return Plan(count, tuple(busy), tuple(earlier), tuple(claims))

    return build()


def _overlap(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


async def _run(plan: Plan, database_url: str, shops: dict[str, Shop], tally: Counter[str]) -> None:
    engine = create_engine(database_url, pool_size=16)
    admin = create_engine(database_url, pool_size=1, role=None)
    try:
        if "shop" not in shops:
            shops["shop"] = await _open_shop(engine)
        shop = shops["shop"]
        tenant_id = shop.tenant.id
        technicians = await _technicians(engine, shop, plan.technicians)
        now = await _now(engine)
        base = await _morning(engine, 1)

        def at(step: int) -> datetime:
            return base + step * STEP

        blocks = [
            BusyBlock(uuid.uuid4(), tenant_id, technicians[t].id, at(s), at(s + n))
            for t, s, n in plan.busy
        ]
        async with PgUnitOfWork(engine) as uow:
            await uow.bind_tenant(tenant_id)
            for block in blocks:
                await uow.busy_blocks.add(block)
            await uow.commit()

        def booking(technician: int, start: int, steps: int, buffer: int, **fields: Any) -> Booking:
            end = at(start + steps)
            values: dict[str, Any] = {
                "id": uuid.uuid4(),
                "tenant_id": tenant_id,
                "technician_id": technicians[technician].id,
                "item_id": shop.item.id,
                "contact_phone": caller_number(),
                "start": at(start),
                "end": end,
                "blocked_until": end + timedelta(minutes=buffer),
                "status": BookingStatus.HELD,
                "expires_at": now + timedelta(minutes=30),
            }
            return Booking(**(values | fields))

        # What was there before the race, claimed one by one (some refused already).
        kept: list[Booking] = []
        for one in plan.earlier:
            fields: dict[str, Any] = {
                "expired": {"expires_at": now - timedelta(minutes=5)},
                "live": {},
                "booked": {
                    "status": BookingStatus.BOOKED,
                    "expires_at": None,
                    "price_cents": 9_900,
                    "currency": "USD",
                },
            }[one.kind]
            earlier = booking(one.technician, one.start, one.steps, 0, **fields)
            try:
                async with PgUnitOfWork(engine) as uow:
                    await uow.bind_tenant(tenant_id)
                    await uow.bookings.claim(earlier)
                    await uow.commit()
                kept.append(earlier)
            except SlotTaken:
                tally["earlier refused"] += 1

        async def attempt(claim: Claim) -> tuple[Claim, Booking, bool]:
            technician = technicians[claim.technician]
            wanted = booking(claim.technician, claim.start, claim.steps, claim.buffer)
            try:
                async with PgUnitOfWork(engine) as uow:
                    await uow.bind_tenant(tenant_id)
                    if claim.how == "hold":
                        request = HoldRequest(
                            shop.item.id, technician.id, at(claim.start), caller_number()
                        )
                        wanted = await place_hold(uow, shop.tenant, request)
                    else:
                        if claim.how == "locked":
                            await uow.bookings.lock_technician(tenant_id, technician.id)
                        await uow.bookings.claim(wanted)
                    await uow.commit()
            except SlotTaken:
                if claim.how == "hold":  # what it would have claimed: the item's hour
                    wanted = attrs.evolve(
                        wanted, end=at(claim.start) + JOB, blocked_until=at(claim.start) + JOB
                    )
                return claim, wanted, False
            return claim, wanted, True

        results = await asyncio.gather(*(attempt(claim) for claim in plan.claims))

        # The guarantee, asked of the database itself.
        assert await _scalar(admin, OVERLAPS, tenant=tenant_id) == 0

        async with admin.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT id, technician_id, start_at, blocked_until, status, active "
                        "FROM bookings WHERE tenant_id = :tenant AND technician_id = ANY(:ids)"
                    ),
                    {"tenant": tenant_id, "ids": [t.id for t in technicians]},
                )
            ).all()
        stored = {row.id: row for row in rows}
        accepted = [wanted for _, wanted, ok in results if ok]
        refused = [(claim, wanted) for claim, wanted, ok in results if not ok]
        for wanted in accepted:  # every winner holds its time
            assert stored[wanted.id].active
            assert stored[wanted.id].status == "held"
        for claim, wanted in refused:  # and no refusal came out of thin air
            span = (wanted.start, wanted.blocked_until)
            rivals = [
                (b.start, b.blocked_until)
                for b in (*kept, *accepted)
                if b.technician_id == wanted.technician_id
            ]
            if claim.how == "hold":
                rivals += [
                    (b.start, b.end) for b in blocks if b.technician_id == wanted.technician_id
                ]
            assert any(_overlap(span, rival) for rival in rivals), (claim, wanted)
        for index, held in enumerate(kept):
            row = stored[held.id]
            later = [*kept[index + 1 :], *accepted]  # the claims that came after it
            overlapped = any(
                _overlap((held.start, held.blocked_until), (b.start, b.blocked_until))
                for b in later
                if b.technician_id == held.technician_id
            )
            if (
                held.status is BookingStatus.HELD
                and held.expires_at is not None
                and held.expires_at < now
            ):
                # An expired hold in a winner's way was released by that winner's claim.
                assert row.status == ("expired" if overlapped else "held")
                tally["expired released"] += overlapped
            else:
                assert row.active
                assert not overlapped
        for wanted in accepted:
            if any(w.technician_id == wanted.technician_id for w in accepted if w is not wanted):
                tally["several winners on one technician"] += 1
        for block in blocks:
            assert not any(
                _overlap((b.start, b.blocked_until), (block.start, block.end))
                for (claim, b, ok) in results
                if ok and claim.how == "hold" and b.technician_id == block.technician_id
            ), "a hold never lands on a busy block"
        tally["examples"] += 1
        tally["accepted"] += len(accepted)
        tally["refused"] += len(refused)
        tally["refused holds"] += sum(1 for claim, _ in refused if claim.how == "hold")
        tally["refused raw claims"] += sum(1 for claim, _ in refused if claim.how != "hold")
    finally:
        await engine.dispose()
        await admin.dispose()


async def test_a_hold_that_may_not_wait_skips_a_technician_being_claimed(
    engine: AsyncEngine,
) -> None:
    """The assistant holds several times in one transaction without waiting: a technician
    whose lock another transaction holds counts as taken (no wait, so no deadlock)."""
    shop = await _open_shop(engine)
    [technician] = await _technicians(engine, shop, 1)
    request = HoldRequest(shop.item.id, technician.id, await _morning(engine, 1), caller_number())
    async with PgUnitOfWork(engine) as first:
        await first.bind_tenant(shop.tenant.id)
        assert await first.bookings.lock_technician(shop.tenant.id, technician.id, wait=False)
        async with PgUnitOfWork(engine) as second:
            await second.bind_tenant(shop.tenant.id)
            # Refused at once: waiting here, for the transaction above, would never end.
            with pytest.raises(SlotTaken):
                await place_hold(second, shop.tenant, request, wait=False)

    # The first transaction is over: the same hold goes through.
    async with PgUnitOfWork(engine) as third:
        await third.bind_tenant(shop.tenant.id)
        hold = await place_hold(third, shop.tenant, request, wait=False)
        await third.commit()
    assert (hold.technician_id, hold.start, hold.status) == (
        technician.id,
        request.start,
        BookingStatus.HELD,
    )


async def test_offers_go_round_a_technician_someone_is_claiming(engine: AsyncEngine) -> None:
    """While another transaction claims one technician's time, a conversation's offers come
    from the other technician at once: no wait, no hand-off, whichever order it tries them in."""
    tenant, number = await onboard(lambda: PgUnitOfWork(engine))
    item = new_service_item(
        tenant_id=tenant.id, name="Valve Check", price_cents=9_900, duration_minutes=60
    )
    async with PgUnitOfWork(engine) as uow:
        await uow.bind_tenant(tenant.id)
        await uow.catalog.add(item)
        await uow.business_hours.replace(tenant.id, ALL_DAY)
        await uow.commit()
    busy, free = await _technicians(engine, Shop(tenant, item), 2)
    for attempt in range(4):  # conversations differ in the order they try technicians
        async with PgUnitOfWork(engine) as other:
            await other.bind_tenant(tenant.id)
            assert await other.bookings.lock_technician(tenant.id, busy.id, wait=False)
            text = InboundText(f"SM{uuid.uuid4().hex}", caller_number(), number, "valve check")
            result = await receive_text(PgUnitOfWork(engine), RuleBasedAssistant(), text)
        assert result.outcome is InboundOutcome.ANSWERED
        async with PgUnitOfWork(engine) as uow:
            await uow.bind_tenant(tenant.id)
            conversation = await uow.conversations.get(tenant.id, result.conversation_id)
        assert conversation is not None
        offers = conversation.memory.offers
        assert len(offers) == 3, attempt
        assert {offer.technician_id for offer in offers} == {free.id}
        # Each attempt starts from the same free time: the earlier attempts' holds would
        # otherwise crowd the free technician's next hours, as late in the day they did.
        async with PgUnitOfWork(engine) as uow:
            await uow.bind_tenant(tenant.id)
            for offer in offers:
                await release(uow, tenant.id, offer.hold_id)
            await uow.commit()


def test_random_racing_claims_never_overlap(database_url: str) -> None:
    """Sync on purpose: each example runs in an event loop of its own (engines included), so the
    tally of what the examples reached can be asserted once hypothesis is done."""
    shops: dict[str, Shop] = {}
    tally: Counter[str] = Counter()

    @settings(
        max_examples=30,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(plans())
    def check(plan: Plan) -> None:
        # A thread of its own, so this loop never meets the one pytest-asyncio keeps.
        with concurrent.futures.ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, _run(plan, database_url, shops, tally)).result()

    check()

    assert tally["examples"] >= 30
    assert tally["accepted"] > 0
    assert tally["refused raw claims"] > 0, tally
    assert tally["refused holds"] > 0, tally
    assert tally["expired released"] > 0, tally
    assert tally["several winners on one technician"] > 0, tally
