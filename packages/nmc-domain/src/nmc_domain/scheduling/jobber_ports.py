"""Ports of the Jobber connection: Jobber's OAuth and GraphQL API, the tenant's link, and the
busy blocks Jobber's visits put there.

API calls take the access token in clear (the use cases unseal it and refresh it when it is
about to expire); the adapter knows its client id, secret and redirect URI.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

import attrs

from nmc_domain.scheduling.jobber import BlockChanges, JobberLink, JobberVisit
from nmc_domain.scheduling.model import BusyBlock
from nmc_domain.shared.ports import RowLock

__all__ = [
    "JobberAccessRefused",
    "JobberAccount",
    "JobberApi",
    "JobberBlockRepository",
    "JobberGrantRevoked",
    "JobberLinkRepository",
    "JobberProviderError",
    "JobberTokens",
    "VisitsPage",
]


class JobberProviderError(Exception):
    """Jobber failed or refused (5xx, timeout, network, throttled past our patience, an
    answer we cannot read): nothing is known from this call; a later retry may work.
    `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class JobberAccessRefused(JobberProviderError):
    """The API answered 401: the access token is not (or no longer) accepted."""


class JobberGrantRevoked(JobberProviderError):
    """The grant is gone (`invalid_grant`: a refresh token used twice, the app disconnected):
    the owner has to connect again. Retrying does not help."""


@attrs.frozen
class JobberTokens:
    """What the token endpoint grants: both tokens, and when the access token expires."""

    access_token: str = attrs.field(repr=False)
    refresh_token: str = attrs.field(repr=False)
    access_expires_at: datetime


@attrs.frozen
class JobberAccount:
    """The Jobber account a grant is for."""

    id: str
    name: str


@attrs.frozen
class VisitsPage:
    """One page of visits; `next_cursor` is None on the last."""

    visits: tuple[JobberVisit, ...]
    next_cursor: str | None = None


class JobberApi(Protocol):
    """Jobber's OAuth 2.0 endpoints and the few GraphQL queries scheduling needs."""

    def consent_url(self, state: str) -> str:
        """Jobber's authorization page, coming back to our callback with `state`."""
        ...

    async def exchange_code(self, code: str) -> JobberTokens:
        """The tokens an authorization code grants; JobberGrantRevoked when Jobber refuses
        the code."""
        ...

    async def refresh(self, refresh_token: str) -> JobberTokens:
        """New tokens (a new refresh token too: the one given is spent);
        JobberGrantRevoked on `invalid_grant`."""
        ...

    async def account(self, access_token: str) -> JobberAccount: ...

    async def visit(self, access_token: str, visit_id: str) -> JobberVisit | None:
        """The visit now; None when Jobber has no such visit (deleted)."""
        ...

    async def job_visits(
        self, access_token: str, job_id: str, cursor: str | None = None
    ) -> VisitsPage | None:
        """A page of the job's visits; None when Jobber has no such job (deleted)."""
        ...

    async def visits_between(
        self, access_token: str, start: datetime, end: datetime, cursor: str | None = None
    ) -> VisitsPage:
        """A page of the visits that start in [start, end)."""
        ...

    async def disconnect(self, access_token: str) -> None:
        """Tell Jobber the app is disconnected from the account (appDisconnect)."""
        ...


class JobberLinkRepository(Protocol):
    """One link per tenant (`jobber_links`), and its routing row (`jobber_accounts`: which
    tenant an account id belongs to, read before any tenant is bound), written together.
    An account linked to another tenant is a Conflict naming `account_id`."""

    async def get(self, tenant_id: UUID, *, lock: RowLock = RowLock.NONE) -> JobberLink | None: ...

    async def by_account(self, account_id: str) -> JobberLink | None:
        """The link of a Jobber account, whichever tenant has it; binds the unit of work to
        that tenant (to none when nobody has it)."""
        ...

    async def save(self, link: JobberLink) -> None:
        """Insert or replace the tenant's link."""
        ...

    async def delete(self, tenant_id: UUID) -> bool:
        """Remove the link and its routing row; True when there was one."""
        ...

    async def tenant_ids(self) -> Sequence[UUID]:
        """Every tenant with a link, whatever the binding (the poll visits each)."""
        ...

    async def lock_sync(self, tenant_id: UUID) -> None:
        """Serialize the tenant's syncs until the unit of work ends: each reads Jobber and
        writes what it read under this lock, so an older reading never lands last."""
        ...


class JobberBlockRepository(Protocol):
    """The busy blocks with `source = jobber` (one per technician and visit), and the visit ->
    job map of the visits that have some."""

    async def of_visits(self, tenant_id: UUID, visit_ids: Iterable[str]) -> Sequence[BusyBlock]:
        """The blocks of these visits."""
        ...

    async def of_job(self, tenant_id: UUID, job_id: str) -> Sequence[BusyBlock]:
        """The blocks of the visits remembered as the job's."""
        ...

    async def between(self, tenant_id: UUID, start: datetime, end: datetime) -> Sequence[BusyBlock]:
        """The blocks that start in [start, end)."""
        ...

    async def apply(self, tenant_id: UUID, changes: BlockChanges) -> None:
        """Insert, move and delete the blocks, remember and forget the visits' jobs."""
        ...

    async def clear(self, tenant_id: UUID) -> int:
        """Delete every Jobber block and remembered visit of the tenant; how many blocks."""
        ...
