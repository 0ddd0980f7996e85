"""Google Calendar inbound: the sync job pulls the calendar's changes into the technician's
shadow busy blocks (the notifications that queue it are in `google_notices`).

A sync job first clears the queued mark (a notification arriving while it fetches queues the
next run), then fetches every page outside any transaction (with the stored sync token, else
the full window), and only after the last page writes the result in one transaction, under
the link's row lock, provided the link is still the same connection at the same sync token
(else it starts over). 410 Gone discards the token: the full window's result then replaces
every shadow row of the calendar in that one transaction. A failing Google leaves the shadow
rows as they are and the job is retried; a revoked grant is recorded, not retried.

Drift: a sync no notification announced (the safety poll's) that changes rows found what a
lost notification should have told; `drift_last` and `drift_streak` say how much and how
many such syncs in a row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import attrs

from nmc_domain.scheduling.google import DRIFT_WARN_STREAK, GoogleLink
from nmc_domain.scheduling.google_ports import (
    CalendarAccessRevoked,
    CalendarProviderError,
    GoogleCalendarApi,
    GoogleEvent,
    SyncTokenExpired,
)
from nmc_domain.scheduling.google_shadow import plan_shadow, sync_window
from nmc_domain.scheduling.ports import SchedulingUnitOfWork
from nmc_domain.shared.errors import TryAgain
from nmc_domain.shared.ports import RowLock
from nmc_domain.shared.secrets import SealBroken, Sealer

__all__ = ["GoogleSynced", "SyncResult", "describe_failure", "sync_google_calendar"]

NewUow = Callable[[], SchedulingUnitOfWork]
# Starting over because another run applied first: this many times, then the outbox retries.
_ROUNDS = 3
_MAX_PAGES = 500  # a calendar's worth many times over: a provider that pages forever stops here
_ERROR_MAX = 300


class SyncResult(StrEnum):
    SYNCED = "synced"
    NOT_CONNECTED = "not_connected"  # no calendar (any more), or another connection now
    RECONNECT_NEEDED = "reconnect_needed"  # the grant was revoked: nothing to retry


@attrs.frozen
class GoogleSynced:
    """What a sync did. `drift` is None when the run was announced (or the first): only
    unannounced runs measure it."""

    result: SyncResult
    full: bool = False
    changed: int = 0
    drift: int | None = None
    drift_streak: int = 0

    @property
    def drift_warning(self) -> bool:
        """Drift above zero this many runs in a row: worth a warning."""
        return self.drift_streak >= DRIFT_WARN_STREAK


@attrs.frozen
class _Start:
    link: GoogleLink
    now: datetime
    tenant_zone: ZoneInfo
    horizon_days: int


@attrs.frozen
class _Fetched:
    events: tuple[GoogleEvent, ...]
    sync_token: str | None
    time_zone: str | None
    full: bool


def describe_failure(exc: CalendarProviderError) -> str:
    """A provider failure as the status page shows it."""
    return f"Google Calendar: {exc}"[:_ERROR_MAX]


def _zone(name: str | None, fallback: ZoneInfo) -> ZoneInfo:
    try:
        return fallback if not name else ZoneInfo(name)
    except (ValueError, KeyError):  # unknown or malformed: ZoneInfoNotFoundError is a KeyError
        return fallback


async def _begin(new_uow: NewUow, tenant_id: UUID, technician_id: UUID) -> _Start | GoogleSynced:
    async with new_uow() as uow:
        await uow.bind_tenant(tenant_id)
        link = await uow.google_links.get(tenant_id, technician_id, lock=RowLock.UPDATE)
        tenant = await uow.tenants.get(tenant_id)
        if link is None or tenant is None:
            return GoogleSynced(SyncResult.NOT_CONNECTED)
        if link.revoked_at is not None:
            return GoogleSynced(SyncResult.RECONNECT_NEEDED)
        settings = await uow.scheduling_settings.get(tenant_id)
        now = await uow.now()
        if link.sync_requested_at is not None:
            await uow.google_links.save(attrs.evolve(link, sync_requested_at=None))
            await uow.commit()
        return _Start(link, now, ZoneInfo(tenant.timezone), settings.horizon_days)


async def _pages(
    google: GoogleCalendarApi,
    token: str,
    calendar_id: str,
    *,
    sync_token: str | None = None,
    window: tuple[datetime, datetime] | None = None,
) -> _Fetched:
    """Every page of one listing (the later pages repeat the first's query, as Google asks)."""
    events: list[GoogleEvent] = []
    page_token: str | None = None
    zone: str | None = None
    time_min, time_max = window or (None, None)
    for _ in range(_MAX_PAGES):
        page = await google.list_events(
            token,
            calendar_id,
            sync_token=sync_token,
            time_min=time_min,
            time_max=time_max,
            page_token=page_token,
        )
        events.extend(page.events)
        zone = page.time_zone or zone
        if page.next_page_token is None:
            return _Fetched(tuple(events), page.next_sync_token, zone, full=sync_token is None)
        page_token = page.next_page_token
    raise CalendarProviderError(f"events.list gave more than {_MAX_PAGES} pages")


async def _full(google: GoogleCalendarApi, token: str, start: _Start) -> _Fetched:
    today = start.now.astimezone(start.tenant_zone).date()
    window = sync_window(today, start.horizon_days, start.tenant_zone)
    try:
        return await _pages(google, token, start.link.calendar_id, window=window)
    except SyncTokenExpired:  # a page token that expired while paging: once more from the top
        return await _pages(google, token, start.link.calendar_id, window=window)


async def _failed(
    new_uow: NewUow, start: _Start, error: str, *, revoked: bool = False, expired: bool = False
) -> None:
    """Record a failed fetch: the shadow rows stay as they are."""
    link = start.link
    async with new_uow() as uow:
        await uow.bind_tenant(link.tenant_id)
        now_link = await uow.google_links.get(
            link.tenant_id, link.technician_id, lock=RowLock.UPDATE
        )
        if now_link is None or now_link.connection_id != link.connection_id:
            return
        now = await uow.now()
        changes: dict[str, Any] = {"last_sync_error": error}
        if revoked:
            changes["revoked_at"] = now
        else:
            changes["sync_requested_at"] = now  # the retried job is the queued one
        if expired:
            changes["sync_token"] = None
        await uow.google_links.save(attrs.evolve(now_link, **changes))
        await uow.commit()


async def _apply(new_uow: NewUow, start: _Start, fetched: _Fetched) -> GoogleSynced | None:
    """Write the fetched result; None when another run applied first (start over)."""
    was = start.link
    async with new_uow() as uow:
        await uow.bind_tenant(was.tenant_id)
        # Serialized with the claims on the technician, as any busy block written is; taken
        # before the link's row lock, in the order a booking that asks for a sync takes them.
        await uow.bookings.lock_technician(was.tenant_id, was.technician_id)
        link = await uow.google_links.get(was.tenant_id, was.technician_id, lock=RowLock.UPDATE)
        if link is None or link.connection_id != was.connection_id:
            return GoogleSynced(SyncResult.NOT_CONNECTED)
        if link.sync_token != was.sync_token:
            return None
        now = await uow.now()
        zone = _zone(fetched.time_zone or link.zone, start.tenant_zone)
        keep_after, _ = sync_window(
            now.astimezone(start.tenant_zone).date(), start.horizon_days, start.tenant_zone
        )
        current = await uow.google_shadow.of(link.tenant_id, link.technician_id)
        plan = plan_shadow(
            link, current, fetched.events, full=fetched.full, zone=zone, keep_after=keep_after
        )
        if plan.remove:
            await uow.google_shadow.remove(link.tenant_id, link.technician_id, plan.remove)
        if plan.put:
            await uow.google_shadow.put(plan.put)
        # Announced: a notification came before this run wrote (even while it fetched).
        measured = link.notices == 0 and link.last_synced_at is not None
        drift = plan.changed if measured else None
        streak = link.drift_streak if drift is None else (link.drift_streak + 1 if drift else 0)
        notices = max(link.notices - was.notices, 0)
        await uow.google_links.save(
            attrs.evolve(
                link,
                sync_token=fetched.sync_token,
                zone=str(zone),
                last_synced_at=now,
                last_sync_error=None,
                notices=notices,
                notified_at=link.notified_at if notices else None,
                drift_last=link.drift_last if drift is None else drift,
                drift_streak=streak,
            )
        )
        await uow.commit()
        return GoogleSynced(SyncResult.SYNCED, fetched.full, plan.changed, drift, streak)


async def sync_google_calendar(
    new_uow: NewUow,
    google: GoogleCalendarApi,
    sealer: Sealer,
    tenant_id: UUID,
    technician_id: UUID,
) -> GoogleSynced:
    """Pull the technician's calendar into its shadow busy blocks. CalendarProviderError (for
    the outbox to retry) when Google fails; the shadow rows are then left as they were."""
    for _ in range(_ROUNDS):
        start = await _begin(new_uow, tenant_id, technician_id)
        if isinstance(start, GoogleSynced):
            return start
        expired = False
        try:
            token = sealer.unseal(start.link.refresh_token)
            fetched: _Fetched | None = None
            if start.link.sync_token is not None:
                try:
                    fetched = await _pages(
                        google, token, start.link.calendar_id, sync_token=start.link.sync_token
                    )
                except SyncTokenExpired:
                    expired = True
            if fetched is None:
                fetched = await _full(google, token, start)
        except (CalendarAccessRevoked, SealBroken):
            error = "reconnect needed: Google refused the grant"
            await _failed(new_uow, start, error, revoked=True)
            return GoogleSynced(SyncResult.RECONNECT_NEEDED)
        except CalendarProviderError as exc:
            await _failed(new_uow, start, describe_failure(exc), expired=expired)
            raise
        done = await _apply(new_uow, start, fetched)
        if done is not None:
            return done
    raise TryAgain("another sync of this calendar kept applying first")
