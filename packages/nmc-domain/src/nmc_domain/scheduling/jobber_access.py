"""Calling Jobber on a tenant's behalf: an access token that is usable now, refreshed a minute
before it expires (or when Jobber refuses it).

Jobber rotates refresh tokens: each is good once, and the new pair must replace the old one
together. So a refresh runs in its own transaction under the link's row lock, re-reading the
link first: when another worker refreshed meanwhile, its tokens are used instead of spending
a refresh token twice (which Jobber answers with invalid_grant). A grant Jobber refuses marks
the link "reconnect needed" and is not retried.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import UUID

import attrs

from nmc_domain.scheduling.jobber import RECONNECT_NEEDED, JobberLink
from nmc_domain.scheduling.jobber_connect import JobberSetup, SchedulingUnitOfWorkFactory
from nmc_domain.scheduling.jobber_ports import JobberAccessRefused, JobberGrantRevoked
from nmc_domain.shared.ports import RowLock
from nmc_domain.shared.secrets import SealBroken

__all__ = ["REFRESH_MARGIN", "JobberAccess", "NotConnected"]

T = TypeVar("T")
REFRESH_MARGIN = timedelta(seconds=60)


class NotConnected(Exception):
    """The tenant has no Jobber link (any more)."""


@attrs.frozen
class JobberAccess:
    """Calls to Jobber with a usable access token of one tenant's link."""

    new_uow: SchedulingUnitOfWorkFactory
    setup: JobberSetup
    tenant_id: UUID

    async def call(self, request: Callable[[str], Awaitable[T]]) -> T:
        """`request(token)`; after a 401, once more with a refreshed token. NotConnected,
        or JobberGrantRevoked once the link needs reconnecting."""
        token = await self._token()
        try:
            return await request(token)
        except JobberAccessRefused:
            token = await self._token(rejected=token)
        try:
            return await request(token)
        except JobberAccessRefused:
            await self._mark_revoked()
            raise JobberGrantRevoked("Jobber refused a freshly refreshed token") from None

    async def _token(self, rejected: str | None = None) -> str:
        async with self.new_uow() as uow:
            await uow.bind_tenant(self.tenant_id)
            link = await uow.jobber_links.get(self.tenant_id)
            usable = self._usable(link, await uow.now(), rejected)
        return usable if usable is not None else await self._refresh(rejected)

    def _usable(self, link: JobberLink | None, now: datetime, rejected: str | None) -> str | None:
        if link is None:
            raise NotConnected()
        if link.needs_reconnect:
            raise JobberGrantRevoked(RECONNECT_NEEDED)
        if link.access_expires_at - now <= REFRESH_MARGIN:
            return None
        try:
            token = self.setup.sealer.unseal(link.access_token)
        except SealBroken:
            return None  # sealed with a key we no longer have: the refresh will tell
        return None if token == rejected else token

    async def _refresh(self, rejected: str | None) -> str:
        async with self.new_uow() as uow:
            await uow.bind_tenant(self.tenant_id)
            link = await uow.jobber_links.get(self.tenant_id, lock=RowLock.UPDATE)
            usable = self._usable(link, await uow.now(), rejected)
            if usable is not None:
                return usable  # another worker refreshed while we waited for the lock
            assert link is not None  # else _usable raised NotConnected
            try:
                tokens = await self.setup.api.refresh(self.setup.sealer.unseal(link.refresh_token))
            except (JobberGrantRevoked, SealBroken):
                await uow.jobber_links.save(attrs.evolve(link, last_sync_error=RECONNECT_NEEDED))
                await uow.commit()
                raise JobberGrantRevoked(RECONNECT_NEEDED) from None
            seal = self.setup.sealer.seal
            await uow.jobber_links.save(
                attrs.evolve(
                    link,
                    access_token=seal(tokens.access_token),
                    refresh_token=seal(tokens.refresh_token),
                    access_expires_at=tokens.access_expires_at,
                )
            )
            await uow.commit()
        return tokens.access_token

    async def _mark_revoked(self) -> None:
        async with self.new_uow() as uow:
            await uow.bind_tenant(self.tenant_id)
            link = await uow.jobber_links.get(self.tenant_id, lock=RowLock.UPDATE)
            if link is not None:
                await uow.jobber_links.save(attrs.evolve(link, last_sync_error=RECONNECT_NEEDED))
                await uow.commit()
