"""Connecting a tenant's Jobber account: the consent link, the OAuth callback, the status,
disconnecting, and Jobber's webhooks (remembered once, then read by the worker)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import attrs

from nmc_domain.identity.access import authorize
from nmc_domain.identity.model import Principal
from nmc_domain.scheduling.events import JobberItemChanged, JobberSyncRequested
from nmc_domain.scheduling.jobber import JOBBER, JobberLink, JobberNotConfigured
from nmc_domain.scheduling.jobber_ports import JobberApi, JobberProviderError
from nmc_domain.scheduling.oauth import issue_state, read_state, spend_state
from nmc_domain.scheduling.ports import SchedulingUnitOfWork
from nmc_domain.shared.errors import InvalidInput, NotFound, TenantNotFound
from nmc_domain.shared.ports import RowLock
from nmc_domain.shared.secrets import SealBroken, Sealer

__all__ = [
    "JobberNotice",
    "JobberOutcome",
    "JobberSetup",
    "JobberView",
    "disconnect_jobber",
    "finish_jobber_connect",
    "jobber_consent_url",
    "jobber_status",
    "receive_jobber_event",
]

SchedulingUnitOfWorkFactory = Callable[[], SchedulingUnitOfWork]
# Topics whose item is a visit or a job (the others are remembered and ignored).
_ITEM_TOPICS = ("VISIT_", "JOB_")
APP_DISCONNECT = "APP_DISCONNECT"


@attrs.frozen
class JobberSetup:
    """What talks to Jobber here: its API and the sealer of tokens and states."""

    api: JobberApi
    sealer: Sealer


def _require(setup: JobberSetup | None) -> JobberSetup:
    if setup is None:
        raise JobberNotConfigured()
    return setup


async def jobber_consent_url(
    uow: SchedulingUnitOfWork, setup: JobberSetup | None, principal: Principal
) -> str:
    """Jobber's consent page for the caller's business (OWNER), with a fresh signed state."""
    async with uow:
        await authorize(uow, principal, owner=True)
    ready = _require(setup)
    return ready.api.consent_url(issue_state(ready.sealer, JOBBER, principal.tenant_id))


async def finish_jobber_connect(
    new_uow: SchedulingUnitOfWorkFactory,
    setup: JobberSetup | None,
    code: str | None,
    state: str | None,
) -> JobberLink:
    """The callback: the state checked and spent, the code traded for tokens, the account
    read, the link stored sealed (with its routing row) and a first full sync queued, in one
    transaction. InvalidInput names `code` (consent refused) or `state`; JobberProviderError
    when Jobber fails; Conflict when another business has that Jobber account."""
    ready = _require(setup)
    consent = read_state(ready.sealer, state, JOBBER)
    async with new_uow() as uow:
        await uow.bind_tenant(consent.tenant_id)
        if await uow.tenants.get(consent.tenant_id) is None:
            raise TenantNotFound(consent.tenant_id)
        await spend_state(uow.webhooks, consent)
        await uow.commit()
    if not code:
        raise InvalidInput("code", "Jobber did not grant access; start connecting again")
    tokens = await ready.api.exchange_code(code)
    account = await ready.api.account(tokens.access_token)
    async with new_uow() as uow:
        tenant_id = consent.tenant_id
        await uow.bind_tenant(tenant_id)
        now = await uow.now()
        current = await uow.jobber_links.get(tenant_id, lock=RowLock.UPDATE)
        if current is not None and current.account_id != account.id:
            await uow.jobber_blocks.clear(tenant_id)  # another account's visits
        link = JobberLink(
            tenant_id=tenant_id,
            account_id=account.id,
            account_name=account.name,
            access_token=ready.sealer.seal(tokens.access_token),
            refresh_token=ready.sealer.seal(tokens.refresh_token),
            access_expires_at=tokens.access_expires_at,
            connected_at=now,
        )
        await uow.jobber_links.save(link)
        await uow.outbox.add(JobberSyncRequested(tenant_id, "connected"))
        await uow.commit()
    return link


@attrs.frozen
class JobberView:
    """What `GET /v1/integrations/jobber` shows."""

    account_id: str
    account_name: str
    connected_at: datetime
    last_synced_at: datetime | None
    last_sync_error: str | None
    drift_last: int | None
    drift_streak: int
    reconnect_needed: bool


async def jobber_status(
    uow: SchedulingUnitOfWork, setup: JobberSetup | None, principal: Principal
) -> JobberView:
    """The connection (OWNER); NotFound when there is none."""
    async with uow:
        await authorize(uow, principal, owner=True)
        _require(setup)
        link = await uow.jobber_links.get(principal.tenant_id)
    if link is None:
        raise NotFound("Jobber connection", "for this business")
    return JobberView(
        account_id=link.account_id,
        account_name=link.account_name,
        connected_at=link.connected_at,
        last_synced_at=link.last_synced_at,
        last_sync_error=link.last_sync_error,
        drift_last=link.drift_last,
        drift_streak=link.drift_streak,
        reconnect_needed=link.needs_reconnect,
    )


async def disconnect_jobber(
    uow: SchedulingUnitOfWork, setup: JobberSetup | None, principal: Principal
) -> None:
    """Forget the link, its routing row and the tenant's Jobber blocks (OWNER: a calendar we
    no longer hear from would go stale), then tell Jobber (a failure there changes nothing
    here). NotFound when not connected."""
    async with uow:
        await authorize(uow, principal, owner=True)
        ready = _require(setup)
        link = await uow.jobber_links.get(principal.tenant_id, lock=RowLock.UPDATE)
        if link is None:
            raise NotFound("Jobber connection", "for this business")
        await uow.jobber_blocks.clear(principal.tenant_id)
        await uow.jobber_links.delete(principal.tenant_id)
        now = await uow.now()
        await uow.commit()
    try:
        if link.access_expires_at - now > timedelta(minutes=1):
            access = ready.sealer.unseal(link.access_token)
        else:  # the new tokens are not kept: the grant is being given up
            access = (await ready.api.refresh(ready.sealer.unseal(link.refresh_token))).access_token
        await ready.api.disconnect(access)
    except (JobberProviderError, SealBroken):
        pass


@attrs.frozen
class JobberNotice:
    """A verified Jobber webhook (`data.webHookEvent`)."""

    topic: str
    account_id: str
    item_id: str
    occurred_at: datetime

    @property
    def key(self) -> str:
        """Unique per (topic, item, occurred at): Jobber delivers at least once (the time
        in UTC, however it was written)."""
        return f"{self.topic}:{self.item_id}:{self.occurred_at.astimezone(UTC).isoformat()}"

    @property
    def payload(self) -> Mapping[str, str]:
        return {
            "topic": self.topic,
            "account_id": self.account_id,
            "item_id": self.item_id,
            "occurred_at": self.occurred_at.isoformat(),
        }


class JobberOutcome(StrEnum):
    """What a Jobber webhook led to (the answer is 200 in every case)."""

    QUEUED = "queued"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"  # a topic that does not touch anyone's time
    UNKNOWN_ACCOUNT = "unknown_account"  # no tenant has that Jobber account


async def receive_jobber_event(uow: SchedulingUnitOfWork, notice: JobberNotice) -> JobberOutcome:
    """Remember the notification once and queue the worker's read of the item, together.
    Jobber is never called here: it wants an answer within a second."""
    async with uow:
        link = await uow.jobber_links.by_account(notice.account_id)
        tenant_id = None if link is None else link.tenant_id
        if not await uow.webhooks.record(JOBBER, notice.key, tenant_id, notice.payload):
            return JobberOutcome.DUPLICATE
        outcome = JobberOutcome.UNKNOWN_ACCOUNT
        if link is not None:
            outcome = JobberOutcome.IGNORED
            if notice.topic.startswith(_ITEM_TOPICS) or notice.topic == APP_DISCONNECT:
                await uow.outbox.add(
                    JobberItemChanged(
                        link.tenant_id, notice.topic, notice.item_id, notice.occurred_at
                    )
                )
                outcome = JobberOutcome.QUEUED
        await uow.commit()
        return outcome
