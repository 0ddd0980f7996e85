"""Conversations: the list by state and one thread, with the person's controls.

The list (`#conversation-list`) and the thread's live part (`#messages`, with the state and
buttons and `#booking` swapped out of band) poll every 3 s. Each poll carries a digest of what
the page shows (`seen`): nothing changed, 204 (htmx swaps nothing, so focus, selection and the
reader's place stay put). The send box is never polled: what is typed stays.

Take over, hand back and close are plain forms (303 back to the thread). Sending is an htmx
post that swaps the form (an error: 200 with the form, the text and the reason next to it) and
falls back to a plain post (303, or the page with the reason: 422/403/409). The segment count
as one types comes from the domain's counter (POST /app/segments).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from html import escape
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import attrs
from litestar import MediaType, Response, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from nmc_api.deps import AnyRequest, Deps
from nmc_api.v1.schemas import decode_cursor, encode_cursor
from nmc_api.web.chrome import page
from nmc_api.web.session import Viewer, Viewing, session_cookie, web_config
from nmc_domain.catalog.use_cases import get_item
from nmc_domain.conversation.memory import Stage
from nmc_domain.conversation.model import Conversation, ConversationStatus, OpenedBy
from nmc_domain.conversation.people import (
    close_conversation,
    list_conversations,
    release_conversation,
    send_person_text,
    take_over_conversation,
)
from nmc_domain.conversation.texts import money
from nmc_domain.messaging.model import Author, InboundMessage, OutboundMessage
from nmc_domain.messaging.segments import count_segments
from nmc_domain.scheduling.booking import Booking, BookingStatus
from nmc_domain.scheduling.setup import list_technicians
from nmc_domain.shared.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from nmc_domain.shared.pages import MAX_LIMIT, PageKey
from nmc_domain.telephony.model import CallOutcome, CallRecord
from nmc_domain.telephony.views import ConversationView, show_conversation
from nmc_domain.tenancy.profile import me

__all__ = [
    "PAGE_SIZE",
    "STATES",
    "BookingPanel",
    "Entry",
    "Head",
    "Row",
    "conversation_pages",
    "local_time",
    "segments_text",
]

PAGE_SIZE = 25
EN_DASH = "\u2013"  # between a job's start and end
# The tabs, in order: (state, tab label, what the state means).
STATES: tuple[tuple[str, str, str], ...] = (
    ("open", "Open", "the assistant answers"),
    ("human", "Human", "a person answers"),
    ("blocked", "Blocked", "the contact opted out"),
    ("closed", "Closed", "finished"),
)
_MEANING = {state: meaning for state, _, meaning in STATES}
AUTHORS = {
    Author.TEXT_BACK: "Text-back",
    Author.ASSISTANT: "Assistant",
    Author.PERSON: "Person",
    Author.COMPLIANCE: "Automatic notice",
}
STATUS_TEXT = {
    "held": "held (texting not approved yet)",
    "needs_review": "needs review",
    "canceled": "not sent (opted out)",
}
SUPPRESSED = {"billing_inactive": "not answered automatically: the plan is not active"}
STAGES = {
    Stage.NEW: "is waiting to hear what the job is",
    Stage.CLARIFYING: "asked what the job is",
    Stage.OFFERED: "offered times",
    Stage.BOOKED: "booked the job",
    Stage.HANDED_OFF: "handed the conversation to a person",
}
CALL_REASONS = {
    "no_answer": "no answer",
    "busy": "busy",
    "failed": "failed",
    "canceled": "hung up",
    "short_call": "too short",
}
NOT_FOUND = "There is no such conversation (or it belongs to another business)."
TRIGGER = "nmc-thread-changed"  # the send form tells the thread to poll at once

StateParam = Annotated[str | None, QueryParameter(name="state")]
TextParam = Annotated[str | None, QueryParameter()]


# --- what the pages show ---------------------------------------------------------------------


def local_time(moment: datetime, zone: ZoneInfo) -> tuple[str, str]:
    """A moment as `<time datetime>` wants it and as people read it ("Tue Dec 2, 9:05 AM")."""
    at = moment.astimezone(zone)
    return at.isoformat(timespec="seconds"), f"{at:%a %b} {at.day}, {_clock(at)}"


def _clock(at: datetime) -> str:
    return f"{at.hour % 12 or 12}:{at:%M} {'AM' if at.hour < 12 else 'PM'}"


def _span(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """A job's time: "Tue Dec 2, 9:00 AM - 10:30 AM" with an en dash (the end's day too when it
    differs)."""
    first, last = start.astimezone(zone), end.astimezone(zone)
    _, shown = local_time(first, zone)
    until = _clock(last) if first.date() == last.date() else local_time(last, zone)[1]
    return f"{shown} {EN_DASH} {until}"


def segments_text(body: str) -> str:
    """What the counter under the send box says: "1 segment", "2 segments (Unicode)"."""
    counted = count_segments(body)
    words = f"{counted.count} segment{'' if counted.count == 1 else 's'}"
    if counted.encoding != "GSM-7":
        words += " (Unicode: emoji or special characters make segments shorter)"
    return words


def _digest(*parts: object) -> str:
    return hashlib.blake2s(repr(parts).encode(), digest_size=8).hexdigest()


@attrs.frozen
class Row:
    """One conversation in the list."""

    id: UUID
    contact: str
    state: str
    meaning: str
    opened_by: str
    at_iso: str
    at: str


@attrs.frozen
class Listing:
    """One page of the list: its rows, the next page's cursor, and what the poll asks for."""

    state: str
    rows: tuple[Row, ...]
    cursor: str | None
    older: str | None
    limit: int

    @property
    def digest(self) -> str:
        return _digest(self.rows, self.older)

    def query(self, cursor: str | None) -> str:
        parts = [f"state={self.state}"]
        if cursor:
            parts.append(f"cursor={cursor}")
        if self.limit != PAGE_SIZE:
            parts.append(f"limit={self.limit}")
        return "&".join(parts)


def _row(conversation: Conversation, zone: ZoneInfo) -> Row:
    iso, shown = local_time(conversation.idle_since(), zone)
    state = conversation.status.value
    opened = "missed call" if conversation.opened_by is OpenedBy.CALL else "text"
    return Row(conversation.id, conversation.caller, state, _MEANING[state], opened, iso, shown)


@attrs.frozen
class Entry:
    """One line of the thread: a text either way, or a call."""

    kind: str  # "message" or "call"
    direction: str  # inbound, outbound; a call's outcome
    author: str
    body: str
    status: str  # the data-status: queued, sent, delivered, failed, received, ...
    status_text: str
    at_iso: str
    at: str
    segments: int = 0
    note: str | None = None
    media: tuple[str, ...] = ()


def _message(message: OutboundMessage | InboundMessage, zone: ZoneInfo) -> Entry:
    segments = count_segments(message.body).count
    if isinstance(message, InboundMessage):
        iso, shown = local_time(message.received_at, zone)
        note = None
        if message.suppressed_reason is not None:
            note = SUPPRESSED.get(message.suppressed_reason, message.suppressed_reason)
        return Entry(
            "message", "inbound", "Caller", message.body, "received", "received", iso, shown,
            segments, note, tuple(u for u in message.media_urls if u.startswith("https://")),
        )  # fmt: skip
    iso, shown = local_time(message.created_at, zone)
    status = message.status.value
    return Entry(
        "message", "outbound", AUTHORS[message.author], message.body, status,
        STATUS_TEXT.get(status, status), iso, shown, segments, message.error,
    )  # fmt: skip


def _call(call: CallRecord, zone: ZoneInfo) -> Entry:
    iso, shown = local_time(call.occurred_at, zone)
    if call.outcome is CallOutcome.MISSED:
        reason = CALL_REASONS.get(call.reason or "", call.reason or "")
        text = f"Missed call ({reason})" if reason else "Missed call"
    else:
        text = "Answered call"
    return Entry("call", call.outcome.value, "Caller", text, call.status, call.status, iso, shown)


def _timeline(view: ConversationView, zone: ZoneInfo) -> tuple[Entry, ...]:
    """Texts and calls in the order they happened (a call before the text-back it caused)."""
    timed: list[tuple[datetime, int, Entry]] = []
    for call in view.calls:
        timed.append((call.occurred_at, 0, _call(call, zone)))
    for message in view.messages:
        at = message.received_at if isinstance(message, InboundMessage) else message.created_at
        timed.append((at, 1, _message(message, zone)))
    timed.sort(key=lambda entry: (entry[0], entry[1]))
    return tuple(entry for _, _, entry in timed)


@attrs.frozen
class Hold:
    """An offered time (held while offered) or the appointment."""

    number: int | None
    when: str
    technician: str
    status: str
    detail: str


@attrs.frozen
class BookingPanel:
    """What the assistant did towards a booking: the job, the offers, the appointment."""

    stage: str
    item: str | None
    offers: tuple[Hold, ...]
    appointment: Hold | None


def _hold_status(booking: Booking | None, zone: ZoneInfo, now: datetime) -> tuple[str, str]:
    if booking is None:
        return "gone", "no longer held"
    if booking.status is BookingStatus.HELD:
        if booking.live(now) and booking.expires_at is not None:
            return "held", f"held until {_clock(booking.expires_at.astimezone(zone))}"
        return "expired", "hold expired"
    return booking.status.value, booking.status.value


async def _booking_panel(
    deps: Deps, viewer: Viewer, view: ConversationView, zone: ZoneInfo
) -> BookingPanel:
    memory = view.conversation.memory
    bookings = {booking.id: booking for booking in view.bookings}
    item_ids = {b.item_id for b in view.bookings}
    if memory.item_id is not None:
        item_ids.add(memory.item_id)
    items: dict[UUID, str] = {}
    for item_id in item_ids:
        try:
            items[item_id] = (await get_item(deps.new_uow(), viewer.principal, item_id)).name
        except NotFound:
            items[item_id] = "an item no longer in the catalog"
    technicians: dict[UUID, str] = {}
    if memory.offers or view.bookings:
        listed = await list_technicians(deps.new_uow(), viewer.principal, None, MAX_LIMIT)
        technicians = {t.id: t.name for t in listed.items}

    def who(technician_id: UUID) -> str:
        return technicians.get(technician_id, "a technician")

    now = datetime.now(UTC)
    offers = []
    for offer in memory.offers:
        status, detail = _hold_status(bookings.get(offer.hold_id), zone, now)
        when = _span(offer.start, offer.end, zone)
        offers.append(Hold(offer.number, when, who(offer.technician_id), status, detail))
    appointment = None
    booked = bookings.get(memory.appointment_id) if memory.appointment_id else None
    if booked is not None:
        price = None
        if booked.price_cents is not None and booked.currency is not None:
            price = money(booked.price_cents, booked.currency)
        detail = " · ".join(p for p in (items.get(booked.item_id), price) if p)
        when = _span(booked.start, booked.end, zone)
        appointment = Hold(None, when, who(booked.technician_id), booked.status.value, detail)
    item = items.get(memory.item_id) if memory.item_id is not None else None
    return BookingPanel(STAGES[memory.stage], item, tuple(offers), appointment)


@attrs.frozen
class Head:
    """The thread's heading: whose it is, its state, and the moves a person may make."""

    id: UUID
    contact: str
    state: str
    meaning: str
    opened: str
    opted_out: bool
    textable: bool

    @property
    def moves(self) -> tuple[tuple[str, str], ...]:
        """(path's last part, button) for each move the state allows."""
        if self.state == "open":
            return (("takeover", "Take over"), ("close", "Close"))
        if self.state == "human":
            return (("release", "Hand back"), ("close", "Close"))
        return ()

    @property
    def closed(self) -> bool:
        return self.state == ConversationStatus.CLOSED.value


@attrs.frozen
class Thread:
    head: Head
    entries: tuple[Entry, ...]
    booking: BookingPanel

    @property
    def digest(self) -> str:
        return _digest(self.head, self.entries, self.booking)


async def _zone(deps: Deps, viewer: Viewer) -> ZoneInfo:
    _, tenant = await me(deps.new_uow(), viewer.principal)
    return ZoneInfo(tenant.timezone)


async def _thread(deps: Deps, viewer: Viewer, conversation_id: UUID) -> Thread:
    """The thread as the page shows it (NotFound for another tenant's or no conversation)."""
    view = await show_conversation(deps.new_uow(), viewer.principal, conversation_id)
    zone = await _zone(deps, viewer)
    c = view.conversation
    _, opened = local_time(c.opened_at, zone)
    state = c.status.value
    head = Head(
        c.id, c.caller, state, _MEANING[state], opened, view.contact.opted_out,
        view.contact.textable,
    )  # fmt: skip
    booking = await _booking_panel(deps, viewer, view, zone)
    return Thread(head, _timeline(view, zone), booking)


# --- the list --------------------------------------------------------------------------------


class BadRequest(Exception):
    """A query the list cannot read (an unknown state, a cursor it did not make)."""


def _limit(raw: str | None) -> int:
    """The page size asked for (the domain checks its range)."""
    if raw is None:
        return PAGE_SIZE
    try:
        return int(raw)
    except ValueError:
        raise BadRequest("the page size must be a number") from None


async def _listing(
    deps: Deps, viewer: Viewer, state: str | None, cursor: str | None, limit: str | None
) -> Listing:
    wanted = state or "open"
    if wanted not in _MEANING:
        raise BadRequest(f"there is no tab named {wanted}: open, human, blocked or closed")
    size = _limit(limit)
    try:
        after: PageKey | None = decode_cursor(cursor)
        found = await list_conversations(
            deps.new_uow(), viewer.principal, ConversationStatus(wanted), after, size
        )
    except InvalidInput as exc:
        raise BadRequest(f"this page link does not work ({exc.field} {exc.reason})") from None
    zone = await _zone(deps, viewer)
    rows = tuple(_row(c, zone) for c in found.items)
    return Listing(wanted, rows, cursor or None, encode_cursor(found.next_after), size)


async def _problem(deps: Deps, viewer: Viewer, status: int, title: str, reason: str) -> Template:
    return await page(
        deps, viewer, "conversations_error.html", title=title, reason=reason, status_code=status
    )


@get("/conversations", media_type=MediaType.HTML)
async def conversations(
    deps: Deps,
    viewer: Viewing,
    wanted: StateParam = None,
    cursor: TextParam = None,
    limit: TextParam = None,
) -> Template:
    """The list of one state's conversations, latest activity first."""
    try:
        listing = await _listing(deps, viewer, wanted, cursor, limit)
    except BadRequest as exc:
        return await _problem(deps, viewer, 400, "This list does not exist", str(exc))
    return await page(deps, viewer, "conversations.html", listing=listing, states=STATES)


@get("/conversations/list", media_type=MediaType.HTML)
async def conversation_list(
    deps: Deps,
    viewer: Viewing,
    wanted: StateParam = None,
    cursor: TextParam = None,
    limit: TextParam = None,
    seen: TextParam = None,
) -> Response[Any]:
    """The list alone, for the page's polling (204 when it has not changed)."""
    try:
        listing = await _listing(deps, viewer, wanted, cursor, limit)
    except BadRequest as exc:
        return Response(escape(str(exc)), status_code=400, media_type=MediaType.HTML)
    if seen == listing.digest:
        return Response(b"", status_code=204)
    return Template("_conversation_list.html", context={"listing": listing})


# --- one thread ------------------------------------------------------------------------------


def _path(conversation_id: UUID) -> str:
    return f"/app/conversations/{conversation_id}"


async def _thread_page(
    deps: Deps,
    viewer: Viewer,
    conversation_id: UUID,
    *,
    status_code: int = 200,
    action_error: str | None = None,
    body: str = "",
    body_error: str | None = None,
) -> Template:
    try:
        thread = await _thread(deps, viewer, conversation_id)
    except NotFound:
        return await _problem(deps, viewer, 404, "Conversation not found", NOT_FOUND)
    return await page(
        deps,
        viewer,
        "conversations_thread.html",
        thread=thread,
        action_error=action_error,
        compose=Compose(thread.head, body, body_error),
        status_code=status_code,
    )


@attrs.frozen
class Compose:
    """The send box: what is typed, its segment count, and why it was refused."""

    head: Head
    body: str = ""
    error: str | None = None
    sent: bool = False

    @property
    def segments(self) -> str:
        return segments_text(self.body)


@get("/conversations/{conversation_id:uuid}", media_type=MediaType.HTML)
async def conversation(deps: Deps, viewer: Viewing, conversation_id: FromPath[UUID]) -> Template:
    """One conversation: texts and calls, the booking, the buttons and the send box."""
    return await _thread_page(deps, viewer, conversation_id)


@get("/conversations/{conversation_id:uuid}/live", media_type=MediaType.HTML)
async def conversation_live(
    deps: Deps, viewer: Viewing, conversation_id: FromPath[UUID], seen: TextParam = None
) -> Response[Any]:
    """The thread's live part for the page's polling: `#messages`, and the heading and
    `#booking` out of band (204 when nothing changed)."""
    try:
        thread = await _thread(deps, viewer, conversation_id)
    except NotFound:
        return Response(escape(NOT_FOUND), status_code=404, media_type=MediaType.HTML)
    if seen == thread.digest:
        return Response(b"", status_code=204)
    return Template("_conversation_live.html", context={"thread": thread})


async def _move(
    deps: Deps, viewer: Viewer, conversation_id: UUID, verb: str, action: Any
) -> Response[Any]:
    try:
        await action(deps.new_uow(), viewer.principal, conversation_id)
    except NotFound:
        return await _problem(deps, viewer, 404, "Conversation not found", NOT_FOUND)
    except Conflict as exc:
        error = f"Could not {verb}: {exc.reason}."
        return await _thread_page(
            deps, viewer, conversation_id, status_code=409, action_error=error
        )
    return Redirect(_path(conversation_id), status_code=303)


@post("/conversations/{conversation_id:uuid}/takeover", media_type=MediaType.HTML, status_code=303)
async def take_over(deps: Deps, viewer: Viewing, conversation_id: FromPath[UUID]) -> Response[Any]:
    """A person answers from now on: the assistant is silent at once."""
    return await _move(deps, viewer, conversation_id, "take over", take_over_conversation)


@post("/conversations/{conversation_id:uuid}/release", media_type=MediaType.HTML, status_code=303)
async def hand_back(deps: Deps, viewer: Viewing, conversation_id: FromPath[UUID]) -> Response[Any]:
    """Back to the assistant (it asks about the job afresh)."""
    return await _move(deps, viewer, conversation_id, "hand back", release_conversation)


@post("/conversations/{conversation_id:uuid}/close", media_type=MediaType.HTML, status_code=303)
async def close(deps: Deps, viewer: Viewing, conversation_id: FromPath[UUID]) -> Response[Any]:
    """Closed: the next call or text opens a new conversation."""
    return await _move(deps, viewer, conversation_id, "close", close_conversation)


def _refusal(exc: Exception) -> tuple[int, str]:
    """A refused text's status and the reason next to the box."""
    if isinstance(exc, InvalidInput):
        return 422, f"The message {exc.reason}."
    if isinstance(exc, PermissionDenied):
        return 403, f"Not sent: {exc.reason}."
    assert isinstance(exc, Conflict)
    return 409, f"Not sent: {exc.reason}."


@post("/conversations/{conversation_id:uuid}/messages", media_type=MediaType.HTML, status_code=303)
async def send(
    request: AnyRequest, deps: Deps, viewer: Viewing, conversation_id: FromPath[UUID]
) -> Response[Any]:
    """A person's text to the contact, queued for the worker. From htmx: the send box again
    (empty once sent, or with the text and the reason); from a plain form: 303 to the thread,
    or the page with the reason."""
    form = await request.form()
    body = str(form.get("body") or "")
    htmx = bool(request.headers.get("hx-request"))
    try:
        await send_person_text(deps.new_uow(), viewer.principal, conversation_id, body)
    except NotFound:
        if htmx:
            return Response(escape(NOT_FOUND), status_code=404, media_type=MediaType.HTML)
        return await _problem(deps, viewer, 404, "Conversation not found", NOT_FOUND)
    except (InvalidInput, PermissionDenied, Conflict) as exc:
        status, reason = _refusal(exc)
        if not htmx:
            return await _thread_page(
                deps, viewer, conversation_id, status_code=status, body=body, body_error=reason
            )
        try:
            thread = await _thread(deps, viewer, conversation_id)
        except NotFound:
            return Response(escape(NOT_FOUND), status_code=404, media_type=MediaType.HTML)
        compose = Compose(thread.head, body, reason)
        return _compose_fragment(deps, viewer, compose)
    if not htmx:
        return Redirect(_path(conversation_id), status_code=303)
    thread = await _thread(deps, viewer, conversation_id)
    return _compose_fragment(deps, viewer, Compose(thread.head, sent=True), trigger=True)


def _compose_fragment(
    deps: Deps, viewer: Viewer, compose: Compose, *, trigger: bool = False
) -> Template:
    """The send box alone (a person acted: their session's idle clock starts over)."""
    return Template(
        "_conversation_compose.html",
        context={"compose": compose, "swapped": True},
        headers={"HX-Trigger": TRIGGER} if trigger else None,
        cookies=[session_cookie(web_config(deps), viewer.principal)],
    )


@post("/segments", media_type=MediaType.HTML, status_code=200)
async def segments(request: AnyRequest, viewer: Viewing) -> Response[str]:
    """How many segments the text in `body` takes, in words (the send box's counter)."""
    form = await request.form()
    return Response(escape(segments_text(str(form.get("body") or ""))), media_type=MediaType.HTML)


conversation_pages = [
    conversations,
    conversation_list,
    conversation,
    conversation_live,
    take_over,
    hand_back,
    close,
    send,
    segments,
]
