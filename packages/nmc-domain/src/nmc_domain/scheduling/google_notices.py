"""Google's push notifications: each is checked against its channel and noted on the link,
and they coalesce into one queued sync per calendar (the webhook never calls Google)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

import attrs

from nmc_domain.scheduling.events import GoogleSyncRequested
from nmc_domain.scheduling.google import GoogleLink, token_matches
from nmc_domain.scheduling.ports import SchedulingUnitOfWork
from nmc_domain.shared.ports import RowLock

__all__ = [
    "GoogleNotice",
    "NoticeOutcome",
    "queue_sync",
    "receive_google_notification",
    "request_google_sync",
]


async def queue_sync(
    uow: SchedulingUnitOfWork, link: GoogleLink, now: datetime, reason: str, **changes: Any
) -> bool:
    """Save the link (locked by the caller) with `changes`, and queue a sync unless one is
    queued already or the grant was revoked; True when one was queued."""
    queue = link.revoked_at is None and not link.sync_pending(now)
    if queue:
        changes["sync_requested_at"] = now
    if changes:
        await uow.google_links.save(attrs.evolve(link, **changes))
    if queue:
        await uow.outbox.add(GoogleSyncRequested(link.tenant_id, link.technician_id, reason))
    return queue


async def request_google_sync(
    uow: SchedulingUnitOfWork, tenant_id: UUID, technician_id: UUID, reason: str
) -> bool:
    """In the caller's transaction (bound to the tenant; the caller commits): queue a sync of
    the technician's calendar unless one is queued already (or none is connected, or its
    grant was revoked). True when this call queued one."""
    link = await uow.google_links.get(tenant_id, technician_id, lock=RowLock.UPDATE)
    if link is None:
        return False
    return await queue_sync(uow, link, await uow.now(), reason)


@attrs.frozen
class GoogleNotice:
    """A push notification's headers (X-Goog-Channel-ID, -Token, X-Goog-Resource-State)."""

    channel_id: str | None
    token: str | None
    resource_state: str | None


class NoticeOutcome(StrEnum):
    QUEUED = "queued"  # a sync job was queued
    COALESCED = "coalesced"  # one was queued already: it will see this change too
    SYNC = "sync"  # the channel's first message: nothing to do
    IGNORED = "ignored"  # no such live channel (or a state we do not act on): answered 200
    FORBIDDEN = "forbidden"  # the channel's token does not match: 403


async def receive_google_notification(
    uow: SchedulingUnitOfWork, notice: GoogleNotice
) -> NoticeOutcome:
    """Note the notification and queue one coalesced sync; never calls Google."""
    try:
        channel_id = UUID(notice.channel_id or "")
    except ValueError:
        return NoticeOutcome.IGNORED
    async with uow:
        channel = await uow.google_channels.get(channel_id)
        if channel is None or not channel.live:
            return NoticeOutcome.IGNORED
        if not token_matches(channel, notice.token):
            return NoticeOutcome.FORBIDDEN
        if notice.resource_state == "sync":
            return NoticeOutcome.SYNC
        if notice.resource_state not in ("exists", "not_exists"):
            return NoticeOutcome.IGNORED
        await uow.bind_tenant(channel.tenant_id)
        link = await uow.google_links.get(
            channel.tenant_id, channel.technician_id, lock=RowLock.UPDATE
        )
        if link is None:
            return NoticeOutcome.IGNORED
        now = await uow.now()
        queued = await queue_sync(
            uow, link, now, "webhook", notices=link.notices + 1, notified_at=now
        )
        await uow.commit()
        return NoticeOutcome.QUEUED if queued else NoticeOutcome.COALESCED
