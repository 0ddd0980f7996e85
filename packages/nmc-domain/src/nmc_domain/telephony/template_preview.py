"""A text-back or after-hours template as a missed caller would get it now: checked as it
would be saved, filled in as `text_back_body` fills it (the business's name, and when it
opens next in its zone), with what the text costs in SMS segments."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs

from nmc_domain.conversation.texts import when
from nmc_domain.identity.access import authorize
from nmc_domain.identity.model import Principal
from nmc_domain.messaging.segments import Segments, count_segments
from nmc_domain.scheduling.hours import next_opening
from nmc_domain.shared.errors import InvalidInput, TenantNotFound
from nmc_domain.telephony.ports import TelephonyUnitOfWork
from nmc_domain.tenancy.template import AfterHoursTemplate, TextBackTemplate

__all__ = ["TEMPLATE_FIELDS", "TemplatePreview", "preview_template"]

TEMPLATE_FIELDS = ("text_back_template", "after_hours_template")
# Without business hours no after-hours text goes out; the preview fills in an example.
_EXAMPLE_OPENING = time(8, 0)


@attrs.frozen
class TemplatePreview:
    """The text as sent, its segments, and whether `{next_open}` was filled from the business
    hours (False: no hours are set, so the after-hours text is not used, and an example time
    stands in)."""

    field: str
    text: str
    segments: Segments
    hours_known: bool = True


async def preview_template(
    uow: TelephonyUnitOfWork, principal: Principal, field: str, text: str
) -> TemplatePreview:
    """The preview of `text` as the template `field` (any role); TemplateError (an
    InvalidInput naming `field`) for a template that could not be saved."""
    if field not in TEMPLATE_FIELDS:
        raise InvalidInput("field", f"expected one of {', '.join(TEMPLATE_FIELDS)}")
    async with uow:
        await authorize(uow, principal)
        tenant = await uow.tenants.get(principal.tenant_id)
        if tenant is None:
            raise TenantNotFound(principal.tenant_id)
        if field == "text_back_template":
            body = TextBackTemplate(text).render(business_name=tenant.name)
            return TemplatePreview(field, body, count_segments(body))
        template = AfterHoursTemplate(text)
        zone = ZoneInfo(tenant.timezone)
        now = await uow.now()
        today = now.astimezone(zone).date()
        hours, closed = await uow.business_hours.with_closures(
            tenant.id, today, today + timedelta(days=15)
        )
        opens = next_opening(hours, closed, zone, now) if hours.periods else None
        if opens is None:
            example = datetime.combine(today + timedelta(days=1), _EXAMPLE_OPENING, tzinfo=zone)
            body = template.render(business_name=tenant.name, next_open=when(example, zone))
            return TemplatePreview(field, body, count_segments(body), hours_known=False)
        body = template.render(business_name=tenant.name, next_open=when(opens, zone))
        return TemplatePreview(field, body, count_segments(body))
