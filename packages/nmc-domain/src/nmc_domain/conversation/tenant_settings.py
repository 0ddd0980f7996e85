"""GET/PATCH /v1/settings: one page of settings drawn from three contexts (scheduling, the
conversation, the tenant's templates), so it lives here, the highest of them."""

from __future__ import annotations

import attrs

from nmc_domain.compliance.contacts import LedgerEntry
from nmc_domain.conversation.ports import ConversationUnitOfWork
from nmc_domain.conversation.settings import (
    ConversationSettings,
    change_conversation_settings,
)
from nmc_domain.identity.access import authorize
from nmc_domain.identity.model import Principal
from nmc_domain.scheduling.settings import SETTING_RANGES, SchedulingSettings, change_settings
from nmc_domain.shared.errors import InvalidInput, TenantNotFound
from nmc_domain.shared.pages import Page, PageKey, check_limit, page_of
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.model import Tenant
from nmc_domain.tenancy.template import AfterHoursTemplate, TextBackTemplate

__all__ = ["TenantSettings", "change_tenant_settings", "list_opt_outs", "tenant_settings"]

_CONVERSATION = frozenset({"conversation_idle_hours", "help_contact", "assistant_disclosure"})
_TEMPLATES = frozenset({"text_back_template", "after_hours_template"})


@attrs.frozen
class TenantSettings:
    scheduling: SchedulingSettings
    conversation: ConversationSettings
    tenant: Tenant


async def _read(uow: ConversationUnitOfWork, principal: Principal) -> TenantSettings:
    tenant = await uow.tenants.get(principal.tenant_id, lock=RowLock.UPDATE)
    if tenant is None:
        raise TenantNotFound(principal.tenant_id)
    return TenantSettings(
        await uow.scheduling_settings.get(tenant.id),
        await uow.conversation_settings.get(tenant.id),
        tenant,
    )


async def tenant_settings(uow: ConversationUnitOfWork, principal: Principal) -> TenantSettings:
    async with uow:
        await authorize(uow, principal)
        return await _read(uow, principal)


def _templates(tenant: Tenant, changes: dict[str, object]) -> Tenant:
    """The tenant with the templates given (null: back to the default), each checked."""
    for field in _TEMPLATES & set(changes):
        value = changes[field]
        if value is not None and not isinstance(value, str):
            raise InvalidInput(field, "must be a text or null")
        if field == "text_back_template":
            text_back = TextBackTemplate() if value is None else TextBackTemplate(value)
            tenant = attrs.evolve(tenant, text_back_template=text_back)
        else:
            after = AfterHoursTemplate() if value is None else AfterHoursTemplate(value)
            tenant = attrs.evolve(tenant, after_hours_template=after)
    return tenant


async def change_tenant_settings(
    uow: ConversationUnitOfWork, principal: Principal, **changes: object
) -> TenantSettings:
    """PATCH (OWNER): each field to its context, each checked; one transaction for all."""
    async with uow:
        await authorize(uow, principal, owner=True)
        current = await _read(uow, principal)
        unknown = set(changes) - set(SETTING_RANGES) - _CONVERSATION - _TEMPLATES
        if unknown:
            raise InvalidInput(sorted(unknown)[0], "is not a setting")
        scheduling = change_settings(
            current.scheduling, **{k: v for k, v in changes.items() if k in SETTING_RANGES}
        )
        conversation = change_conversation_settings(
            current.conversation, **{k: v for k, v in changes.items() if k in _CONVERSATION}
        )
        tenant = _templates(current.tenant, dict(changes))
        changed = TenantSettings(scheduling, conversation, tenant)
        if changed != current:
            await uow.scheduling_settings.save(scheduling)
            await uow.conversation_settings.save(conversation)
            await uow.tenants.save(tenant)
            await uow.commit()
        return changed


async def list_opt_outs(
    uow: ConversationUnitOfWork, principal: Principal, after: PageKey | None, limit: int
) -> Page[LedgerEntry]:
    """The tenant's opt-out ledger, newest first (any role)."""
    async with uow:
        await authorize(uow, principal)
        limit = check_limit(limit)
        rows = await uow.opt_outs.page(principal.tenant_id, after, limit + 1)
        return page_of(rows, limit, lambda e: (e.occurred_at.isoformat(), e.id))
