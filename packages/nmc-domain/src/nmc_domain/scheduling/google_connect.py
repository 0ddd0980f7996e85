"""Connecting a technician's Google Calendar (OAuth 2.0), disconnecting it, and its status.

The consent page sends the browser back to the callback with `code` and the sealed, single-use
`state` naming the tenant and technician. The code is traded for a refresh token before any
transaction opens (Google may take a while); the link and the worker's event (open the push
channel, run the first sync) are then written in one transaction that also spends the state.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

import attrs

from nmc_domain.identity.access import authorize
from nmc_domain.identity.model import Principal
from nmc_domain.scheduling.events import (
    GoogleCalendarConnected,
    GoogleCalendarDisconnected,
    GoogleChannelStopRequested,
)
from nmc_domain.scheduling.google import (
    PRIMARY,
    GoogleCalendarNotConfigured,
    GoogleLink,
    new_channel,
)
from nmc_domain.scheduling.google_ports import GoogleCalendarApi
from nmc_domain.scheduling.model import Technician
from nmc_domain.scheduling.oauth import OAUTH_STATES, issue_state, read_state, spend_state
from nmc_domain.scheduling.ports import SchedulingUnitOfWork
from nmc_domain.shared.errors import InvalidInput, NotFound
from nmc_domain.shared.ports import RowLock
from nmc_domain.shared.secrets import Sealer

__all__ = [
    "GoogleCalendarView",
    "GoogleConnected",
    "connect_google",
    "disconnect_google",
    "finish_google_connect",
    "google_calendar_status",
    "stop_channels",
]

GOOGLE_STATE = "google"  # the provider an OAuth state is issued for


async def _technician(
    uow: SchedulingUnitOfWork, tenant_id: UUID, technician_id: UUID
) -> Technician:
    technician = await uow.technicians.get(tenant_id, technician_id)
    if technician is None:
        raise NotFound("technician", technician_id)
    return technician


async def connect_google(
    uow: SchedulingUnitOfWork,
    google: GoogleCalendarApi | None,
    sealer: Sealer | None,
    principal: Principal,
    technician_id: UUID,
) -> str:
    """The consent page's URL for the technician's calendar (OWNER)."""
    async with uow:
        await authorize(uow, principal, owner=True)
        await _technician(uow, principal.tenant_id, technician_id)
    if google is None or sealer is None:
        raise GoogleCalendarNotConfigured()
    return google.consent_url(issue_state(sealer, GOOGLE_STATE, principal.tenant_id, technician_id))


@attrs.frozen
class GoogleConnected:
    """What the callback's page says."""

    technician_id: UUID
    technician_name: str


async def finish_google_connect(
    uow: SchedulingUnitOfWork,
    google: GoogleCalendarApi,
    sealer: Sealer,
    state_token: str | None,
    code: str | None,
) -> GoogleConnected:
    """The callback: trade the code for a refresh token, then store the link (replacing an
    earlier one, whose channels are stopped) and its first channel, and queue the worker's
    watch and first sync. InvalidInput naming `state` or `code` when they are missing, bad,
    expired or used; CalendarProviderError when Google refuses the code."""
    state = read_state(sealer, state_token, GOOGLE_STATE)
    if state.technician_id is None:
        raise InvalidInput("state", "names no technician")
    if not code:
        raise InvalidInput("code", "missing")
    async with uow:  # a used state fails before Google is asked to trade a code again
        if await uow.webhooks.get(OAUTH_STATES, state.nonce) is not None:
            raise InvalidInput("state", "already used; start connecting again")
    refresh_token = await google.exchange_code(code)
    async with uow:
        tenant_id, technician_id = state.tenant_id, state.technician_id
        await uow.bind_tenant(tenant_id)
        await spend_state(uow.webhooks, state)
        technician = await _technician(uow, tenant_id, technician_id)
        now = await uow.now()
        previous = await uow.google_links.get(tenant_id, technician_id, lock=RowLock.UPDATE)
        if previous is not None:
            # Same Google account or not, the old grant is not revoked: revoking one token of
            # a grant revokes the whole grant, the new token too.
            await stop_channels(uow, previous, now)
        # A placeholder for the channel the worker opens (it always opens a fresh one, with a
        # token only it knows): the link is never without a live channel row, which is how
        # the periodic poll finds it.
        channel, _ = new_channel(tenant_id, technician_id, now)
        link = GoogleLink(
            tenant_id=tenant_id,
            technician_id=technician_id,
            connection_id=uuid.uuid4(),
            calendar_id=PRIMARY,
            refresh_token=sealer.seal(refresh_token),
            connected_at=now,
            sync_requested_at=now,  # the first sync is queued: notifications coalesce into it
            channel_id=channel.id,
        )
        await uow.google_links.save(link)
        await uow.google_channels.add(channel)
        await uow.outbox.add(GoogleCalendarConnected(tenant_id, technician_id, link.connection_id))
        await uow.commit()
    return GoogleConnected(technician_id, technician.name)


async def stop_channels(
    uow: SchedulingUnitOfWork, link: GoogleLink, now: datetime, *, keep: UUID | None = None
) -> int:
    """Mark the link's live channels (but `keep`) stopped, and ask the worker to stop those
    Google knows at Google; how many were stopped."""
    stopped = 0
    for channel in await uow.google_channels.live(link.tenant_id, link.technician_id):
        if channel.id == keep:
            continue
        await uow.google_channels.save(attrs.evolve(channel, stopped_at=now))
        stopped += 1
        if channel.resource_id is not None:
            await uow.outbox.add(
                GoogleChannelStopRequested(
                    link.tenant_id,
                    link.technician_id,
                    channel.id,
                    channel.resource_id,
                    link.refresh_token,
                )
            )
    return stopped


async def disconnect_google(
    uow: SchedulingUnitOfWork, principal: Principal, technician_id: UUID
) -> None:
    """Forget the technician's calendar (OWNER): the link, its channels (stopped at Google by
    the worker, which also revokes the grant) and its shadow busy blocks, which would go stale.
    NotFound when no calendar is connected."""
    async with uow:
        await authorize(uow, principal, owner=True)
        tenant_id = principal.tenant_id
        await _technician(uow, tenant_id, technician_id)
        link = await uow.google_links.get(tenant_id, technician_id, lock=RowLock.UPDATE)
        if link is None:
            raise NotFound("calendar connection of technician", technician_id)
        await stop_channels(uow, link, await uow.now())
        await uow.google_links.delete(tenant_id, technician_id)
        await uow.google_shadow.clear(tenant_id, technician_id)
        await uow.outbox.add(
            GoogleCalendarDisconnected(tenant_id, technician_id, link.refresh_token)
        )
        await uow.commit()


@attrs.frozen
class GoogleCalendarView:
    """What `GET /v1/technicians/{id}/calendar` shows (None: no calendar connected)."""

    link: GoogleLink | None

    @property
    def last_error(self) -> str | None:
        link = self.link
        if link is None:
            return None
        if link.revoked_at is not None:
            return "reconnect needed: Google refused the grant"
        return link.last_sync_error


async def google_calendar_status(
    uow: SchedulingUnitOfWork, principal: Principal, technician_id: UUID
) -> GoogleCalendarView:
    """The technician's calendar connection and its sync (any role)."""
    async with uow:
        await authorize(uow, principal)
        await _technician(uow, principal.tenant_id, technician_id)
        return GoogleCalendarView(await uow.google_links.get(principal.tenant_id, technician_id))
