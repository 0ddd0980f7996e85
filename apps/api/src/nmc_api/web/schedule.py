"""Schedule (any role): a technician's week (Monday to Sunday in the tenant's zone) with
appointments, holds and busy blocks; cancel and reschedule an appointment from there.

Cancel is a form post (303 back to the week) that htmx sends after a confirm, swapping the
week in place (`hx-select="#week"`). Reschedule is a plain form in the appointment's
<details>. A refusal comes back as the week with the reason next to the field: 404, 409 (the
time is taken) or 422 for a plain post, 200 for htmx (which swaps only successful answers).
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from litestar import MediaType, Response, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from nmc_api.deps import AnyRequest, Deps
from nmc_api.web.chrome import page
from nmc_api.web.schedule_view import WeekView, week_url
from nmc_api.web.session import Viewer, Viewing
from nmc_domain.scheduling.reservations import cancel_appointment, reschedule_appointment
from nmc_domain.scheduling.week import technician_week, wall_clock
from nmc_domain.shared.errors import Conflict, InvalidInput, NotFound
from nmc_domain.tenancy.profile import me

__all__ = ["readable", "schedule_pages"]

TechnicianParam = Annotated[str | None, QueryParameter(name="technician")]
WeekParam = Annotated[str | None, QueryParameter(name="week")]
DoneParam = Annotated[str | None, QueryParameter(name="done")]
NOTICES = {
    "canceled": "The appointment was canceled: its time is free again.",
    "rescheduled": "The appointment was moved.",
}
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])(:[0-5][0-9](\.[0-9]+)?)?$")
# Who a domain reason is about, when it starts with a verb ("is in the past").
_SUBJECTS = {"start": "This time", "technician_id": "This technician", "date": "This date"}


def readable(field: str, reason: str) -> str:
    """A domain reason as a sentence: "is in the past" about the start → "This time is in
    the past"; "this time is taken" → "This time is taken"."""
    if reason.startswith(("is ", "ends ")):
        reason = f"{_SUBJECTS.get(field, 'It')} {reason}"
    return reason[:1].upper() + reason[1:]


def _uuid(text: str | None) -> UUID | None:
    try:
        return UUID(text) if text else None
    except ValueError:
        return None


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text else None
    except ValueError:
        return None


def _htmx(request: AnyRequest) -> bool:
    return bool(request.headers.get("hx-request"))


async def _week_page(
    deps: Deps,
    viewer: Viewer,
    technician: UUID | None,
    day: date | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response[Any]:
    try:
        week = await technician_week(
            deps.new_uow(), viewer.principal, technician_id=technician, day=day
        )
    except NotFound:
        week = await technician_week(deps.new_uow(), viewer.principal, day=day)
        context["error"] = context.get("error") or (
            "That technician is not on the schedule: showing another."
        )
        status_code = max(status_code, 404)
    view = WeekView.of(week)
    context.setdefault("form", {})
    context.setdefault("errors", {})
    return await page(deps, viewer, "schedule.html", view=view, status_code=status_code, **context)


@get("/schedule", media_type=MediaType.HTML)
async def schedule(
    deps: Deps,
    viewer: Viewing,
    technician: TechnicianParam = None,
    week: WeekParam = None,
    done: DoneParam = None,
) -> Response[Any]:
    """The week of `week` (any date in it; this week by default) of `technician`."""
    wanted, day = _uuid(technician), _date(week)
    errors = []
    if technician and wanted is None:
        errors.append("That is not a technician of this business: showing another.")
    if week and day is None:
        errors.append("The week must be a date (YYYY-MM-DD): showing this week.")
    return await _week_page(
        deps,
        viewer,
        wanted,
        day,
        status_code=422 if errors else 200,
        error=" ".join(errors) or None,
        notice=NOTICES.get(done or ""),
    )


async def _back(request: AnyRequest) -> tuple[UUID | None, date | None, dict[str, str]]:
    """Where the form came from (the week shown), and what it held."""
    form = await request.form()
    values = {key: str(form.get(key) or "").strip() for key in form}
    return _uuid(values.get("back_technician")), _date(values.get("back_week")), values


@post("/schedule/appointments/{appointment_id:uuid}/cancel", media_type=MediaType.HTML)
async def cancel(
    request: AnyRequest, deps: Deps, viewer: Viewing, appointment_id: FromPath[UUID]
) -> Response[Any]:
    """Cancel: 303 back to the week; a refusal: the week with the reason (404/409)."""
    technician, day, _ = await _back(request)
    try:
        done = await cancel_appointment(deps.new_uow(), viewer.principal, appointment_id)
    except (NotFound, Conflict) as exc:
        if isinstance(exc, NotFound):
            status, message = 404, "That appointment is not on the schedule."
        else:
            status, message = 409, readable(exc.field, exc.reason)
        return await _week_page(
            deps,
            viewer,
            technician,
            day,
            status_code=200 if _htmx(request) else status,
            error=message,
        )
    booking = done.booking
    day = day or booking.start.astimezone(ZoneInfo(done.timezone)).date()
    back = week_url(technician or booking.technician_id, day, done="canceled")
    return Redirect(back, status_code=303)


Move = tuple[UUID, date, time]


def _parse_move(values: dict[str, str]) -> tuple[Move | None, dict[str, str]]:
    """The form's technician, local date and start time; what is unreadable, by field."""
    errors: dict[str, str] = {}
    technician = _uuid(values.get("technician_id"))
    if technician is None:
        errors["technician_id"] = "Choose a technician."
    day = _date(values.get("date"))
    if day is None:
        errors["date"] = "Give the date as YYYY-MM-DD."
    found = _CLOCK.match(values.get("time", ""))
    at = time(int(found[1]), int(found[2])) if found else None
    if at is None:
        errors["start"] = "Give the time as HH:MM (24-hour clock)."
    if technician is None or day is None or at is None:
        return None, errors
    return (technician, day, at), errors


@post("/schedule/appointments/{appointment_id:uuid}/reschedule", media_type=MediaType.HTML)
async def reschedule(
    request: AnyRequest, deps: Deps, viewer: Viewing, appointment_id: FromPath[UUID]
) -> Response[Any]:
    """Move the appointment (the new technician and local start): 303 to its new week; a
    refusal: the week again with the form open and the reason next to the field (409 when
    the time is taken, 422 when it can never be booked, 404 when something is gone)."""
    back_technician, back_day, values = await _back(request)
    move, errors = _parse_move(values)
    status = 422
    moved = None
    if move is not None:
        technician, day, at = move
        try:
            zone = await _zone(deps, viewer)
            start = wall_clock(day, at, zone)
            moved = await reschedule_appointment(
                deps.new_uow(),
                viewer.principal,
                appointment_id,
                technician_id=technician,
                start=start,
            )
        except NotFound as exc:
            status = 404
            field = "technician_id" if exc.what == "technician" else "general"
            errors[field] = f"That {exc.what} is no longer on the schedule."
        except (Conflict, InvalidInput) as exc:
            status = 409 if isinstance(exc, Conflict) else 422
            field = exc.field if exc.field in ("start", "technician_id") else "general"
            errors[field] = readable(exc.field, exc.reason)
    if moved is not None:
        booking = moved.booking
        local_day = booking.start.astimezone(ZoneInfo(moved.timezone)).date()
        return Redirect(
            week_url(booking.technician_id, local_day, done="rescheduled"), status_code=303
        )
    return await _week_page(
        deps,
        viewer,
        back_technician,
        back_day,
        status_code=200 if _htmx(request) else status,
        moving=appointment_id,
        form=values,
        errors=errors,
        # Said at the top too: a canceled or vanished appointment has no form to show it in.
        error=errors.get("general"),
    )


async def _zone(deps: Deps, viewer: Viewer) -> ZoneInfo:
    _, tenant = await me(deps.new_uow(), viewer.principal)
    return ZoneInfo(tenant.timezone)


schedule_pages = [schedule, cancel, reschedule]
