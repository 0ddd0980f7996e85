"""Compliance (OWNER): where the 10DLC registration stands (a rejection's reason) and the
form that submits the brand and campaign; a field at fault comes back with the domain's
reason next to it (422), the form keeping what was typed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import MediaType, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect

from nmc_api.deps import AnyRequest, Deps
from nmc_api.web.chrome import page
from nmc_api.web.compliance_form import (
    FIELDSETS,
    IDS,
    LABELS,
    SAMPLE,
    SAMPLE_FIELDS,
    USE_CASE,
    USE_CASES,
    draft_of,
    field_of,
    values_of,
)
from nmc_api.web.session import Viewer, Viewing
from nmc_domain.compliance.submission import show_compliance, submit_registration
from nmc_domain.shared.errors import InvalidInput

__all__ = ["compliance_pages"]

Submitted = Annotated[str | None, QueryParameter(name="submitted")]


async def _compliance_page(
    deps: Deps,
    viewer: Viewer,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response[Any]:
    view = await show_compliance(deps.new_uow(), viewer.principal)
    submitted_at = None
    if view.registration is not None:
        local = view.registration.submitted_at.astimezone(ZoneInfo(view.tenant.timezone))
        hour = local.hour % 12 or 12
        submitted_at = (
            f"{local:%b} {local.day}, {local.year}, {hour}:{local:%M} "
            f"{'AM' if local.hour < 12 else 'PM'}"
        )
    return await page(
        deps,
        viewer,
        "compliance.html",
        view=view,
        submitted_at=submitted_at,
        fieldsets=FIELDSETS,
        samples=SAMPLE_FIELDS,
        use_cases=USE_CASES,
        values=values if values is not None else values_of(view.registration),
        errors=errors or {},
        ids=IDS,
        labels=LABELS,
        notice=notice,
        status_code=status_code,
    )


@get("/compliance", media_type=MediaType.HTML)
async def compliance(deps: Deps, viewer: Viewing, submitted: Submitted = None) -> Response[Any]:
    """The status and the form (filled with the current submission)."""
    viewer.require_owner()
    notice = None
    if submitted:
        notice = "Your registration was sent to the carriers' registry. Its status is below."
    return await _compliance_page(deps, viewer, notice=notice)


@post("/compliance", media_type=MediaType.HTML, status_code=303)
async def submit(request: AnyRequest, deps: Deps, viewer: Viewing) -> Response[Any]:
    """Submit the brand and campaign: back to the page (303), or the form with the field at
    fault (422)."""
    viewer.require_owner()
    form = await request.form()
    values = {name: str(form.get(name) or "") for name in IDS if name != SAMPLE}
    try:
        brand, campaign, filled = draft_of(values)
    except ValueError:  # not one of the use cases offered
        offered = ", ".join(USE_CASES.values())
        errors = {USE_CASE: f"choose one of: {offered}"}
        return await _compliance_page(deps, viewer, values=values, errors=errors, status_code=422)
    try:
        await submit_registration(deps.new_uow(), viewer.principal, brand, campaign)
    except InvalidInput as exc:
        errors = {field_of(exc.field, filled): exc.reason}
        return await _compliance_page(deps, viewer, values=values, errors=errors, status_code=422)
    return Redirect("/app/compliance?submitted=1", status_code=303)


compliance_pages = [compliance, submit]
