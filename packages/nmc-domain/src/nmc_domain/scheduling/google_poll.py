"""The safety poll (every 15 minutes, in the worker): every connected calendar, whichever
tenant's, gets a coalesced sync queued (it catches what lost notifications did not tell), and
its push channel opened or renewed when due."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import timedelta

import attrs

from nmc_domain.scheduling.google_channels import open_google_channel
from nmc_domain.scheduling.google_notices import queue_sync
from nmc_domain.scheduling.google_ports import GoogleCalendarApi
from nmc_domain.scheduling.ports import SchedulingUnitOfWork
from nmc_domain.shared.ports import RowLock
from nmc_domain.shared.secrets import Sealer

__all__ = ["UNWATCHED_GRACE", "PollRound", "poll_google_calendars"]

NewUow = Callable[[], SchedulingUnitOfWork]
# The poll leaves a channel that is not watched yet alone this long: a watch call for it may
# be under way (the worker's connect handler), and will have answered by then.
UNWATCHED_GRACE = timedelta(minutes=10)


@attrs.frozen
class PollRound:
    """What one round of the periodic job did."""

    calendars: int = 0
    queued: int = 0
    channels: Mapping[str, int] = attrs.field(factory=dict)
    failures: tuple[str, ...] = ()


async def poll_google_calendars(
    new_uow: NewUow,
    google: GoogleCalendarApi,
    sealer: Sealer,
    *,
    grace: timedelta = UNWATCHED_GRACE,
) -> PollRound:
    """Every connected calendar (every tenant's): queue a coalesced safety sync, and open or
    renew its channel when due. One calendar's failure does not hold the others up: it is
    reported in `failures`."""
    async with new_uow() as uow:
        tenant_ids = await uow.google_channels.tenant_ids()
    calendars = queued = 0
    channels: Counter[str] = Counter()
    failures: list[str] = []
    for tenant_id in tenant_ids:
        try:
            async with new_uow() as uow:
                await uow.bind_tenant(tenant_id)
                now = await uow.now()
                links = []
                for found in await uow.google_links.of_tenant(tenant_id):
                    link = await uow.google_links.get(
                        tenant_id, found.technician_id, lock=RowLock.UPDATE
                    )
                    if link is not None and link.revoked_at is None:
                        links.append(link)
                        queued += await queue_sync(uow, link, now, "poll")
                await uow.commit()
        except Exception as exc:
            failures.append(f"tenant {tenant_id}: {exc!r}")
            continue
        for link in links:
            calendars += 1
            try:
                result = await open_google_channel(
                    new_uow, google, sealer, tenant_id, link.technician_id, grace=grace
                )
                channels[result.value] += 1
            except Exception as exc:
                failures.append(f"technician {link.technician_id}: {exc!r}")
    return PollRound(calendars, queued, dict(channels), tuple(failures))
