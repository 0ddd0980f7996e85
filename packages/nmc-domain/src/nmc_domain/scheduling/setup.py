"""Setting up the schedule (OWNER): technicians, weekly hours, closures, busy blocks, settings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

import attrs

from nmc_domain.identity.access import authorize
from nmc_domain.identity.model import Principal
from nmc_domain.scheduling.model import (
    BusyBlock,
    Closure,
    Technician,
    WeeklyHours,
    new_busy_block,
    new_closure,
    new_technician,
    normalize_email,
    weekly_hours,
)
from nmc_domain.scheduling.ports import SchedulingUnitOfWork
from nmc_domain.scheduling.settings import SchedulingSettings, change_settings
from nmc_domain.shared.errors import InvalidInput, NotFound
from nmc_domain.shared.pages import Page, PageKey, check_limit, page_of
from nmc_domain.shared.ports import RowLock

__all__ = [
    "TechnicianChanges",
    "add_busy_block",
    "add_closure",
    "add_technician",
    "change_technician",
    "delete_busy_block",
    "delete_closure",
    "get_business_hours",
    "get_settings",
    "list_busy_blocks",
    "list_closures",
    "list_technicians",
    "set_business_hours",
    "update_settings",
]


async def _check_items(
    uow: SchedulingUnitOfWork, tenant_id: UUID, item_ids: Sequence[UUID]
) -> None:
    for position, item_id in enumerate(item_ids):
        if await uow.catalog.get(tenant_id, item_id) is None:
            raise InvalidInput(f"item_ids[{position}]", f"no catalog item {item_id}")


async def list_technicians(
    uow: SchedulingUnitOfWork, principal: Principal, after: PageKey | None, limit: int
) -> Page[Technician]:
    async with uow:
        await authorize(uow, principal)
        limit = check_limit(limit)
        rows = await uow.technicians.page(principal.tenant_id, after, limit + 1)
        return page_of(rows, limit, lambda t: (t.name, t.id))


async def add_technician(
    uow: SchedulingUnitOfWork,
    principal: Principal,
    *,
    name: str,
    item_ids: Sequence[UUID] | None = None,
    email: str | None = None,
) -> Technician:
    """A new, active technician; `item_ids` None: can do every item."""
    async with uow:
        await authorize(uow, principal, owner=True)
        technician = new_technician(
            tenant_id=principal.tenant_id, name=name, item_ids=item_ids, email=email
        )
        if item_ids is not None:
            await _check_items(uow, principal.tenant_id, item_ids)
        await uow.technicians.add(technician)
        await uow.commit()
        return technician


@attrs.frozen
class TechnicianChanges:
    """A PATCH: only what is given changes. `item_ids` None means every item and `hours` None
    the tenant's hours, so whether each was given at all is said apart."""

    name: str | None = None
    active: bool | None = None
    set_item_ids: bool = False
    item_ids: tuple[UUID, ...] | None = None
    set_hours: bool = False
    hours: tuple[tuple[str, str, str], ...] | None = None
    set_email: bool = False
    email: str | None = None


async def change_technician(
    uow: SchedulingUnitOfWork, principal: Principal, technician_id: UUID, changes: TechnicianChanges
) -> Technician:
    async with uow:
        await authorize(uow, principal, owner=True)
        tenant_id = principal.tenant_id
        technician = await uow.technicians.get(tenant_id, technician_id, lock=RowLock.UPDATE)
        if technician is None:
            raise NotFound("technician", technician_id)
        changed = technician
        if changes.name is not None:
            changed = changed.renamed(changes.name)
        if changes.active is not None:
            changed = attrs.evolve(changed, active=changes.active)
        if changes.set_item_ids:
            ids = changes.item_ids
            if ids is not None:
                await _check_items(uow, tenant_id, ids)
            changed = attrs.evolve(changed, item_ids=None if ids is None else frozenset(ids))
        if changes.set_hours:
            hours = None if changes.hours is None else weekly_hours(changes.hours)
            changed = attrs.evolve(changed, hours=hours)
        if changes.set_email:
            changed = attrs.evolve(changed, email=normalize_email(changes.email))
        if changed != technician:
            await uow.technicians.save(changed)
            await uow.commit()
        return changed


async def get_business_hours(uow: SchedulingUnitOfWork, principal: Principal) -> WeeklyHours:
    async with uow:
        await authorize(uow, principal)
        return await uow.business_hours.get(principal.tenant_id)


async def set_business_hours(
    uow: SchedulingUnitOfWork, principal: Principal, periods: Sequence[tuple[str, str, str]]
) -> WeeklyHours:
    """Replace the weekly hours; overlapping or inverted periods are refused, naming one."""
    async with uow:
        await authorize(uow, principal, owner=True)
        hours = weekly_hours(periods)
        await uow.business_hours.replace(principal.tenant_id, hours)
        await uow.commit()
        return hours


async def list_closures(
    uow: SchedulingUnitOfWork, principal: Principal, after: PageKey | None, limit: int
) -> Page[Closure]:
    async with uow:
        await authorize(uow, principal)
        limit = check_limit(limit)
        rows = await uow.closures.page(principal.tenant_id, after, limit + 1)
        return page_of(rows, limit, lambda c: (c.day.isoformat(), c.id))


async def add_closure(
    uow: SchedulingUnitOfWork, principal: Principal, *, day: date, reason: str
) -> Closure:
    async with uow:
        await authorize(uow, principal, owner=True)
        closure = new_closure(tenant_id=principal.tenant_id, day=day, reason=reason)
        await uow.closures.add(closure)
        await uow.commit()
        return closure


async def delete_closure(uow: SchedulingUnitOfWork, principal: Principal, closure_id: UUID) -> None:
    async with uow:
        await authorize(uow, principal, owner=True)
        if not await uow.closures.delete(principal.tenant_id, closure_id):
            raise NotFound("closure", closure_id)
        await uow.commit()


async def list_busy_blocks(
    uow: SchedulingUnitOfWork, principal: Principal, after: PageKey | None, limit: int
) -> Page[BusyBlock]:
    async with uow:
        await authorize(uow, principal)
        limit = check_limit(limit)
        rows = await uow.busy_blocks.page(principal.tenant_id, after, limit + 1)
        return page_of(rows, limit, lambda b: (b.start.isoformat(), b.id))


async def add_busy_block(
    uow: SchedulingUnitOfWork,
    principal: Principal,
    *,
    technician_id: UUID,
    start: datetime,
    end: datetime,
) -> BusyBlock:
    """Mark a technician busy; serialized with the claims on them (same technician lock)."""
    async with uow:
        await authorize(uow, principal, owner=True)
        tenant_id = principal.tenant_id
        block = new_busy_block(
            tenant_id=tenant_id, technician_id=technician_id, start=start, end=end
        )
        if await uow.technicians.get(tenant_id, technician_id) is None:
            raise InvalidInput("technician_id", f"no technician {technician_id}")
        await uow.bookings.lock_technician(tenant_id, technician_id)
        await uow.busy_blocks.add(block)
        await uow.commit()
        return block


async def delete_busy_block(
    uow: SchedulingUnitOfWork, principal: Principal, block_id: UUID
) -> None:
    async with uow:
        await authorize(uow, principal, owner=True)
        if not await uow.busy_blocks.delete(principal.tenant_id, block_id):
            raise NotFound("busy block", block_id)
        await uow.commit()


async def get_settings(uow: SchedulingUnitOfWork, principal: Principal) -> SchedulingSettings:
    async with uow:
        await authorize(uow, principal)
        return await uow.scheduling_settings.get(principal.tenant_id)


async def update_settings(
    uow: SchedulingUnitOfWork, principal: Principal, **changes: object
) -> SchedulingSettings:
    """PATCH the settings (OWNER); out of range → InvalidInput naming the field."""
    async with uow:
        await authorize(uow, principal, owner=True)
        current = await uow.scheduling_settings.get(principal.tenant_id)
        changed = change_settings(current, **changes)
        if changed != current:
            await uow.scheduling_settings.save(changed)
            await uow.commit()
        return changed
