"""Google Calendar in the worker: the outbox handlers (first watch and sync, syncs, channel
stops, revoking a disconnected grant) and the 15-minute safety poll that also renews channels."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from uuid import UUID

import attrs
import structlog

from nmc_domain.scheduling.events import (
    AppointmentBooked,
    AppointmentCanceled,
    AppointmentRescheduled,
    GoogleCalendarConnected,
    GoogleCalendarDisconnected,
    GoogleChannelStopRequested,
    GoogleSyncRequested,
)
from nmc_domain.scheduling.google_channels import (
    google_connected,
    revoke_google_grant,
    stop_google_channel,
)
from nmc_domain.scheduling.google_outbound import mirror_appointment
from nmc_domain.scheduling.google_poll import UNWATCHED_GRACE, poll_google_calendars
from nmc_domain.scheduling.google_ports import GoogleCalendarApi
from nmc_domain.scheduling.google_sync import GoogleSynced, sync_google_calendar
from nmc_domain.shared.events import DomainEvent
from nmc_domain.shared.secrets import Sealer
from nmc_domain.unit_of_work import UnitOfWorkFactory
from nmc_worker.dispatcher import Handler
from nmc_worker.worker import every

__all__ = ["DriftObserver", "GooglePoll", "google_handlers", "mirror_handler"]

log = structlog.get_logger("nmc.worker")
PROVIDER = "google"
# (provider, rows an unannounced sync changed, whether the streak calls for a warning)
DriftObserver = Callable[[str, int, bool], None]


def _no_drift_observer(provider: str, rows: int, warning: bool) -> None:
    return None


def _report(
    tenant_id: UUID, technician_id: UUID, synced: GoogleSynced, drift: DriftObserver
) -> None:
    log.info(
        "calendar.google_synced",
        tenant_id=str(tenant_id),
        technician_id=str(technician_id),
        result=synced.result.value,
        full=synced.full,
        changed=synced.changed,
        drift=synced.drift,
    )
    if synced.drift is None:
        return
    drift(PROVIDER, synced.drift, synced.drift_warning)
    if synced.drift_warning:
        log.warning(
            "calendar.drift",
            provider=PROVIDER,
            tenant_id=str(tenant_id),
            technician_id=str(technician_id),
            rows=synced.drift,
            streak=synced.drift_streak,
        )


def google_handlers(
    new_uow: UnitOfWorkFactory,
    google: GoogleCalendarApi | None,
    sealer: Sealer | None,
    *,
    drift: DriftObserver = _no_drift_observer,
) -> dict[type[DomainEvent], Handler]:
    """The Google Calendar events' handlers; without Google settings they fail (the rows are
    retried, then kept dead for `nmc replay` once the settings are fixed)."""

    def configured() -> tuple[GoogleCalendarApi, Sealer]:
        if google is None or sealer is None:
            raise RuntimeError("Google Calendar is not configured on this worker (NMC_GOOGLE_*)")
        return google, sealer

    async def connected(event: DomainEvent) -> None:
        assert isinstance(event, GoogleCalendarConnected)
        channel, synced = await google_connected(new_uow, *configured(), event)
        log.info(
            "calendar.google_connected",
            tenant_id=str(event.tenant_id),
            technician_id=str(event.technician_id),
            channel=channel.value,
        )
        _report(event.tenant_id, event.technician_id, synced, drift)

    async def sync(event: DomainEvent) -> None:
        assert isinstance(event, GoogleSyncRequested)
        synced = await sync_google_calendar(
            new_uow, *configured(), event.tenant_id, event.technician_id
        )
        _report(event.tenant_id, event.technician_id, synced, drift)

    async def stop(event: DomainEvent) -> None:
        assert isinstance(event, GoogleChannelStopRequested)
        stopped = await stop_google_channel(*configured(), event)
        log.info(
            "calendar.google_channel_stopped",
            tenant_id=str(event.tenant_id),
            channel_id=str(event.channel_id),
            stopped=stopped,
        )

    async def disconnected(event: DomainEvent) -> None:
        assert isinstance(event, GoogleCalendarDisconnected)
        revoked = await revoke_google_grant(new_uow, *configured(), event)
        log.info(
            "calendar.google_disconnected",
            tenant_id=str(event.tenant_id),
            technician_id=str(event.technician_id),
            revoked=revoked,
        )

    return {
        GoogleCalendarConnected: connected,
        AppointmentBooked: mirror_handler(new_uow, google, sealer),
        AppointmentRescheduled: mirror_handler(new_uow, google, sealer),
        GoogleSyncRequested: sync,
        GoogleChannelStopRequested: stop,
        GoogleCalendarDisconnected: disconnected,
    }


@attrs.frozen
class GooglePoll:
    """Every `every_seconds` (15 minutes): a coalesced safety sync of every connected
    calendar, and its channel opened or renewed when due."""

    new_uow: UnitOfWorkFactory
    google: GoogleCalendarApi
    sealer: Sealer
    every_seconds: float = 900.0

    async def poll_once(self) -> None:
        done = await poll_google_calendars(
            self.new_uow, self.google, self.sealer, grace=UNWATCHED_GRACE
        )
        log.info(
            "calendar.google_polled",
            calendars=done.calendars,
            queued=done.queued,
            channels=dict(done.channels),
        )
        for failure in done.failures:
            log.warning("calendar.google_poll_failed", error=failure)

    async def run(self, stop: asyncio.Event) -> None:
        await every(stop, self.every_seconds, self.poll_once, failed="calendar.google_poll_failed")


def mirror_handler(
    new_uow: UnitOfWorkFactory, google: GoogleCalendarApi | None, sealer: Sealer | None
) -> Handler:
    """An appointment booked, moved or canceled: the technician's Google Calendar shows it as
    it is now (nothing to do without Google settings: no calendar can be connected then)."""

    async def mirror(event: DomainEvent) -> None:
        assert isinstance(event, AppointmentBooked | AppointmentRescheduled | AppointmentCanceled)
        if google is None or sealer is None:
            return
        previous = getattr(event, "previous_technician_id", None)
        done = await mirror_appointment(
            new_uow,
            google,
            sealer,
            event.tenant_id,
            event.appointment_id,
            previous_technician_id=previous,
        )
        log.info(
            "calendar.google_mirrored",
            tenant_id=str(event.tenant_id),
            appointment_id=str(event.appointment_id),
            done=[outcome.value for outcome in done],
        )

    return mirror
