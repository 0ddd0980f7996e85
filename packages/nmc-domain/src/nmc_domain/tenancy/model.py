"""Tenants: the businesses we answer for, their profile, and the rules of their onboarding."""

from __future__ import annotations

import re
import uuid
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from nmc_domain.shared.errors import InvalidInput
from nmc_domain.tenancy.template import AfterHoursTemplate, TextBackTemplate

__all__ = [
    "DEFAULT_RING_TIMEOUT_SECONDS",
    "Tenant",
    "new_tenant",
]

DEFAULT_RING_TIMEOUT_SECONDS = 18
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_NAME = 100


@attrs.frozen
class Tenant:
    """A business: who it is, where it is, how its calls are answered and texted back."""

    id: UUID
    name: str
    timezone: str
    forward_to: str
    owner_email: str
    text_back_template: TextBackTemplate = attrs.field(factory=TextBackTemplate)
    after_hours_template: AfterHoursTemplate = attrs.field(factory=AfterHoursTemplate)
    ring_timeout_seconds: int = DEFAULT_RING_TIMEOUT_SECONDS
    # None means the short-call rule is off (the default): a completed call is answered.
    short_call_threshold_seconds: int | None = None


def _check_timezone(timezone: str) -> str:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput("timezone", f"unknown time zone {timezone!r}") from exc
    return timezone


def new_tenant(
    *,
    name: str,
    timezone: str,
    forward_to: str,
    owner_email: str,
    text_back_template: str | None = None,
    ring_timeout_seconds: int = DEFAULT_RING_TIMEOUT_SECONDS,
    tenant_id: UUID | None = None,
) -> Tenant:
    """Validate onboarding input (numbers already parsed to E.164) into a new tenant."""
    name = name.strip()
    if not name:
        raise InvalidInput("name", "must not be empty")
    if len(name) > _MAX_NAME:
        raise InvalidInput("name", f"longer than {_MAX_NAME} characters")
    owner_email = owner_email.strip().lower()
    if not _EMAIL.match(owner_email):
        raise InvalidInput("owner_email", f"not an email address: {owner_email!r}")
    if not 5 <= ring_timeout_seconds <= 600:
        raise InvalidInput("ring_timeout_seconds", "must be between 5 and 600")
    template = (
        TextBackTemplate() if text_back_template is None else TextBackTemplate(text_back_template)
    )
    return Tenant(
        id=tenant_id or uuid.uuid4(),
        name=name,
        timezone=_check_timezone(timezone.strip()),
        forward_to=forward_to,
        owner_email=owner_email,
        text_back_template=template,
        ring_timeout_seconds=ring_timeout_seconds,
    )
