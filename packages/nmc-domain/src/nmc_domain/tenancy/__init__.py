"""Tenancy: the business profile (name, zone, forward-to, text-back template) and onboarding."""

from nmc_domain.tenancy.errors import InvalidPhoneNumber, NumberAlreadyTaken, TemplateError
from nmc_domain.tenancy.model import DEFAULT_RING_TIMEOUT_SECONDS, Tenant, new_tenant
from nmc_domain.tenancy.onboarding import Onboarded, OnboardTenant, onboard_tenant
from nmc_domain.tenancy.ports import (
    PhoneNumberParser,
    PhoneNumberRepository,
    TenancyUnitOfWork,
    TenantRepository,
)
from nmc_domain.tenancy.profile import find_tenant, me
from nmc_domain.tenancy.template import DEFAULT_TEXT_BACK, TextBackTemplate

__all__ = [
    "DEFAULT_RING_TIMEOUT_SECONDS",
    "DEFAULT_TEXT_BACK",
    "InvalidPhoneNumber",
    "NumberAlreadyTaken",
    "OnboardTenant",
    "Onboarded",
    "PhoneNumberParser",
    "PhoneNumberRepository",
    "TemplateError",
    "TenancyUnitOfWork",
    "Tenant",
    "TenantRepository",
    "TextBackTemplate",
    "find_tenant",
    "me",
    "new_tenant",
    "onboard_tenant",
]
