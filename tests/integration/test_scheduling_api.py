"""Tenant API (/v1): scheduling setup, availability, holds and appointments on PostgreSQL."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_adapters.postgres.shared.tables import outbox_events
from tests.support.api import (
    Caller,
    add_item,
    api_client,
    api_settings,
    new_tenant,
    problem,
    tech_of,
)

CHICAGO = ZoneInfo("America/Chicago")
SCHEDULING_SETTINGS = {
    "slot_granularity_minutes",
    "buffer_minutes",
    "min_notice_minutes",
    "horizon_days",
    "hold_ttl_minutes",
    "daily_limit_per_technician",
}  # tests/support/tenants.py onboards tenants there
SPLIT_SHIFT = {
    "periods": [
        {"weekday": day, "start": start, "end": end}
        for day in ("mon", "tue", "wed", "thu", "fri")
        for start, end in (("08:00", "12:00"), ("13:00", "17:00"))
    ]
}


@pytest.fixture(scope="module")
async def client(database_url: str) -> AsyncIterator[AsyncTestClient]:
    async with api_client(api_settings(database_url)) as client:
        yield client


@pytest.fixture
def new_uow(engine: AsyncEngine):
    return lambda: PgUnitOfWork(engine)


def next_monday() -> date:
    """A Monday 3 to 9 days ahead: inside the default 14-day horizon, past any notice."""
    today = datetime.now(CHICAGO).date()
    return today + timedelta(days=3 + (7 - (today + timedelta(days=3)).weekday()) % 7)


def at(day: date, clock: str) -> datetime:
    hours, minutes = map(int, clock.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=CHICAGO)


def stamp(day: date, clock: str) -> str:
    """How the API writes that local time: RFC 3339 with Chicago's offset of the day."""
    return at(day, clock).isoformat()


class Shop:
    """One tenant set up through the API: an OWNER, a 90-minute item, one technician."""

    def __init__(self, owner: Caller, item: dict[str, Any], technician: dict[str, Any]) -> None:
        self.owner, self.item, self.technician = owner, item, technician

    async def slots(self, caller: Caller | None = None, **params: Any) -> list[dict[str, Any]]:
        day = params.pop("day", next_monday())
        query = {
            "item_id": self.item["id"],
            "from": at(day, "00:00").isoformat(),
            "to": at(day, "23:59").isoformat(),
            **params,
        }
        response = await (caller or self.owner).get("/v1/availability", **query)
        assert response.status_code == 200, response.text
        return response.json()["slots"]

    async def hold(self, start: str, caller: Caller | None = None, **changes: Any):
        body = {
            "item_id": self.item["id"],
            "technician_id": self.technician["id"],
            "start": start,
            "contact_phone": "+14155550123",
            **changes,
        }
        return await (caller or self.owner).post("/v1/holds", body)


@pytest.fixture
async def shop(client, new_uow) -> Shop:
    _, owner = await new_tenant(client, new_uow, "ACME-PLUMBING")
    item = await add_item(owner, "Water Heater Flush", duration_minutes=90, price_cents=18_900)
    response = await owner.post("/v1/technicians", {"name": "Dana Reyes"})
    assert response.status_code == 201, response.text
    assert (await owner.put("/v1/business-hours", SPLIT_SHIFT)).status_code == 200
    return Shop(owner, item, response.json())


async def events(admin_engine: AsyncEngine, topic: str) -> list[dict[str, Any]]:
    query = select(outbox_events.c.payload).where(outbox_events.c.topic == topic)
    async with admin_engine.connect() as conn:
        return [row.payload for row in await conn.execute(query.order_by(outbox_events.c.id))]


async def test_a_technician_can_do_every_item_until_told_otherwise(shop: Shop) -> None:
    assert shop.technician == {
        "id": shop.technician["id"],
        "name": "Dana Reyes",
        "active": True,
        "item_ids": None,
        "hours": None,
        "email": None,
    }


async def test_a_technicians_email_is_stored_lower_cased_unique_and_can_be_cleared(
    shop: Shop,
) -> None:
    added = await shop.owner.post(
        "/v1/technicians", {"name": "Ava Kim", "email": " Ava@ACME.test "}
    )
    assert added.status_code == 201, added.text
    assert added.json()["email"] == "ava@acme.test"

    twin = await shop.owner.post("/v1/technicians", {"name": "Ava Two", "email": "ava@acme.test"})
    body = problem(twin, 409)
    assert "email" in body["detail"]
    taken = await shop.owner.patch(
        f"/v1/technicians/{shop.technician['id']}", {"email": "AVA@acme.test"}
    )
    problem(taken, 409)
    bad = await shop.owner.post("/v1/technicians", {"name": "Bad", "email": "not-an-email"})
    problem(bad, 422, "email")

    path = f"/v1/technicians/{shop.technician['id']}"
    set_ = await shop.owner.patch(path, {"email": "dana@acme.test"})
    assert set_.json()["email"] == "dana@acme.test"
    kept = await shop.owner.patch(path, {"name": "Dana R."})
    assert kept.json()["email"] == "dana@acme.test"
    cleared = await shop.owner.patch(path, {"email": None})
    assert cleared.status_code == 200
    assert cleared.json()["email"] is None
    listed = (await shop.owner.get("/v1/technicians")).json()["items"]
    assert {t["name"]: t["email"] for t in listed} == {"Ava Kim": "ava@acme.test", "Dana R.": None}


async def test_business_hours_round_trip_in_weekday_order(shop: Shop) -> None:
    response = await shop.owner.get("/v1/business-hours")
    assert response.status_code == 200
    assert response.json() == SPLIT_SHIFT


async def test_overlapping_or_inverted_periods_are_refused_naming_the_period(shop: Shop) -> None:
    overlapping = {
        "periods": [
            {"weekday": "mon", "start": "08:00", "end": "12:00"},
            {"weekday": "mon", "start": "11:00", "end": "13:00"},
        ]
    }
    body = problem(await shop.owner.put("/v1/business-hours", overlapping), 422, "periods")
    assert [e["field"] for e in body["errors"]] == ["periods[1]"]
    inverted = {"periods": [{"weekday": "tue", "start": "17:00", "end": "08:00"}]}
    body = problem(await shop.owner.put("/v1/business-hours", inverted), 422, "periods")
    assert [e["field"] for e in body["errors"]] == ["periods[0]"]
    assert (await shop.owner.get("/v1/business-hours")).json() == SPLIT_SHIFT  # unchanged


async def test_availability_offers_the_earliest_distinct_starts_in_local_time(shop: Shop) -> None:
    monday = next_monday()
    slots = await shop.slots(limit=3)
    assert slots == [
        {
            "technician_id": shop.technician["id"],
            "start": stamp(monday, clock),
            "end": (at(monday, clock) + timedelta(minutes=90)).isoformat(),
        }
        for clock in ("08:00", "08:30", "09:00")
    ]


async def test_spread_day_gives_one_slot_per_day(shop: Shop) -> None:
    monday = next_monday()
    query = {
        "item_id": shop.item["id"],
        "from": at(monday, "00:00").isoformat(),
        "to": at(monday + timedelta(days=2), "23:59").isoformat(),
        "limit": 5,
        "spread": "day",
    }
    response = await shop.owner.get("/v1/availability", **query)
    starts = [slot["start"] for slot in response.json()["slots"]]
    assert starts == [stamp(monday + timedelta(days=d), "08:00") for d in range(3)]


async def test_hold_then_book_once_per_idempotency_key(shop: Shop, admin_engine) -> None:
    monday = next_monday()
    held = await shop.hold(stamp(monday, "09:00"))
    assert held.status_code == 201, held.text
    hold = held.json()
    assert (hold["status"], hold["start"]) == ("held", stamp(monday, "09:00"))
    expires = datetime.fromisoformat(hold["expires_at"])
    assert timedelta(minutes=14) < expires - datetime.now(CHICAGO) <= timedelta(minutes=15)

    # The 90-minute job plus nothing else fits only from 10:30 that morning now.
    assert [s["start"] for s in await shop.slots(limit=3)] == [
        stamp(monday, "10:30"),
        stamp(monday, "13:00"),
        stamp(monday, "13:30"),
    ]
    problem(await shop.hold(stamp(monday, "08:30")), 409)  # overlaps 09:00-10:30

    headers = {"Idempotency-Key": "book-2025-acme-1", **shop.owner.headers}
    first = await shop.owner.client.post(
        "/v1/appointments", json={"hold_id": hold["hold_id"]}, headers=headers
    )
    again = await shop.owner.client.post(
        "/v1/appointments", json={"hold_id": hold["hold_id"]}, headers=headers
    )
    assert (first.status_code, again.status_code) == (201, 200), first.text
    assert first.json() == again.json()
    assert first.json() == {
        "id": hold["hold_id"],
        "start": stamp(monday, "09:00"),
        "end": stamp(monday, "10:30"),
        "technician_id": shop.technician["id"],
        "item_id": shop.item["id"],
        "contact_phone": "+14155550123",
        "price_cents": 18_900,
        "currency": "USD",
        "status": "booked",
    }
    booked = [e for e in await events(admin_engine, "appointment.booked.v1")]
    assert [e["appointment_id"] for e in booked].count(hold["hold_id"]) == 1

    other_key = {"Idempotency-Key": "book-2025-acme-2", **shop.owner.headers}
    replay = await shop.owner.client.post(
        "/v1/appointments", json={"hold_id": hold["hold_id"]}, headers=other_key
    )
    problem(replay, 409)
    problem(await shop.owner.delete(f"/v1/holds/{hold['hold_id']}"), 409)


async def test_the_price_is_snapshotted_at_booking(shop: Shop) -> None:
    hold = (await shop.hold(stamp(next_monday(), "13:00"))).json()
    await shop.owner.patch(f"/v1/catalog/items/{shop.item['id']}", {"price_cents": 25_000})
    booked = await shop.owner.post("/v1/appointments", {"hold_id": hold["hold_id"]})
    await shop.owner.patch(f"/v1/catalog/items/{shop.item['id']}", {"price_cents": 30_000})
    listed = await shop.owner.get(
        "/v1/appointments",
        **{
            "from": at(next_monday(), "00:00").isoformat(),
            "to": at(next_monday(), "23:59").isoformat(),
        },
    )
    assert booked.json()["price_cents"] == 25_000
    assert [a["price_cents"] for a in listed.json()["items"]] == [25_000]


async def test_times_that_can_never_be_booked_are_422_with_the_reason(shop: Shop) -> None:
    monday = next_monday()
    cases = {
        stamp(monday, "12:00"): "outside business hours",  # lunch break
        stamp(monday, "16:00"): "outside business hours",  # would end at 17:30
        (datetime.now(CHICAGO) - timedelta(hours=1)).isoformat(): "in the past",
        (datetime.now(CHICAGO) + timedelta(minutes=10)).isoformat(): "minimum notice",
        stamp(monday + timedelta(days=21), "09:00"): "horizon",
    }
    for start, reason in cases.items():
        body = problem(await shop.hold(start), 422, "start")
        assert reason in body["detail"], (start, body)
    body = problem(await shop.hold(stamp(monday, "09:00"), contact_phone="415-555"), 422)
    assert "contact_phone" in body["detail"]


async def test_a_closed_date_and_a_busy_block_remove_their_slots(shop: Shop) -> None:
    monday = next_monday()
    closed = await shop.owner.post(
        "/v1/closures", {"date": monday.isoformat(), "reason": "Holiday"}
    )
    assert closed.status_code == 201
    problem(await shop.owner.post("/v1/closures", {"date": monday.isoformat()}), 409, "date")
    assert await shop.slots() == []
    problem(await shop.hold(stamp(monday, "09:00")), 422, "start")
    assert (await shop.owner.delete(f"/v1/closures/{closed.json()['id']}")).status_code == 204

    block = await shop.owner.post(
        "/v1/busy-blocks",
        {
            "technician_id": shop.technician["id"],
            "start": stamp(monday, "08:00"),
            "end": stamp(monday, "11:00"),
        },
    )
    assert block.status_code == 201, block.text
    assert block.json()["source"] == "manual"
    assert (await shop.slots(limit=1))[0]["start"] == stamp(monday, "13:00")
    problem(await shop.hold(stamp(monday, "10:00")), 409)


async def test_reschedule_moves_atomically_and_cancel_frees_the_time(shop: Shop) -> None:
    monday = next_monday()
    first = (await shop.hold(stamp(monday, "08:00"))).json()
    await shop.owner.post("/v1/appointments", {"hold_id": first["hold_id"]})
    second = (await shop.hold(stamp(monday, "13:00"))).json()
    await shop.owner.post("/v1/appointments", {"hold_id": second["hold_id"]})
    path = f"/v1/appointments/{first['hold_id']}"

    taken = {"technician_id": shop.technician["id"], "start": stamp(monday, "13:30")}
    problem(await shop.owner.post(f"{path}/reschedule", taken), 409)
    # Overlapping its own old time is fine: the move is one statement.
    moved = await shop.owner.post(
        f"{path}/reschedule",
        {"technician_id": shop.technician["id"], "start": stamp(monday, "08:30")},
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["start"], moved.json()["end"]) == (
        stamp(monday, "08:30"),
        stamp(monday, "10:00"),
    )
    canceled = await shop.owner.post(f"{path}/cancel")
    assert canceled.json()["status"] == "canceled"
    assert (await shop.owner.post(f"{path}/cancel")).status_code == 200  # twice: no change
    assert (await shop.slots(limit=1))[0]["start"] == stamp(monday, "08:00")


async def test_a_released_hold_cannot_be_booked(shop: Shop) -> None:
    hold = (await shop.hold(stamp(next_monday(), "09:00"))).json()
    assert (await shop.owner.delete(f"/v1/holds/{hold['hold_id']}")).status_code == 204
    problem(await shop.owner.post("/v1/appointments", {"hold_id": hold["hold_id"]}), 410)
    problem(await shop.owner.delete(f"/v1/holds/{uuid.uuid4()}"), 404)


async def test_an_expired_hold_is_410_and_its_time_is_free(shop: Shop, admin_engine) -> None:
    hold = (await shop.hold(stamp(next_monday(), "09:00"))).json()
    async with admin_engine.begin() as conn:  # let the time limit pass
        await conn.execute(
            text("UPDATE bookings SET expires_at = now() - interval '1 second' WHERE id = :id"),
            {"id": hold["hold_id"]},
        )
    assert stamp(next_monday(), "09:00") in [s["start"] for s in await shop.slots(limit=5)]
    again = await shop.hold(stamp(next_monday(), "09:00"))
    assert again.status_code == 201, again.text
    problem(await shop.owner.post("/v1/appointments", {"hold_id": hold["hold_id"]}), 410)


async def test_settings_are_checked_and_change_the_offers(shop: Shop) -> None:
    body = problem(await shop.owner.patch("/v1/settings", {"hold_ttl_minutes": 61}), 422)
    assert "hold_ttl_minutes" in str(body)
    changed = await shop.owner.patch(
        "/v1/settings", {"slot_granularity_minutes": 60, "daily_limit_per_technician": None}
    )
    scheduling = {k: v for k, v in changed.json().items() if k in SCHEDULING_SETTINGS}
    assert scheduling == {
        "slot_granularity_minutes": 60,
        "buffer_minutes": 0,
        "min_notice_minutes": 60,
        "horizon_days": 14,
        "hold_ttl_minutes": 15,
        "daily_limit_per_technician": None,
    }
    starts = [s["start"] for s in await shop.slots(limit=3)]
    assert starts == [stamp(next_monday(), c) for c in ("08:00", "09:00", "10:00")]


async def test_a_tech_books_but_does_not_set_up(shop: Shop, client, new_uow) -> None:
    tenant_id = uuid.UUID((await shop.owner.get("/v1/me")).json()["tenant"]["id"])
    tech = await tech_of(client, new_uow, tenant_id, "sam@acme-plumbing.example")
    assert await shop.slots(tech, limit=1)
    assert (await shop.hold(stamp(next_monday(), "09:00"), caller=tech)).status_code == 201
    problem(await tech.post("/v1/technicians", {"name": "Intruder"}), 403)
    problem(await tech.patch("/v1/settings", {"buffer_minutes": 30}), 403)
    problem(await tech.put("/v1/business-hours", SPLIT_SHIFT), 403)


async def test_thirty_two_racing_holds_give_one_201(shop: Shop, admin_engine) -> None:
    async def deadlocks() -> int:
        async with admin_engine.connect() as conn:
            query = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
            return int((await conn.execute(text(query))).scalar_one())

    before = await deadlocks()
    start = stamp(next_monday(), "14:00")

    async def timed() -> tuple[int, float]:
        began = time.perf_counter()
        response = await shop.hold(start)
        return response.status_code, time.perf_counter() - began

    results = await asyncio.gather(*(timed() for _ in range(32)))
    codes = sorted(code for code, _ in results)
    assert codes == [201] + [409] * 31
    assert max(elapsed for _, elapsed in results) < 1.0
    assert await deadlocks() == before
