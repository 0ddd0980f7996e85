"""JSON shapes of the conversation routes, the opt-out ledger, and the settings page."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from msgspec import UNSET, Meta, UnsetType

from nmc_api.v1.fields import LINES
from nmc_api.v1.scheduling_schemas import (
    Buffer,
    DailyLimit,
    Granularity,
    HoldTtl,
    Horizon,
    Notice,
    local,
)
from nmc_domain.compliance.contacts import LedgerEntry
from nmc_domain.conversation.model import Conversation
from nmc_domain.conversation.tenant_settings import TenantSettings
from nmc_domain.messaging.model import InboundMessage, OutboundMessage
from nmc_domain.messaging.segments import count_segments
from nmc_domain.scheduling.booking import Booking
from nmc_domain.telephony.views import ConversationView

__all__ = [
    "ConversationDetail",
    "ConversationList",
    "ConversationOut",
    "MessageOut",
    "OptOutList",
    "PersonTextIn",
    "SettingsOut",
    "SettingsPatch",
    "State",
]

State = Literal["open", "human", "blocked", "closed"]
Body = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=1530,
        pattern=LINES + r"\Z",
        extra_json_schema={"pattern": LINES + "$"},
        description="The text (at most 10 segments); tabs and line breaks are fine",
    ),
]
Line = Annotated[
    str, Meta(min_length=1, max_length=100, pattern=r"^[^\x00-\x1F\x7F]*\Z",
              extra_json_schema={"pattern": "^[^\\x00-\\x1F\\x7F]*$"})
]  # fmt: skip
Template = Annotated[
    str, Meta(min_length=1, max_length=1600, pattern=LINES + r"\Z",
              extra_json_schema={"pattern": LINES + "$"})
]  # fmt: skip
IdleHours = Annotated[int, Meta(ge=1, le=720, description="Hours of silence that close one")]


class ConversationOut(msgspec.Struct):
    id: UUID
    contact: str
    state: str
    opened_by: str
    opened_at: datetime
    last_activity_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(cls, conversation: Conversation, zone: ZoneInfo) -> ConversationOut:
        closed = None if conversation.closed_at is None else local(conversation.closed_at, zone)
        return cls(
            conversation.id,
            conversation.caller,
            conversation.status.value,
            conversation.opened_by.value,
            local(conversation.opened_at, zone),
            local(conversation.idle_since(), zone),
            closed,
        )


class ConversationList(msgspec.Struct):
    items: list[ConversationOut]
    next_cursor: str | None


class MessageOut(msgspec.Struct):
    id: UUID
    direction: str
    author: str
    body: str
    status: str
    segments: int
    at: datetime
    error: str | None
    media_urls: list[str]
    # An inbound text nobody automated answered, and why ("billing_inactive").
    suppressed_reason: str | None = None

    @classmethod
    def of(cls, message: OutboundMessage | InboundMessage, zone: ZoneInfo) -> MessageOut:
        segments = count_segments(message.body).count
        if isinstance(message, InboundMessage):
            return cls(
                message.id, "inbound", "contact", message.body, "received", segments,
                local(message.received_at, zone), None, list(message.media_urls),
                message.suppressed_reason,
            )  # fmt: skip
        return cls(
            message.id, "outbound", message.author.value, message.body, message.status.value,
            segments, local(message.created_at, zone), message.error, [],
        )  # fmt: skip


class CallOut(msgspec.Struct):
    id: UUID
    status: str
    outcome: str
    reason: str | None
    at: datetime


class ContactOut(msgspec.Struct):
    phone: str
    opted_out: bool
    textable: bool
    not_textable_reason: str | None


class BookingOut(msgspec.Struct):
    id: UUID
    status: str
    technician_id: UUID
    item_id: UUID
    start: datetime
    end: datetime
    expires_at: datetime | None
    price_cents: int | None
    currency: str | None

    @classmethod
    def of(cls, booking: Booking, zone: ZoneInfo) -> BookingOut:
        expires = None if booking.expires_at is None else local(booking.expires_at, zone)
        return cls(
            booking.id, booking.status.value, booking.technician_id, booking.item_id,
            local(booking.start, zone), local(booking.end, zone), expires,
            booking.price_cents, booking.currency,
        )  # fmt: skip


class ConversationDetail(msgspec.Struct):
    conversation: ConversationOut
    contact: ContactOut
    messages: list[MessageOut]
    calls: list[CallOut]
    # Holds of the offers still open, and the appointment once booked.
    bookings: list[BookingOut]

    @classmethod
    def of(cls, view: ConversationView, zone: ZoneInfo) -> ConversationDetail:
        contact = view.contact
        return cls(
            ConversationOut.of(view.conversation, zone),
            ContactOut(
                contact.phone, contact.opted_out, contact.textable, contact.not_textable_reason
            ),
            [MessageOut.of(m, zone) for m in view.messages],
            [
                CallOut(c.id, c.status, c.outcome.value, c.reason, local(c.occurred_at, zone))
                for c in view.calls
            ],
            [BookingOut.of(b, zone) for b in view.bookings],
        )


class PersonTextIn(msgspec.Struct, forbid_unknown_fields=True):
    body: Body


class OptOutOut(msgspec.Struct):
    id: UUID
    phone: str
    action: str
    source: str
    text: str
    message_id: UUID | None
    at: datetime

    @classmethod
    def of(cls, entry: LedgerEntry) -> OptOutOut:
        return cls(
            entry.id, entry.phone, entry.action.value, entry.source.value, entry.text,
            entry.message_id, entry.occurred_at,
        )  # fmt: skip


class OptOutList(msgspec.Struct):
    items: list[OptOutOut]
    next_cursor: str | None


class SettingsOut(msgspec.Struct):
    slot_granularity_minutes: int
    buffer_minutes: int
    min_notice_minutes: int
    horizon_days: int
    hold_ttl_minutes: int
    daily_limit_per_technician: int | None
    conversation_idle_hours: int
    help_contact: str | None
    assistant_disclosure: str | None
    text_back_template: str
    after_hours_template: str

    @classmethod
    def of(cls, settings: TenantSettings) -> SettingsOut:
        s, c, t = settings.scheduling, settings.conversation, settings.tenant
        return cls(
            s.slot_granularity_minutes, s.buffer_minutes, s.min_notice_minutes, s.horizon_days,
            s.hold_ttl_minutes, s.daily_limit_per_technician, c.conversation_idle_hours,
            c.help_contact, c.assistant_disclosure, t.text_back_template.text,
            t.after_hours_template.text,
        )  # fmt: skip


class SettingsPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields given change; null: no daily limit, the default HELP line, disclosure
    or template."""

    slot_granularity_minutes: Granularity | UnsetType = UNSET
    buffer_minutes: Buffer | UnsetType = UNSET
    min_notice_minutes: Notice | UnsetType = UNSET
    horizon_days: Horizon | UnsetType = UNSET
    hold_ttl_minutes: HoldTtl | UnsetType = UNSET
    daily_limit_per_technician: DailyLimit | UnsetType | None = UNSET
    conversation_idle_hours: IdleHours | UnsetType = UNSET
    help_contact: Line | UnsetType | None = UNSET
    assistant_disclosure: Line | UnsetType | None = UNSET
    text_back_template: Template | UnsetType | None = UNSET
    after_hours_template: Template | UnsetType | None = UNSET

    def changes(self) -> dict[str, object]:
        return {
            field: value
            for field in self.__struct_fields__
            if (value := getattr(self, field)) is not UNSET
        }
