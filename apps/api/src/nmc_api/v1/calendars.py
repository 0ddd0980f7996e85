"""/v1/technicians/{id}/calendar: a technician's own Google Calendar (connect, status,
disconnect). The consent itself ends at /oauth/google/callback (see google_routes.py)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import attrs
from litestar import delete, get
from litestar.params import FromPath

from nmc_api.deps import Deps
from nmc_api.v1.auth import OWNER, Caller
from nmc_api.v1.problems import errors
from nmc_domain.scheduling.google_connect import (
    GoogleCalendarView,
    connect_google,
    disconnect_google,
    google_calendar_status,
)

__all__ = ["calendar_routes"]


@attrs.frozen
class ConnectOut:
    """Where to send the owner's browser: Google's consent page."""

    url: str


@attrs.frozen
class CalendarOut:
    """The technician's calendar connection (`connected` false: none; the rest null)."""

    provider: str | None
    connected: bool
    calendar_id: str | None
    connected_at: datetime | None
    last_synced_at: datetime | None
    channel_expires_at: datetime | None
    drift_last: int | None
    drift_streak: int
    last_error: str | None

    @classmethod
    def of(cls, view: GoogleCalendarView) -> CalendarOut:
        link = view.link
        if link is None:
            return cls(None, False, None, None, None, None, None, 0, None)
        return cls(
            provider="google",
            connected=True,
            calendar_id=link.calendar_id,
            connected_at=link.connected_at,
            last_synced_at=link.last_synced_at,
            channel_expires_at=link.channel_expires_at,
            drift_last=link.drift_last,
            drift_streak=link.drift_streak,
            last_error=view.last_error,
        )


@get(
    "/technicians/{technician_id:uuid}/calendar/google/connect",
    opt=OWNER,
    responses=errors(403, 404),
    summary="Google's consent page for the technician's calendar (OWNER); 404 when Google "
    "Calendar is not configured",
)
async def get_google_connect(
    principal: Caller, deps: Deps, technician_id: FromPath[UUID]
) -> ConnectOut:
    url = await connect_google(deps.new_uow(), deps.google, deps.sealer, principal, technician_id)
    return ConnectOut(url)


@get(
    "/technicians/{technician_id:uuid}/calendar",
    responses=errors(403, 404),
    summary="The technician's calendar: connected or not, last sync, channel expiry, the last "
    "drift count and the last error",
)
async def get_calendar(principal: Caller, deps: Deps, technician_id: FromPath[UUID]) -> CalendarOut:
    return CalendarOut.of(await google_calendar_status(deps.new_uow(), principal, technician_id))


@delete(
    "/technicians/{technician_id:uuid}/calendar",
    opt=OWNER,
    status_code=204,
    responses=errors(403, 404),
    summary="Disconnect the technician's calendar (OWNER): its push channel is stopped, the "
    "grant revoked and its busy blocks removed; 404 when none is connected",
)
async def delete_calendar(principal: Caller, deps: Deps, technician_id: FromPath[UUID]) -> None:
    await disconnect_google(deps.new_uow(), principal, technician_id)


calendar_routes = [get_google_connect, get_calendar, delete_calendar]
