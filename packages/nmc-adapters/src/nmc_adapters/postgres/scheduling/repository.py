"""Scheduling in PostgreSQL: the setup's repositories, bookings, and the window read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import and_, bindparam, delete, func, literal_column, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from nmc_adapters.postgres.queries import by_id, insert_of, page_queries, rows_page, write_now
from nmc_adapters.postgres.rows import CONVERTER, RowMapper
from nmc_adapters.postgres.scheduling.tables import (
    bookings,
    business_hours,
    busy_blocks,
    closures,
    scheduling_settings,
    technicians,
)
from nmc_adapters.postgres.sql import Db, compiled
from nmc_domain.scheduling.availability import Taken
from nmc_domain.scheduling.booking import Booking, BookingStatus
from nmc_domain.scheduling.errors import SlotTaken
from nmc_domain.scheduling.model import BusyBlock, Closure, Period, Technician, Weekday, WeeklyHours
from nmc_domain.scheduling.ports import CalendarWindow
from nmc_domain.scheduling.settings import SchedulingSettings
from nmc_domain.shared.pages import PageKey
from nmc_domain.shared.ports import RowLock

__all__ = [
    "PgBookings",
    "PgBusinessHours",
    "PgBusyBlocks",
    "PgCalendar",
    "PgClosures",
    "PgSchedulingSettings",
    "PgTechnicians",
]


def _hours_json(hours: WeeklyHours) -> list[list[int]]:
    return [[int(p.weekday), p.start, p.end] for p in hours.periods]


def _hours(value: Any) -> WeeklyHours:
    return WeeklyHours(tuple(Period(Weekday(day), start, end) for day, start, end in value))


# Weekly hours are JSON in their columns; item sets are arrays.
CONVERTER.register_unstructure_hook(WeeklyHours, lambda hours: Jsonb(_hours_json(hours)))
CONVERTER.register_structure_hook(WeeklyHours, lambda value, _: _hours(value))

TECHNICIANS = RowMapper(Technician)
_TECH_INSERT = insert_of(technicians, TECHNICIANS.columns)
_TECH_GET = by_id(technicians)
_TECH_SAVE = compiled(
    update(technicians)
    .where(technicians.c.tenant_id == bindparam("tenant_id"), technicians.c.id == bindparam("id"))
    .values(
        {c: bindparam(c) for c in ("name", "active", "item_ids", "hours", "email")}
        | {"updated_at": func.now()}
    )
)
_TECH_PAGE = page_queries(technicians, technicians.c.name)
_TECH_BY_EMAILS = compiled(
    select(technicians).where(
        technicians.c.tenant_id == bindparam("tenant_id"),
        technicians.c.email == func.any(bindparam("emails")),
    )
)
_TECH_CONFLICTS = {"technicians_one_per_email": ("email", "another technician has this email")}


class PgTechnicians:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(self, technician: Technician) -> None:
        await write_now(self._db, _TECH_INSERT, TECHNICIANS.row(technician), _TECH_CONFLICTS)

    async def get(
        self, tenant_id: UUID, technician_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> Technician | None:
        row = await self._db.one(_TECH_GET[lock], {"tenant_id": tenant_id, "id": technician_id})
        return None if row is None else TECHNICIANS.value(row)

    async def save(self, technician: Technician) -> None:
        await write_now(self._db, _TECH_SAVE, TECHNICIANS.row(technician), _TECH_CONFLICTS)

    async def page(
        self, tenant_id: UUID, after: PageKey | None, limit: int
    ) -> Sequence[Technician]:
        rows = await rows_page(self._db, _TECH_PAGE, tenant_id, after, limit)
        return [TECHNICIANS.value(row) for row in rows]

    async def by_emails(self, tenant_id: UUID, emails: Iterable[str]) -> Sequence[Technician]:
        wanted = sorted({email.lower() for email in emails})
        if not wanted:
            return []
        rows = await self._db.all(_TECH_BY_EMAILS, {"tenant_id": tenant_id, "emails": wanted})
        return [TECHNICIANS.value(row) for row in rows]


_HOURS_GET = compiled(
    select(business_hours.c.periods).where(business_hours.c.tenant_id == bindparam("tenant_id"))
)
_HOURS_PUT = compiled(
    pg_insert(business_hours)
    .values(tenant_id=bindparam("tenant_id"), periods=bindparam("periods"))
    .on_conflict_do_update(
        index_elements=["tenant_id"],
        set_={"periods": bindparam("periods"), "updated_at": func.now()},
    )
)


class PgBusinessHours:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def get(self, tenant_id: UUID) -> WeeklyHours:
        row = await self._db.one(_HOURS_GET, {"tenant_id": tenant_id})
        return WeeklyHours() if row is None else _hours(row["periods"])

    async def replace(self, tenant_id: UUID, hours: WeeklyHours) -> None:
        params = {"tenant_id": tenant_id, "periods": Jsonb(_hours_json(hours))}
        await self._db.run(_HOURS_PUT, params)

    async def with_closures(
        self, tenant_id: UUID, first: date, last: date
    ) -> tuple[WeeklyHours, frozenset[date]]:
        params = {"tenant_id": tenant_id, "first_day": first, "last_day": last}
        hours, closed = await self._db.all_many([(_HOURS_GET, params), (_WINDOW_CLOSURES, params)])
        return (
            _hours(hours[0]["periods"]) if hours else WeeklyHours(),
            frozenset(row["day"] for row in closed),
        )


SETTINGS = RowMapper(SchedulingSettings)
_SETTINGS_GET = compiled(
    select(scheduling_settings).where(scheduling_settings.c.tenant_id == bindparam("tenant_id"))
)
_SETTINGS_PUT = compiled(
    pg_insert(scheduling_settings)
    .values({c: bindparam(c) for c in SETTINGS.columns})
    .on_conflict_do_update(
        index_elements=["tenant_id"],
        set_={c: bindparam(c) for c in SETTINGS.columns if c != "tenant_id"}
        | {"updated_at": func.now()},
    )
)


class PgSchedulingSettings:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def get(self, tenant_id: UUID) -> SchedulingSettings:
        row = await self._db.one(_SETTINGS_GET, {"tenant_id": tenant_id})
        return SchedulingSettings(tenant_id) if row is None else SETTINGS.value(row)

    async def save(self, settings: SchedulingSettings) -> None:
        await self._db.run(_SETTINGS_PUT, SETTINGS.row(settings))


CLOSURES = RowMapper(Closure)
_CLOSURE_INSERT = insert_of(closures, CLOSURES.columns)
_CLOSURE_DELETE = compiled(
    delete(closures)
    .where(closures.c.tenant_id == bindparam("tenant_id"), closures.c.id == bindparam("id"))
    .returning(closures.c.id)
)
_CLOSURE_PAGE = page_queries(closures, closures.c.day)
_CLOSURE_CONFLICTS = {"closures_one_per_day": ("date", "this date is closed already")}


class PgClosures:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(self, closure: Closure) -> None:
        await write_now(self._db, _CLOSURE_INSERT, CLOSURES.row(closure), _CLOSURE_CONFLICTS)

    async def delete(self, tenant_id: UUID, closure_id: UUID) -> bool:
        found = await self._db.one(_CLOSURE_DELETE, {"tenant_id": tenant_id, "id": closure_id})
        return found is not None

    async def between(self, tenant_id: UUID, first: date, last: date) -> frozenset[date]:
        params = {"tenant_id": tenant_id, "first_day": first, "last_day": last}
        return frozenset(row["day"] for row in await self._db.all(_WINDOW_CLOSURES, params))

    async def page(self, tenant_id: UUID, after: PageKey | None, limit: int) -> Sequence[Closure]:
        # The key's sort part is the ISO date: compare it as a date.
        mark = None if after is None else (date.fromisoformat(after[0]), after[1])
        rows = await rows_page(self._db, _CLOSURE_PAGE, tenant_id, mark, limit)
        return [CLOSURES.value(row) for row in rows]


BLOCKS = RowMapper(BusyBlock, rename={"start": "start_at", "end": "end_at"})
_BLOCK_INSERT = insert_of(busy_blocks, BLOCKS.columns)
_BLOCK_DELETE = compiled(
    delete(busy_blocks)
    .where(busy_blocks.c.tenant_id == bindparam("tenant_id"), busy_blocks.c.id == bindparam("id"))
    .returning(busy_blocks.c.id)
)
_BLOCK_PAGE = page_queries(busy_blocks, busy_blocks.c.start_at)
_BLOCK_CONFLICTS = {"busy_blocks_one_per_event": ("external_id", "this event is stored already")}


class PgBusyBlocks:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(self, block: BusyBlock) -> None:
        await write_now(self._db, _BLOCK_INSERT, BLOCKS.row(block), _BLOCK_CONFLICTS)

    async def delete(self, tenant_id: UUID, block_id: UUID) -> bool:
        found = await self._db.one(_BLOCK_DELETE, {"tenant_id": tenant_id, "id": block_id})
        return found is not None

    async def page(self, tenant_id: UUID, after: PageKey | None, limit: int) -> Sequence[BusyBlock]:
        mark = None if after is None else (datetime.fromisoformat(after[0]), after[1])
        rows = await rows_page(self._db, _BLOCK_PAGE, tenant_id, mark, limit)
        return [BLOCKS.value(row) for row in rows]


BOOKINGS = RowMapper(
    Booking,
    rename={"start": "start_at", "end": "end_at"},
    extra={"active": lambda booking: booking.active},
)
_LOCK = b"SELECT pg_advisory_xact_lock(hashtextextended(%(key)s::text, 0))"
_TRY_LOCK = b"SELECT pg_try_advisory_xact_lock(hashtextextended(%(key)s::text, 0)) AS locked"
# Expired holds stop blocking in the transaction that claims their time.
_RELEASE_EXPIRED = b"""
    UPDATE bookings SET status = 'expired', active = false, updated_at = now()
    WHERE tenant_id = %(tenant_id)s::uuid AND technician_id = %(technician_id)s::uuid
      AND active AND status = 'held' AND expires_at <= now()
      AND during && tstzrange(%(start_at)s::timestamptz, %(blocked_until)s::timestamptz, '[)')
    """
_BOOKING_INSERT = insert_of(bookings, BOOKINGS.columns)
_BOOKING_MOVE = compiled(
    update(bookings)
    .where(bookings.c.tenant_id == bindparam("tenant_id"), bookings.c.id == bindparam("id"))
    .values(
        {c: bindparam(c) for c in ("technician_id", "start_at", "end_at", "blocked_until")}
        | {"updated_at": func.now()}
    )
)
_BOOKING_SAVE = compiled(
    update(bookings)
    .where(bookings.c.tenant_id == bindparam("tenant_id"), bookings.c.id == bindparam("id"))
    .values(
        {
            c: bindparam(c)
            for c in (
                "status",
                "active",
                "expires_at",
                "price_cents",
                "currency",
                "idempotency_key",
                "booked_at",
            )
        }
        | {"updated_at": func.now()}
    )
)
_BOOKING_GET = by_id(bookings)
_BOOKING_BY_KEY = compiled(
    select(bookings).where(
        bookings.c.tenant_id == bindparam("tenant_id"),
        bookings.c.idempotency_key == bindparam("key"),
    )
)
_BOOKING_CONFLICTS = {
    "bookings_one_per_key": ("Idempotency-Key", "this key was used to book another hold")
}


def _appointments_query(with_technician: bool, with_after: bool) -> bytes:
    query = select(bookings).where(
        bookings.c.tenant_id == bindparam("tenant_id"),
        bookings.c.status.in_([literal_column("'booked'"), literal_column("'canceled'")]),
        bookings.c.start_at >= bindparam("start"),
        bookings.c.start_at < bindparam("end"),
    )
    if with_technician:
        query = query.where(bookings.c.technician_id == bindparam("technician_id"))
    if with_after:
        query = query.where(
            or_(
                bookings.c.start_at > bindparam("after_start"),
                and_(
                    bookings.c.start_at == bindparam("after_start"),
                    bookings.c.id > bindparam("after_id"),
                ),
            )
        )
    return compiled(query.order_by(bookings.c.start_at, bookings.c.id).limit(bindparam("limit")))


_APPOINTMENTS = {
    (tech, after): _appointments_query(tech, after)
    for tech in (False, True)
    for after in (False, True)
}


class PgBookings:
    """The one writer of claimed time; the exclusion constraint refuses overlaps."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def lock_technician(
        self, tenant_id: UUID, technician_id: UUID, *, wait: bool = True
    ) -> bool:
        # Racing claims on one technician queue here, so the loser meets the winner's row as a
        # clean exclusion violation instead of a deadlock.
        row = await self._db.one(
            _LOCK if wait else _TRY_LOCK, {"key": f"{tenant_id}:{technician_id}"}
        )
        return wait or bool(row and row["locked"])

    async def _claim(self, sql: bytes, booking: Booking) -> None:
        row = BOOKINGS.row(booking)
        await self._db.run(_RELEASE_EXPIRED, row)
        try:
            await self._db.one(sql + b" RETURNING 1", row)
        except (psycopg.errors.ExclusionViolation, psycopg.errors.DeadlockDetected):
            raise SlotTaken() from None

    async def claim(self, booking: Booking) -> None:
        await self._claim(_BOOKING_INSERT, booking)

    async def move(self, booking: Booking) -> None:
        await self._claim(_BOOKING_MOVE, booking)

    async def save(self, booking: Booking) -> None:
        await write_now(self._db, _BOOKING_SAVE, BOOKINGS.row(booking), _BOOKING_CONFLICTS)

    async def get(
        self, tenant_id: UUID, booking_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> Booking | None:
        row = await self._db.one(_BOOKING_GET[lock], {"tenant_id": tenant_id, "id": booking_id})
        return None if row is None else BOOKINGS.value(row)

    async def by_idempotency_key(self, tenant_id: UUID, key: str) -> Booking | None:
        row = await self._db.one(_BOOKING_BY_KEY, {"tenant_id": tenant_id, "key": key})
        return None if row is None else BOOKINGS.value(row)

    async def appointments(
        self,
        tenant_id: UUID,
        start: datetime,
        end: datetime,
        technician_id: UUID | None,
        after: PageKey | None,
        limit: int,
    ) -> Sequence[Booking]:
        params: dict[str, Any] = {
            "tenant_id": tenant_id,
            "start": start,
            "end": end,
            "technician_id": technician_id,
            "limit": limit,
        }
        if after is not None:
            params |= {"after_start": datetime.fromisoformat(after[0]), "after_id": after[1]}
        sql = _APPOINTMENTS[(technician_id is not None, after is not None)]
        return [BOOKINGS.value(row) for row in await self._db.all(sql, params)]


# The window read: six queries, one round trip. Parameters are cast explicitly (psycopg's
# dialect renders the casts), so the indexes are usable.
_WINDOW_TECHNICIANS = compiled(
    select(technicians).where(
        technicians.c.tenant_id == bindparam("tenant_id"), technicians.c.active.is_(True)
    )
)
_WINDOW_TECHNICIAN = compiled(
    select(technicians).where(
        technicians.c.tenant_id == bindparam("tenant_id"),
        technicians.c.id == bindparam("technician_id"),
        technicians.c.active.is_(True),
    )
)
_WINDOW_CLOSURES = compiled(
    select(closures.c.day).where(
        closures.c.tenant_id == bindparam("tenant_id"),
        closures.c.day >= bindparam("first_day"),
        closures.c.day <= bindparam("last_day"),
    )
)


# Overlap is written as start_at bounds, not `during && range`: under row-level security only
# leakproof operators may drive an index, and range overlap is not one (timestamp comparisons
# are). Lengths are bounded (a job and its buffer under 2 days, a busy block at most 31 days),
# so a start_at range on the (tenant_id, start_at) btree finds every overlapping row.
def _columns(table: Any, mapper: RowMapper[Any]) -> bytes:
    """The mapped columns only: `during` (a range psycopg would parse for nothing) stays out."""
    return b", ".join(
        column.encode() for column in mapper.columns if column in table.c and column != "active"
    )


_WINDOW_BUSY = (
    b"SELECT " + _columns(busy_blocks, BLOCKS) + b" FROM busy_blocks "
    b"WHERE tenant_id = %(tenant_id)s::uuid "
    b"AND start_at >= %(start)s::timestamptz - interval '31 days' "
    b"AND start_at < %(end)s::timestamptz AND end_at > %(start)s::timestamptz"
)
_WINDOW_BOOKINGS = (
    b"SELECT " + _columns(bookings, BOOKINGS) + b" FROM bookings "
    b"WHERE tenant_id = %(tenant_id)s::uuid AND active "
    b"AND start_at >= %(start)s::timestamptz - interval '2 days' "
    b"AND start_at < %(end)s::timestamptz AND blocked_until > %(start)s::timestamptz"
)
_ONE_TECHNICIAN = b" AND technician_id = %(technician_id)s::uuid"


def _window_taken(one: bool) -> bytes:
    """The time live bookings take, merged per technician: a full calendar's thousands of
    back-to-back holds and appointments come back as a few stretches (PostgreSQL 14+)."""
    return (
        b"SELECT technician_id, lower(taken) AS start_at, upper(taken) AS end_at FROM ("
        b"SELECT technician_id, unnest(range_agg(during)) AS taken FROM bookings "
        b"WHERE tenant_id = %(tenant_id)s::uuid AND active "
        b"AND start_at >= %(start)s::timestamptz - interval '2 days' "
        b"AND start_at < %(end)s::timestamptz AND blocked_until > %(start)s::timestamptz "
        b"AND (status = 'booked' OR expires_at > now())"
        + (_ONE_TECHNICIAN if one else b"")
        + b" GROUP BY technician_id) AS merged"
    )


_WINDOW_TAKEN = {one: _window_taken(one) for one in (False, True)}


class PgCalendar:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def window(
        self,
        tenant_id: UUID,
        start: datetime,
        end: datetime,
        technician_id: UUID | None = None,
        *,
        merged: bool = False,
    ) -> CalendarWindow:
        params = {
            "tenant_id": tenant_id,
            "start": start,
            "end": end,
            "first_day": (start - timedelta(days=1)).date(),
            "last_day": (end + timedelta(days=1)).date(),
            "technician_id": technician_id,
        }
        one = technician_id is not None
        settings, hours, techs, closed, busy, booked = await self._db.all_many(
            [
                (_SETTINGS_GET, params),
                (_HOURS_GET, params),
                (_WINDOW_TECHNICIAN if one else _WINDOW_TECHNICIANS, params),
                (_WINDOW_CLOSURES, params),
                (_WINDOW_BUSY + _ONE_TECHNICIAN if one else _WINDOW_BUSY, params),
                (
                    _WINDOW_TAKEN[one]
                    if merged
                    else _WINDOW_BOOKINGS + _ONE_TECHNICIAN
                    if one
                    else _WINDOW_BOOKINGS,
                    params,
                ),
            ]
        )
        return CalendarWindow(
            settings=SETTINGS.value(settings[0]) if settings else SchedulingSettings(tenant_id),
            hours=_hours(hours[0]["periods"]) if hours else WeeklyHours(),
            technicians=tuple(TECHNICIANS.value(row) for row in techs),
            closures=frozenset(row["day"] for row in closed),
            busy=tuple(BLOCKS.value(row) for row in busy),
            bookings=() if merged else tuple(_claim(row) for row in booked),
            taken=tuple(
                Taken(row["technician_id"], row["start_at"], row["end_at"]) for row in booked
            )
            if merged
            else (),
        )


def _claim(row: dict[str, Any]) -> Booking:
    """A window row as a Booking, built directly: availability reads hundreds per search, and
    this is several times cheaper than the general mapper (the fields are the same)."""
    return Booking(
        id=row["id"],
        tenant_id=row["tenant_id"],
        technician_id=row["technician_id"],
        item_id=row["item_id"],
        contact_phone=row["contact_phone"],
        start=row["start_at"],
        end=row["end_at"],
        blocked_until=row["blocked_until"],
        status=BookingStatus(row["status"]),
        expires_at=row["expires_at"],
        price_cents=row["price_cents"],
        currency=row["currency"],
        idempotency_key=row["idempotency_key"],
        conversation_id=row["conversation_id"],
    )
