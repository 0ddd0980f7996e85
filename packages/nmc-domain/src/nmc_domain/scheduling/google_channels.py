"""Google push channels: opened, renewed and stopped by the worker (the periodic poll that
renews them is in `google_poll`).

Every watch call uses a fresh channel (id and token), stored and committed before Google is
asked: a notification that arrives before the call returns finds it, and a retried watch never
reuses an id Google may know already (it refuses duplicates). A channel is renewed a day before
it expires; once the new one is watched, the others are stopped (at Google through the outbox).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from uuid import UUID

import attrs

from nmc_domain.scheduling.events import (
    GoogleCalendarConnected,
    GoogleCalendarDisconnected,
    GoogleChannelStopRequested,
)
from nmc_domain.scheduling.google import (
    CHANNEL_RENEW_BEFORE,
    GoogleChannel,
    GoogleLink,
    new_channel,
)
from nmc_domain.scheduling.google_connect import stop_channels
from nmc_domain.scheduling.google_ports import (
    CalendarAccessRevoked,
    CalendarProviderError,
    GoogleCalendarApi,
    WatchedChannel,
)
from nmc_domain.scheduling.google_sync import (
    GoogleSynced,
    SyncResult,
    describe_failure,
    sync_google_calendar,
)
from nmc_domain.scheduling.ports import SchedulingUnitOfWork
from nmc_domain.shared.ports import RowLock
from nmc_domain.shared.secrets import SealBroken, Sealer

__all__ = [
    "ChannelResult",
    "google_connected",
    "open_google_channel",
    "revoke_google_grant",
    "stop_google_channel",
]

NewUow = Callable[[], SchedulingUnitOfWork]
_REVOKED = "reconnect needed: Google refused the grant"


class ChannelResult(StrEnum):
    OPENED = "opened"  # a new channel is watched (the others are being stopped)
    CURRENT = "current"  # the channel is watched and not due for renewal
    IN_FLIGHT = "in_flight"  # a recent channel awaits its watch call
    SUPERSEDED = "superseded"  # reconnected or renewed meanwhile: the new channel is stopped
    NOT_CONNECTED = "not_connected"
    RECONNECT_NEEDED = "reconnect_needed"


@attrs.frozen
class _Opening:
    link: GoogleLink
    channel: GoogleChannel
    token: str


async def _prepare(
    new_uow: NewUow,
    tenant_id: UUID,
    technician_id: UUID,
    connection_id: UUID | None,
    grace: timedelta,
) -> _Opening | ChannelResult:
    async with new_uow() as uow:
        await uow.bind_tenant(tenant_id)
        link = await uow.google_links.get(tenant_id, technician_id, lock=RowLock.UPDATE)
        if link is None or connection_id not in (None, link.connection_id):
            return ChannelResult.NOT_CONNECTED
        if link.revoked_at is not None:
            return ChannelResult.RECONNECT_NEEDED
        now = await uow.now()
        current = None
        if link.channel_id is not None:
            current = await uow.google_channels.get(link.channel_id)
        if current is not None and current.live:
            if current.expires_at is not None and current.expires_at - now > CHANNEL_RENEW_BEFORE:
                return ChannelResult.CURRENT
            if not current.watched and now - current.created_at < grace:
                return ChannelResult.IN_FLIGHT
            if not current.watched:  # never watched (or its watch failed): it is let go
                await uow.google_channels.save(attrs.evolve(current, stopped_at=now))
        channel, token = new_channel(tenant_id, technician_id, now)
        await uow.google_channels.add(channel)
        link = attrs.evolve(link, channel_id=channel.id)
        await uow.google_links.save(link)
        await uow.commit()
        return _Opening(link, channel, token)


async def _opened(new_uow: NewUow, opening: _Opening, watched: WatchedChannel) -> ChannelResult:
    was = opening.link
    channel = attrs.evolve(
        opening.channel, resource_id=watched.resource_id, expires_at=watched.expires_at
    )
    async with new_uow() as uow:
        await uow.bind_tenant(was.tenant_id)
        link = await uow.google_links.get(was.tenant_id, was.technician_id, lock=RowLock.UPDATE)
        stored = await uow.google_channels.get(channel.id)
        now = await uow.now()
        current = (
            link is not None
            and link.connection_id == was.connection_id
            and link.channel_id == channel.id
            and stored is not None
            and stored.live
        )
        if link is not None and current:
            await uow.google_channels.save(channel)
            await uow.google_links.save(attrs.evolve(link, channel_expires_at=watched.expires_at))
            await stop_channels(uow, link, now, keep=channel.id)
            result = ChannelResult.OPENED
        else:  # replaced while Google was asked: stop it at once
            await uow.google_channels.save(attrs.evolve(channel, stopped_at=now))
            await uow.outbox.add(
                GoogleChannelStopRequested(
                    was.tenant_id,
                    was.technician_id,
                    channel.id,
                    watched.resource_id,
                    was.refresh_token,
                )
            )
            result = ChannelResult.SUPERSEDED
        await uow.commit()
        return result


async def _note(new_uow: NewUow, was: GoogleLink, error: str, *, revoked: bool) -> None:
    async with new_uow() as uow:
        await uow.bind_tenant(was.tenant_id)
        link = await uow.google_links.get(was.tenant_id, was.technician_id, lock=RowLock.UPDATE)
        if link is None or link.connection_id != was.connection_id:
            return
        revoked_at = await uow.now() if revoked else link.revoked_at
        await uow.google_links.save(
            attrs.evolve(link, last_sync_error=error, revoked_at=revoked_at)
        )
        await uow.commit()


async def open_google_channel(
    new_uow: NewUow,
    google: GoogleCalendarApi,
    sealer: Sealer,
    tenant_id: UUID,
    technician_id: UUID,
    *,
    connection_id: UUID | None = None,
    grace: timedelta = timedelta(0),
) -> ChannelResult:
    """Make sure the technician's calendar has a watched channel not due for renewal: open a
    fresh one when it has none, when its channel was never watched (and is older than
    `grace`), or when it expires within a day. CalendarProviderError when Google fails."""
    opening = await _prepare(new_uow, tenant_id, technician_id, connection_id, grace)
    if isinstance(opening, ChannelResult):
        return opening
    link = opening.link
    try:
        watched = await google.watch(
            sealer.unseal(link.refresh_token),
            link.calendar_id,
            channel_id=str(opening.channel.id),
            token=opening.token,
        )
    except (CalendarAccessRevoked, SealBroken):
        await _note(new_uow, link, _REVOKED, revoked=True)
        return ChannelResult.RECONNECT_NEEDED
    except CalendarProviderError as exc:
        await _note(new_uow, link, "push channel: " + describe_failure(exc), revoked=False)
        raise
    return await _opened(new_uow, opening, watched)


async def google_connected(
    new_uow: NewUow, google: GoogleCalendarApi, sealer: Sealer, event: GoogleCalendarConnected
) -> tuple[ChannelResult, GoogleSynced]:
    """The worker's first work on a new connection: open its channel, then the first full
    sync (run even when the watch failed; the watch's failure is raised after it)."""
    failure: CalendarProviderError | None = None
    try:
        channel = await open_google_channel(
            new_uow,
            google,
            sealer,
            event.tenant_id,
            event.technician_id,
            connection_id=event.connection_id,
        )
    except CalendarProviderError as exc:
        channel, failure = ChannelResult.IN_FLIGHT, exc
    if channel is ChannelResult.NOT_CONNECTED:
        return channel, GoogleSynced(SyncResult.NOT_CONNECTED)
    synced = await sync_google_calendar(
        new_uow, google, sealer, event.tenant_id, event.technician_id
    )
    if failure is not None:
        raise failure
    return channel, synced


async def stop_google_channel(
    google: GoogleCalendarApi, sealer: Sealer, event: GoogleChannelStopRequested
) -> bool:
    """Ask Google to stop a channel we no longer follow; False when the grant is gone (the
    channel is of no use to anybody then). CalendarProviderError to retry."""
    try:
        await google.stop(
            sealer.unseal(event.refresh_token_sealed),
            channel_id=str(event.channel_id),
            resource_id=event.resource_id,
        )
    except (CalendarAccessRevoked, SealBroken):
        return False
    return True


async def revoke_google_grant(
    new_uow: NewUow, google: GoogleCalendarApi, sealer: Sealer, event: GoogleCalendarDisconnected
) -> bool:
    """Revoke a disconnected calendar's grant, unless the technician connected again since
    (revoking one token revokes the whole grant, and a new consent may share it). Google's
    failures are ignored: the grant is forgotten here either way. True when revoked."""
    async with new_uow() as uow:
        await uow.bind_tenant(event.tenant_id)
        again = await uow.google_links.get(event.tenant_id, event.technician_id)
    if again is not None:
        return False
    try:
        await google.revoke(sealer.unseal(event.refresh_token_sealed))
    except (CalendarProviderError, SealBroken):
        return False
    return True
