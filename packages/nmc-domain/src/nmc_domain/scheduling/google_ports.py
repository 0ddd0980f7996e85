"""The Google Calendar port: what scheduling needs of a technician's Google Calendar.

Every call takes the technician's refresh token in clear (the use case unseals it); the
adapter trades it for access tokens and caches those until they expire. The adapter knows its
own redirect URI and webhook address (both under NMC_PUBLIC_BASE_URL).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Protocol

import attrs

__all__ = [
    "CalendarAccessRevoked",
    "CalendarProviderError",
    "EventsPage",
    "GoogleCalendarApi",
    "GoogleEvent",
    "OwnEvent",
    "SyncTokenExpired",
    "WatchedChannel",
]


class CalendarProviderError(Exception):
    """The provider failed or refused (5xx, timeout, network, an unexpected 4xx): nothing is
    known about the calendar from this call. `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CalendarAccessRevoked(CalendarProviderError):
    """The grant is gone (`invalid_grant` on refresh, 401 after a refresh): the technician has
    to connect again. Retrying does not help."""


class SyncTokenExpired(CalendarProviderError):
    """410 Gone on a sync-token (or page-token) request: a full sync is needed."""


@attrs.frozen
class GoogleEvent:
    """One event as events.list returns it (singleEvents=true: recurring ones expanded).

    Timed events have `start`/`end` (aware); all-day events `start_date`/`end_date` (end
    exclusive, in the calendar's zone). A cancelled event may carry neither."""

    id: str
    status: str  # "confirmed", "tentative" or "cancelled"
    transparency: str | None = None  # "opaque" (or absent): busy; "transparent": free
    start: datetime | None = None
    end: datetime | None = None
    start_date: date | None = None
    end_date: date | None = None
    recurring_event_id: str | None = None
    private: Mapping[str, str] = attrs.field(factory=dict)  # extendedProperties.private


@attrs.frozen
class EventsPage:
    """One page of events.list: the last page has `next_sync_token`, the others
    `next_page_token`. `time_zone` is the calendar's zone (IANA name)."""

    events: tuple[GoogleEvent, ...]
    next_page_token: str | None = None
    next_sync_token: str | None = None
    time_zone: str | None = None


@attrs.frozen
class WatchedChannel:
    """A push channel Google accepted (events.watch)."""

    resource_id: str
    expires_at: datetime


@attrs.frozen
class OwnEvent:
    """An appointment as an event in the technician's calendar; `id` is derived from our
    appointment id, so a retried insert never makes a second event."""

    id: str
    summary: str
    description: str
    start: datetime
    end: datetime
    private: Mapping[str, str] = attrs.field(factory=dict)


class GoogleCalendarApi(Protocol):
    """Google's OAuth 2.0 and Calendar API v3 for one technician's calendar at a time."""

    def consent_url(self, state: str) -> str:
        """The consent page (scopes: calendar events and free/busy, offline access)."""
        ...

    async def exchange_code(self, code: str) -> str:
        """The refresh token the authorization code grants; CalendarProviderError when Google
        refuses the code or grants no refresh token."""
        ...

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
        """One page of events: changes since `sync_token` (deleted ones included, as
        cancelled), or every event in [time_min, time_max) for a full sync. SyncTokenExpired
        on 410."""
        ...

    async def watch(
        self, refresh_token: str, calendar_id: str, *, channel_id: str, token: str
    ) -> WatchedChannel:
        """Open a push channel for the calendar's events to our webhook."""
        ...

    async def stop(self, refresh_token: str, *, channel_id: str, resource_id: str) -> None:
        """Stop a push channel (one Google no longer knows is stopped already)."""
        ...

    async def free_busy(
        self, refresh_token: str, calendar_id: str, start: datetime, end: datetime
    ) -> tuple[tuple[datetime, datetime], ...]:
        """The busy intervals of the calendar within [start, end) (freebusy.query)."""
        ...

    async def put_event(self, refresh_token: str, calendar_id: str, event: OwnEvent) -> None:
        """Insert the event with its id, or update it when that id exists already."""
        ...

    async def delete_event(self, refresh_token: str, calendar_id: str, event_id: str) -> None:
        """Delete the event (one already gone is fine)."""
        ...

    async def revoke(self, refresh_token: str) -> None:
        """Revoke the grant (disconnecting); failures are the caller's to ignore."""
        ...
