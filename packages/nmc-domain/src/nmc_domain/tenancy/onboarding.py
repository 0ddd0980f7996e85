"""Onboarding: a business, its number and its owner become a tenant (compliance pending)."""

from __future__ import annotations

import attrs

from nmc_domain.identity.model import new_user
from nmc_domain.shared.errors import InvalidInput
from nmc_domain.tenancy.model import DEFAULT_RING_TIMEOUT_SECONDS, Tenant, new_tenant
from nmc_domain.tenancy.ports import PhoneNumberParser, TenancyUnitOfWork

__all__ = ["OnboardTenant", "Onboarded", "onboard_tenant"]


@attrs.frozen
class OnboardTenant:
    """The onboarding form, as typed by a person."""

    name: str
    number: str
    forward_to: str
    timezone: str
    owner_email: str
    text_back_template: str | None = None
    ring_timeout_seconds: int = DEFAULT_RING_TIMEOUT_SECONDS


@attrs.frozen
class Onboarded:
    """The new tenant and its number in E.164."""

    tenant: Tenant
    number: str


async def onboard_tenant(
    uow: TenancyUnitOfWork, parser: PhoneNumberParser, command: OnboardTenant
) -> Onboarded:
    """Validate everything first, then store tenant and number in one transaction."""
    number = parser.parse(command.number, field="number")
    forward_to = parser.parse(command.forward_to, field="forward_to")
    if number == forward_to:
        raise InvalidInput("forward_to", "must differ from the business number it forwards from")
    tenant = new_tenant(
        name=command.name,
        timezone=command.timezone,
        forward_to=forward_to,
        owner_email=command.owner_email,
        text_back_template=command.text_back_template,
        ring_timeout_seconds=command.ring_timeout_seconds,
    )
    async with uow:
        await uow.bind_tenant(tenant.id)
        await uow.tenants.add(tenant)
        await uow.numbers.assign(number, tenant.id)  # NumberAlreadyTaken rolls everything back
        # The owner can use the tenant API at once: their email is their token's subject.
        await uow.users.add(new_user(tenant_id=tenant.id, email=tenant.owner_email, role="OWNER"))
        await uow.commit()
    return Onboarded(tenant, number)
