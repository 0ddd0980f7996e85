"""The catalog & hours page put together: every section's stored state (services, hours,
closures, the two templates with their previews), or what a form in error held; and the
answers a saved form gets (303 back to its section)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Response
from litestar.response import Redirect

from nmc_api.deps import AnyRequest, Deps
from nmc_api.web.catalog_forms import DAYS, field_message, hours_rows, item_values, segments_words
from nmc_api.web.chrome import page
from nmc_api.web.session import Viewer
from nmc_domain.catalog.model import ServiceItem
from nmc_domain.catalog.use_cases import list_items
from nmc_domain.conversation.texts import money
from nmc_domain.scheduling.model import Closure
from nmc_domain.scheduling.setup import get_business_hours, list_closures
from nmc_domain.shared.errors import InvalidInput
from nmc_domain.shared.pages import MAX_LIMIT, PageKey
from nmc_domain.telephony.template_preview import TemplatePreview, preview_template
from nmc_domain.tenancy.profile import me

__all__ = [
    "NOTICES",
    "NO_ITEM",
    "TEMPLATES",
    "TEMPLATE_SLUGS",
    "catalog_page",
    "form_of",
    "preview_of",
    "saved",
]

# The two templates: (url slug, field, heading, what it is).
TEMPLATES = (
    (
        "text-back",
        "text_back_template",
        "Text-back",
        "The first text a caller gets after a missed call. {business_name} is filled in.",
    ),
    (
        "after-hours",
        "after_hours_template",
        "After-hours text-back",
        "Sent instead while you are closed. {business_name} and {next_open} (when you open "
        "next) are filled in.",
    ),
)
TEMPLATE_SLUGS = {slug: field for slug, field, _, _ in TEMPLATES}
NOTICES = {
    "item": "The service was saved.",
    "hours": "The business hours were saved.",
    "closure": "The closure was added.",
    "reopened": "The closure was removed: the date is open again.",
    "text-back": "The text-back was saved.",
    "after-hours": "The after-hours text-back was saved.",
}
NO_ITEM = "That service is not in your catalog."
_MOST = 2000  # rows listed at most (items, closures); no business has that many


async def _all_items(deps: Deps, viewer: Viewer) -> list[ServiceItem]:
    items: list[ServiceItem] = []
    after: PageKey | None = None
    while len(items) < _MOST:
        found = await list_items(deps.new_uow(), viewer.principal, after, MAX_LIMIT)
        items.extend(found.items)
        if found.next_after is None:
            break
        after = found.next_after
    return items


async def _all_closures(deps: Deps, viewer: Viewer) -> list[Closure]:
    closures: list[Closure] = []
    after: PageKey | None = None
    while len(closures) < _MOST:
        found = await list_closures(deps.new_uow(), viewer.principal, after, MAX_LIMIT)
        closures.extend(found.items)
        if found.next_after is None:
            break
        after = found.next_after
    return closures


async def preview_of(
    deps: Deps, viewer: Viewer, field: str, text: str
) -> tuple[TemplatePreview | None, str | None]:
    try:
        return await preview_template(deps.new_uow(), viewer.principal, field, text), None
    except InvalidInput as exc:
        return None, field_message(exc.reason)


async def catalog_page(
    deps: Deps,
    viewer: Viewer,
    *,
    status_code: int = 200,
    item_form: Mapping[str, str] | None = None,
    hours: Mapping[str, Any] | None = None,
    texts: Mapping[str, str] | None = None,
    closure_form: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    **context: Any,
) -> Response[Any]:
    """The page; a form in error keeps what was typed (`item_form`, `hours` rows,
    `closure_form`, `texts`)."""
    _, tenant = await me(deps.new_uow(), viewer.principal)
    stored = {
        "text_back_template": tenant.text_back_template.text,
        "after_hours_template": tenant.after_hours_template.text,
    }
    shown = {**stored, **(texts or {})}
    previews = {field: await preview_of(deps, viewer, field, shown[field]) for field in stored}
    if hours is None:
        hours = hours_rows(await get_business_hours(deps.new_uow(), viewer.principal))
    return await page(
        deps,
        viewer,
        "catalog.html",
        status_code=status_code,
        items=await _all_items(deps, viewer),
        closures=await _all_closures(deps, viewer),
        item_form=item_form if item_form is not None else item_values(None),
        hours=hours,
        days=DAYS,
        templates=TEMPLATES,
        texts=shown,
        previews=previews,
        segments_words=segments_words,
        money=money,
        timezone=tenant.timezone,
        closure_form=closure_form or {},
        errors=errors or {},
        **context,
    )


async def form_of(request: AnyRequest) -> dict[str, str]:
    form = await request.form()
    return {key: str(form.get(key) or "") for key in form}


def saved(what: str, anchor: str) -> Redirect:
    return Redirect(f"/app/catalog?saved={what}#{anchor}", status_code=303)
