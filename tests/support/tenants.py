"""Vivid tenants for tests, onboarded through the real use case."""

from __future__ import annotations

import itertools
import random

from nmc_adapters.phone import LibPhoneNumbers
from nmc_domain.compliance.gate import approve_compliance
from nmc_domain.tenancy.model import Tenant
from nmc_domain.tenancy.onboarding import OnboardTenant, onboard_tenant
from nmc_domain.unit_of_work import UnitOfWorkFactory

_serial = itertools.count(random.randrange(2_000_000, 8_000_000))


def fresh_number() -> str:
    """A valid US number nobody else in this test session has."""
    return f"+1415{next(_serial):07d}"


def caller_number() -> str:
    """A distinct caller (any E.164 shape will do: callers are not validated by libphonenumber)."""
    return f"+1555{random.randrange(10**6, 10**7)}"


async def onboard(
    new_uow: UnitOfWorkFactory,
    *,
    name: str = "ACME-PLUMBING",
    approved: bool = True,
    template: str | None = None,
) -> tuple[Tenant, str]:
    """A tenant and its number; approved by default so its messages go out."""
    number = fresh_number()
    command = OnboardTenant(
        name=name,
        number=number,
        forward_to=fresh_number(),
        timezone="America/Chicago",
        owner_email="owner@acme-plumbing.example",
        text_back_template=template,
    )
    tenant = (await onboard_tenant(new_uow(), LibPhoneNumbers(), command)).tenant
    if approved:
        tenant, _ = await approve_compliance(new_uow(), tenant.id)
    return tenant, number
