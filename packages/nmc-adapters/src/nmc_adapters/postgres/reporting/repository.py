"""Reports in PostgreSQL: the day's activity read from the other contexts' tables, episodes
written once (ON CONFLICT DO NOTHING), daily rows upserted (ON CONFLICT DO UPDATE)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from nmc_adapters.postgres.reporting.tables import report_daily, report_episodes
from nmc_adapters.postgres.rows import RowMapper
from nmc_adapters.postgres.sql import Db, Row, compiled
from nmc_domain.reporting.model import (
    Activity,
    BookingFact,
    DailyRow,
    Episode,
    Timeline,
    TimelineEvent,
    TimelineKind,
)

__all__ = ["PgReports"]

EPISODES = RowMapper(Episode, extra={"seconds": lambda episode: episode.seconds})
_ADD_EPISODE = compiled(
    pg_insert(report_episodes)
    .values({c: bindparam(c) for c in EPISODES.columns})
    .on_conflict_do_nothing(
        index_elements=["tenant_id", "conversation_id", "start_type", "started_at"]
    )
)
_EPISODES = compiled(
    select(report_episodes)
    .where(
        report_episodes.c.tenant_id == bindparam("tenant_id"),
        report_episodes.c.started_at >= bindparam("start"),
        report_episodes.c.started_at < bindparam("end"),
    )
    .order_by(report_episodes.c.started_at, report_episodes.c.conversation_id)
)
_DAY_COLUMNS = ("day", "metric", "count", "p50", "p95", "buckets", "total")
_SAVE_DAY = compiled(
    pg_insert(report_daily)
    .values({c: bindparam(c) for c in ("tenant_id", *_DAY_COLUMNS)})
    .on_conflict_do_update(
        index_elements=["tenant_id", "day", "metric"],
        set_={c: bindparam(c) for c in _DAY_COLUMNS if c not in ("day", "metric")},
    )
)
_DAYS = b"""
    SELECT day, metric, count, p50, p95, buckets, total FROM report_daily
    WHERE tenant_id = %(tenant_id)s::uuid AND day BETWEEN %(first)s::date AND %(last)s::date
      AND (%(metric)s::text IS NULL OR metric = %(metric)s::text)
    ORDER BY day, metric
    """
# Tenants are found through the number routing table (a system table, read across tenants):
# a tenant without a number has neither calls nor texts to report.
_TENANTS = b"SELECT DISTINCT tenant_id FROM phone_numbers ORDER BY tenant_id"
_WINDOW = "%(start)s::timestamptz AND {0} < %(end)s::timestamptz"
_T = "tenant_id = %(tenant_id)s::uuid"
# Conversations with any event in the window, then their whole timelines. Canceled texts
# never left, so they answered nobody.
_TIMELINES = f"""
    WITH active AS (
        SELECT conversation_id FROM messages WHERE {_T} AND conversation_id IS NOT NULL
          AND (created_at >= {_WINDOW.format("created_at")}
               OR accepted_at >= {_WINDOW.format("accepted_at")})
        UNION SELECT conversation_id FROM calls WHERE {_T} AND outcome = 'missed'
          AND conversation_id IS NOT NULL AND occurred_at >= {_WINDOW.format("occurred_at")}
        UNION SELECT conversation_id FROM conversation_handoffs WHERE {_T}
          AND at >= {_WINDOW.format("at")}
    )
    SELECT conversation_id,
           CASE WHEN direction = 'inbound' THEN 'inbound' ELSE author END AS kind,
           created_at AS at, accepted_at, NULL::timestamptz AS released_at
      FROM messages WHERE {_T} AND status <> 'canceled'
       AND conversation_id IN (SELECT conversation_id FROM active)
    UNION ALL
    SELECT conversation_id, 'missed_call', occurred_at, NULL, NULL FROM calls
     WHERE {_T} AND outcome = 'missed' AND conversation_id IN (SELECT conversation_id FROM active)
    UNION ALL
    SELECT conversation_id, 'handoff', at, NULL, released_at FROM conversation_handoffs
     WHERE {_T} AND conversation_id IN (SELECT conversation_id FROM active)
    """.encode()
_MISSED = (
    f"SELECT occurred_at AS at FROM calls WHERE {_T} AND outcome = 'missed' "
    f"AND occurred_at >= {_WINDOW.format('occurred_at')}"
).encode()
_TEXT_BACKS = (
    f"SELECT accepted_at AS at FROM messages WHERE {_T} AND direction = 'outbound' "
    f"AND author = 'text_back' AND accepted_at >= {_WINDOW.format('accepted_at')}"
).encode()
_OPT_OUTS = (
    f"SELECT occurred_at AS at FROM opt_outs WHERE {_T} AND action = 'opt_out' "
    f"AND occurred_at >= {_WINDOW.format('occurred_at')}"
).encode()
_BOOKINGS = f"""
    SELECT b.id, b.conversation_id, b.status, b.held_at, b.booked_at, b.price_cents,
           CASE WHEN c.opened_by = 'call' THEN (
               SELECT min(k.occurred_at) FROM calls k WHERE k.tenant_id = b.tenant_id
                  AND k.conversation_id = b.conversation_id AND k.outcome = 'missed'
           ) END AS call_at
      FROM bookings b
      LEFT JOIN conversations c ON c.tenant_id = b.tenant_id AND c.id = b.conversation_id
     WHERE b.tenant_id = %(tenant_id)s::uuid
       AND ((b.conversation_id IS NOT NULL AND b.held_at >= {_WINDOW.format("b.held_at")})
            OR b.booked_at >= {_WINDOW.format("b.booked_at")})
    """.encode()


def _timelines(rows: list[Row]) -> tuple[Timeline, ...]:
    events: dict[UUID, list[TimelineEvent]] = {}
    for row in rows:
        event = TimelineEvent(
            TimelineKind(row["kind"]), row["at"], row["accepted_at"], row["released_at"]
        )
        events.setdefault(row["conversation_id"], []).append(event)
    return tuple(Timeline(key, tuple(found)) for key, found in sorted(events.items()))


def _day(row: Row) -> DailyRow:
    return DailyRow(
        day=row["day"],
        metric=row["metric"],
        count=row["count"],
        p50=row["p50"],
        p95=row["p95"],
        buckets=tuple(row["buckets"]),
        total=row["total"],
    )


class PgReports:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def tenant_ids(self) -> Sequence[UUID]:
        return [row["tenant_id"] for row in await self._db.all(_TENANTS)]

    async def activity(self, tenant_id: UUID, start: datetime, end: datetime) -> Activity:
        params: dict[str, Any] = {"tenant_id": tenant_id, "start": start, "end": end}
        queries = (_TIMELINES, _MISSED, _TEXT_BACKS, _OPT_OUTS, _BOOKINGS)
        timelines, missed, text_backs, opt_outs, bookings = await self._db.all_many(
            [(sql, params) for sql in queries]
        )
        return Activity(
            timelines=_timelines(timelines),
            missed_calls=tuple(row["at"] for row in missed),
            text_backs_accepted=tuple(row["at"] for row in text_backs),
            opt_outs=tuple(row["at"] for row in opt_outs),
            bookings=tuple(BookingFact(**row) for row in bookings),
        )

    async def add_episodes(self, episodes: Sequence[Episode]) -> int:
        added = 0
        for episode in episodes:
            # RETURNING, not rowcount: in pipeline mode the count waits for a sync.
            added += len(await self._db.all(_ADD_EPISODE + b" RETURNING 1", EPISODES.row(episode)))
        return added

    async def episodes(self, tenant_id: UUID, start: datetime, end: datetime) -> Sequence[Episode]:
        rows = await self._db.all(_EPISODES, {"tenant_id": tenant_id, "start": start, "end": end})
        return [EPISODES.value(row) for row in rows]

    async def save_days(self, tenant_id: UUID, rows: Sequence[DailyRow]) -> None:
        for row in rows:
            params = {c: getattr(row, c) for c in _DAY_COLUMNS} | {"tenant_id": tenant_id}
            params["buckets"] = list(row.buckets)
            await self._db.run(_SAVE_DAY, params)

    async def days(
        self, tenant_id: UUID, first: date, last: date, metric: str | None
    ) -> Sequence[DailyRow]:
        params = {"tenant_id": tenant_id, "first": first, "last": last, "metric": metric}
        return [_day(row) for row in await self._db.all(_DAYS, params)]
