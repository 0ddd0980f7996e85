"""The inbound sync's pure rules: which Google events are busy, and what the shadow busy
blocks must become.

Google's busy events become busy blocks with `source = google` and `external_id` = the
event's id (the "shadow" of the calendar). A busy block lasts at most 31 days (the window
read relies on it), so a longer event is split into pieces: the first keeps the event's id,
the others are `<id>#<n>` (Google's ids never hold a '#').
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs

from nmc_domain.scheduling.google import GOOGLE, GoogleLink
from nmc_domain.scheduling.google_outbound import appointment_of_event
from nmc_domain.scheduling.google_ports import GoogleEvent
from nmc_domain.scheduling.model import MAX_BUSY_BLOCK, BusyBlock

__all__ = ["ShadowPlan", "busy_pieces", "plan_shadow", "sync_window"]

_PIECE = "#"


def sync_window(today: date, horizon_days: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """A full sync's [start, end): local midnight of yesterday to the end of the horizon's last
    day."""
    start = datetime.combine(today - timedelta(days=1), time(), zone)
    end = datetime.combine(today + timedelta(days=horizon_days + 1), time(), zone)
    return start, end


def _span(event: GoogleEvent, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    if event.start is not None and event.end is not None:
        return event.start, event.end
    if event.start_date is not None and event.end_date is not None:
        # Local midnights in the calendar's zone: a day across a DST change is 23 or 25 hours.
        return (
            datetime.combine(event.start_date, time(), zone),
            datetime.combine(event.end_date, time(), zone),
        )
    return None


def busy_pieces(event: GoogleEvent, zone: ZoneInfo) -> tuple[tuple[str, datetime, datetime], ...]:
    """(external id, start, end) of each busy block the event makes; () when it is not busy
    for us: cancelled, transparent ("free"), one of our own appointments, or without times."""
    if event.status == "cancelled" or event.transparency == "transparent":
        return ()
    if appointment_of_event(event.id, event.private) is not None:
        return ()  # our appointment coming back: it already takes its time
    span = _span(event, zone)
    if span is None or span[1] <= span[0]:
        return ()
    # In UTC: 31 days of wall time across a DST change would be an hour more or less.
    start, end = span[0].astimezone(UTC), span[1].astimezone(UTC)
    pieces: list[tuple[str, datetime, datetime]] = []
    while start < end:
        stop = min(end, start + MAX_BUSY_BLOCK)
        name = event.id if not pieces else f"{event.id}{_PIECE}{len(pieces)}"
        pieces.append((name, start, stop))
        start = stop
    return tuple(pieces)


def _event_of(external_id: str) -> str:
    return external_id.split(_PIECE, 1)[0]


@attrs.frozen
class ShadowPlan:
    """What one sync writes: blocks to insert or move, external ids to remove. `changed`
    counts what the calendar changed; `pruned`, the rows dropped for having ended before the
    window (housekeeping, never drift)."""

    put: tuple[BusyBlock, ...] = ()
    remove: tuple[str, ...] = ()
    changed: int = 0
    pruned: int = 0


def plan_shadow(
    link: GoogleLink,
    current: Iterable[BusyBlock],
    events: Sequence[GoogleEvent],
    *,
    full: bool,
    zone: ZoneInfo,
    keep_after: datetime,
) -> ShadowPlan:
    """The changes that make the link's technician's shadow rows (`current`) say what
    `events` say. A full sync's events are the whole calendar (rows of other events go); an
    incremental one's, only what changed (later entries of one id win). Nothing that ends by
    `keep_after` is kept or written."""
    rows = {block.external_id: block for block in current if block.external_id is not None}
    latest = {event.id: event for event in events}
    wanted: dict[str, tuple[datetime, datetime]] = {}
    for event in latest.values():
        for name, start, end in busy_pieces(event, zone):
            if end > keep_after:
                wanted[name] = (start, end)
    # Rows that ended before the window go, whatever the events say (housekeeping).
    stale = sorted(
        name for name, block in rows.items() if block.end <= keep_after and name not in wanted
    )
    live = set(rows).difference(stale)
    # A full sync speaks for every row; an incremental one for the events it names.
    touched = live if full else {name for name in live if _event_of(name) in latest}
    remove = sorted(name for name in touched if name not in wanted)
    put: list[BusyBlock] = []
    for name, (start, end) in sorted(wanted.items()):
        block = rows.get(name)
        if block is None:
            block = BusyBlock(
                uuid.uuid4(), link.tenant_id, link.technician_id, start, end, GOOGLE, name
            )
        elif (block.start, block.end) != (start, end):
            block = attrs.evolve(block, start=start, end=end)
        else:
            continue
        put.append(block)
    return ShadowPlan(tuple(put), (*remove, *stale), len(put) + len(remove), len(stale))
