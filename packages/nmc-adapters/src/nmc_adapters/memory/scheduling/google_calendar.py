"""A fake Google Calendar in memory (the `GoogleCalendarApi` port) for fast use-case tests:
one calendar per grant, paging, sync tokens (deleted events come back cancelled), 410 once
the calendar's sync state is invalidated, channels, and failures injected per method."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import attrs

from nmc_domain.scheduling.google_ports import (
    CalendarAccessRevoked,
    CalendarProviderError,
    EventsPage,
    GoogleEvent,
    OwnEvent,
    SyncTokenExpired,
    WatchedChannel,
)

__all__ = ["FakeGoogleCalendar", "WatchCall"]


@attrs.define
class _Calendar:
    zone: str
    events: dict[str, tuple[GoogleEvent, int]] = attrs.field(factory=dict)
    generation: int = 0


@attrs.frozen
class WatchCall:
    refresh_token: str
    calendar_id: str
    channel_id: str
    token: str
    resource_id: str


class FakeGoogleCalendar:
    """`exchange_code(code)` grants the refresh token `grant(code)` set up (any other code is
    refused); every grant has its own calendar (id "primary"). `fail_next(method, error)`
    makes the next call of that method raise `error` (or, with `after_pages`, a list after
    that many pages)."""

    def __init__(self, *, zone: str = "UTC", page_size: int = 100) -> None:
        self.zone = zone
        self.page_size = page_size
        self.now = datetime(2025, 1, 6, 15, 0, tzinfo=UTC)
        self.channel_ttl = timedelta(days=7)
        self._codes: dict[str, str] = {}
        self._calendars: dict[str, _Calendar] = {}
        self._revoked: set[str] = set()
        self._seq = itertools.count(1)
        self._pages: dict[str, tuple[str, tuple[GoogleEvent, ...], int, str]] = {}
        self._faults: dict[str, list[tuple[CalendarProviderError, int]]] = defaultdict(list)
        self.calls: list[str] = []
        self.watches: list[WatchCall] = []
        self.stopped: list[tuple[str, str]] = []  # (channel id, resource id)
        self.revoked_tokens: list[str] = []
        self.put: list[OwnEvent] = []

    # --- set-up, as if the technician used Google --------------------------------------------

    def grant(self, code: str, refresh_token: str, *, zone: str | None = None) -> str:
        self._codes[code] = refresh_token
        self._calendars.setdefault(refresh_token, _Calendar(zone or self.zone))
        return refresh_token

    def calendar(self, refresh_token: str) -> _Calendar:
        return self._calendars.setdefault(refresh_token, _Calendar(self.zone))

    def set_event(self, refresh_token: str, event: GoogleEvent) -> None:
        self.calendar(refresh_token).events[event.id] = (event, next(self._seq))

    def cancel_event(self, refresh_token: str, event_id: str) -> None:
        calendar = self.calendar(refresh_token)
        event, _ = calendar.events[event_id]
        calendar.events[event_id] = (attrs.evolve(event, status="cancelled"), next(self._seq))

    def invalidate_sync_tokens(self, refresh_token: str) -> None:
        self.calendar(refresh_token).generation += 1

    def revoke_grant(self, refresh_token: str) -> None:
        self._revoked.add(refresh_token)

    def fail_next(self, method: str, error: CalendarProviderError, *, after_pages: int = 0) -> None:
        self._faults[method].append((error, after_pages))

    # --- the port --------------------------------------------------------------------------

    def _enter(self, method: str, refresh_token: str | None) -> None:
        self.calls.append(method)
        faults = self._faults[method]
        if faults and faults[0][1] == 0:
            raise faults.pop(0)[0]
        if refresh_token is not None and refresh_token in self._revoked:
            raise CalendarAccessRevoked("invalid_grant", status=400)

    def consent_url(self, state: str) -> str:
        return f"https://accounts.google.test/o/oauth2/v2/auth?state={state}"

    async def exchange_code(self, code: str) -> str:
        self._enter("exchange_code", None)
        if code not in self._codes:
            raise CalendarProviderError("invalid_grant: Malformed auth code.", status=400)
        return self._codes.pop(code)

    async def list_events(
        self,
        refresh_token: str,
        calendar_id: str,
        *,
        sync_token: str | None = None,
        time_min: datetime | None = None,
        time_max: datetime | None = None,
        page_token: str | None = None,
    ) -> EventsPage:
        self._enter("list_events", refresh_token)
        calendar = self.calendar(refresh_token)
        faults = self._faults["list_events"]
        if faults:  # a fault due after some pages: count this page
            error, after = faults[0]
            faults[0] = (error, after - 1)
        if page_token is not None:
            owner, items, offset, generation = self._pages.pop(page_token)
            if generation != str(calendar.generation):
                raise SyncTokenExpired("410 Gone (page token)", status=410)
        else:
            items, offset = self._select(calendar, sync_token, time_min, time_max), 0
            owner, generation = refresh_token, str(calendar.generation)
        end = offset + self.page_size
        page = items[offset:end]
        if end < len(items):
            token = f"page-{next(self._seq)}"
            self._pages[token] = (owner, items, end, generation)
            return EventsPage(page, next_page_token=token, time_zone=calendar.zone)
        sync = f"sync-{self._last_seq(calendar)}-{calendar.generation}"
        return EventsPage(page, next_sync_token=sync, time_zone=calendar.zone)

    @staticmethod
    def _last_seq(calendar: _Calendar) -> int:
        return max((seq for _, seq in calendar.events.values()), default=0)

    def _select(
        self,
        calendar: _Calendar,
        sync_token: str | None,
        time_min: datetime | None,
        time_max: datetime | None,
    ) -> tuple[GoogleEvent, ...]:
        if sync_token is not None:
            _, seq, generation = sync_token.split("-")
            if generation != str(calendar.generation):
                raise SyncTokenExpired("410 Gone", status=410)
            changed = sorted((s, e) for e, s in calendar.events.values() if s > int(seq))
            return tuple(e for _, e in changed)
        found = []
        for event, _ in calendar.events.values():
            if event.status == "cancelled":
                continue
            start = event.start or _midnight(event.start_date)
            end = event.end or _midnight(event.end_date)
            if (time_min is None or end > time_min) and (time_max is None or start < time_max):
                found.append(event)
        return tuple(sorted(found, key=lambda e: e.id))

    async def watch(
        self, refresh_token: str, calendar_id: str, *, channel_id: str, token: str
    ) -> WatchedChannel:
        self._enter("watch", refresh_token)
        if any(call.channel_id == channel_id for call in self.watches):
            raise CalendarProviderError("channelIdNotUnique", status=400)
        resource = f"resource-{refresh_token}"
        self.watches.append(WatchCall(refresh_token, calendar_id, channel_id, token, resource))
        return WatchedChannel(resource, self.now + self.channel_ttl)

    async def stop(self, refresh_token: str, *, channel_id: str, resource_id: str) -> None:
        self._enter("stop", refresh_token)
        self.stopped.append((channel_id, resource_id))

    async def free_busy(
        self, refresh_token: str, calendar_id: str, start: datetime, end: datetime
    ) -> tuple[tuple[datetime, datetime], ...]:
        self._enter("free_busy", refresh_token)
        busy = []
        for event, _ in self.calendar(refresh_token).events.values():
            if event.status == "cancelled" or event.transparency == "transparent":
                continue
            if event.start is None or event.end is None:
                continue  # all-day events: not needed by any test of this fake
            if event.start < end and start < event.end:
                busy.append((max(event.start, start), min(event.end, end)))
        return tuple(sorted(busy))

    async def put_event(self, refresh_token: str, calendar_id: str, event: OwnEvent) -> None:
        self._enter("put_event", refresh_token)
        self.put.append(event)
        mirrored = GoogleEvent(event.id, "confirmed", start=event.start, end=event.end)
        self.set_event(refresh_token, attrs.evolve(mirrored, private=dict(event.private)))

    async def delete_event(self, refresh_token: str, calendar_id: str, event_id: str) -> None:
        self._enter("delete_event", refresh_token)
        if event_id in self.calendar(refresh_token).events:
            self.cancel_event(refresh_token, event_id)

    async def revoke(self, refresh_token: str) -> None:
        self._enter("revoke", refresh_token)
        self.revoked_tokens.append(refresh_token)
        self._revoked.add(refresh_token)


def _midnight(day: object) -> datetime:
    assert day is not None
    return datetime.fromisoformat(f"{day}T00:00:00+00:00")
