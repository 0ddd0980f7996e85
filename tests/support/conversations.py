"""A shop on the in-memory fakes for conversation tests: a tenant with a catalog item, a
technician and weekday hours, and the moves a caller, a person and the worker make."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

from nmc_adapters.memory import FakeSmsSender, InMemoryStore, InMemoryUnitOfWork
from nmc_domain.billing.model import BillingTerms
from nmc_domain.catalog.model import ServiceItem
from nmc_domain.catalog.use_cases import NewItem, create_item
from nmc_domain.compliance.contacts import Contact, LedgerEntry
from nmc_domain.conversation.assistant import Assistant, RuleBasedAssistant
from nmc_domain.conversation.events import ConversationIdleCheck
from nmc_domain.conversation.inbound import InboundResult, InboundText, receive_text
from nmc_domain.conversation.lifecycle import check_idle
from nmc_domain.conversation.model import Conversation, ConversationStatus
from nmc_domain.conversation.tenant_settings import change_tenant_settings
from nmc_domain.identity.model import Principal
from nmc_domain.messaging.dispatch import dispatch_message
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.messaging.model import InboundMessage, OutboundMessage
from nmc_domain.scheduling.booking import Booking, BookingStatus
from nmc_domain.scheduling.external_busy import CalendarCheck
from nmc_domain.scheduling.setup import add_technician, set_business_hours
from nmc_domain.shared.events import DomainEvent
from nmc_domain.telephony.missed_call import CallStatusReport, ReportResult, report_call_status
from nmc_domain.tenancy.model import Tenant
from tests.support.tenants import onboard

__all__ = ["OWNER_EMAIL", "WEEKDAYS", "Shop", "open_shop"]

OWNER_EMAIL = "owner@acme-plumbing.example"  # tests.support.tenants.onboard's owner
WEEKDAYS = tuple((day, "08:00", "17:00") for day in ("mon", "tue", "wed", "thu", "fri"))


def new_sid(prefix: str = "SM") -> str:
    return prefix + uuid.uuid4().hex


class Shop:
    """One tenant on an in-memory store, with a fake SMS provider on the store's clock."""

    def __init__(
        self,
        store: InMemoryStore,
        tenant: Tenant,
        number: str,
        billing_terms: BillingTerms | None = None,
    ) -> None:
        self.store = store
        # Not enforced unless asked (no Stripe, as in `nmc dev`): every tenant is entitled.
        self.billing_terms = billing_terms or BillingTerms()
        self.tenant = tenant
        self.number = number
        self.owner = Principal(OWNER_EMAIL, tenant.id)
        self.sender = FakeSmsSender(clock=lambda: store.now)
        self.assistant: Assistant = RuleBasedAssistant()
        self.items: list[ServiceItem] = []
        # Re-checks offers against technicians' Google Calendars (None: nothing does).
        self.calendars: CalendarCheck | None = None

    def new_uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store, billing_terms=self.billing_terms)

    # --- what the outside world does ---------------------------------------------------

    async def call(self, caller: str, status: str = "no-answer") -> ReportResult:
        """A call from `caller` that ended with this status (Twilio's CallStatus)."""
        report = CallStatusReport(new_sid("CA"), self.number, caller, status, 0)
        return await report_call_status(self.new_uow(), report)

    async def text(
        self, caller: str, body: str, *, sid: str | None = None, media: Sequence[str] = ()
    ) -> InboundResult:
        """A text from `caller` to the shop's number (a fresh MessageSid unless given)."""
        text = InboundText(sid or new_sid(), caller, self.number, body, tuple(media))
        return await receive_text(self.new_uow(), self.assistant, text, calendars=self.calendars)

    async def settings(self, **changes: object) -> None:
        await change_tenant_settings(self.new_uow(), self.owner, **changes)

    async def run_worker(self, *, messages: bool = True, idle: bool = True) -> Counter[str]:
        """Run the due outbox rows the worker would (sends, idle checks) until none is due;
        other topics are marked done. Returns the outcomes by name."""
        outcomes: Counter[str] = Counter()
        while True:
            due = [
                row
                for row in sorted(self.store.outbox_rows, key=lambda row: row.id)
                if row.is_due(self.store.now)
                and (messages or row.topic != "message.queued.v1")
                and (idle or row.topic != "conversation.idle_check.v1")
            ]
            if not due:
                return outcomes
            for row in due:
                event = row.event
                if isinstance(event, MessageQueued):
                    outcome = await dispatch_message(self.new_uow, self.sender, event)
                    outcomes[f"message {outcome.value}"] += 1
                elif isinstance(event, ConversationIdleCheck):
                    outcomes[f"idle {(await check_idle(self.new_uow(), event)).value}"] += 1
                row.dispatched_at = self.store.now

    # --- what the store holds ----------------------------------------------------------

    def outbound(self, caller: str | None = None) -> list[OutboundMessage]:
        """Outbound messages (to `caller`), oldest first: the store keeps insertion order."""
        return [
            m
            for m in self.store.messages.values()
            if m.tenant_id == self.tenant.id and (caller is None or m.to == caller)
        ]

    def bodies(self, caller: str) -> list[str]:
        return [m.body for m in self.outbound(caller)]

    def inbound(self, caller: str) -> list[InboundMessage]:
        return [
            m
            for m in self.store.inbound_messages.values()
            if m.tenant_id == self.tenant.id and m.from_ == caller
        ]

    def conversations(self, caller: str) -> list[Conversation]:
        """The caller's conversations, oldest first."""
        found = [
            c
            for c in self.store.conversations.values()
            if c.tenant_id == self.tenant.id and c.caller == caller
        ]
        return sorted(found, key=lambda c: (c.opened_at, str(c.id)))

    def conversation(self, caller: str) -> Conversation:
        """The caller's conversation that is not closed (exactly one)."""
        [live] = [
            c for c in self.conversations(caller) if c.status is not ConversationStatus.CLOSED
        ]
        return live

    def bookings(self, status: BookingStatus | None = None) -> list[Booking]:
        return [
            b
            for b in self.store.bookings.values()
            if b.tenant_id == self.tenant.id and (status is None or b.status is status)
        ]

    def contact(self, caller: str) -> Contact:
        return self.store.contacts.get((self.tenant.id, caller), Contact(self.tenant.id, caller))

    def ledger(self, caller: str) -> list[LedgerEntry]:
        entries = [
            e
            for e in self.store.opt_outs.values()
            if (e.tenant_id, e.phone) == (self.tenant.id, caller)
        ]
        return sorted(entries, key=lambda e: e.occurred_at)

    def events(self, kind: type[DomainEvent]) -> list[Any]:
        return [e for e in self.store.outbox_events() if isinstance(e, kind)]

    def sent_to(self, caller: str) -> list[str]:
        """Bodies the fake provider holds for `caller`."""
        return [sms.body for sms in self.sender.messages_to(caller)]


async def open_shop(
    *,
    name: str = "ACME-PLUMBING",
    approved: bool = True,
    item: str = "Water heater flush",
    aliases: tuple[str, ...] = ("water heater",),
    price_cents: int = 18_900,
    hours: Sequence[tuple[str, str, str]] = WEEKDAYS,
    store: InMemoryStore | None = None,
    billing_terms: BillingTerms | None = None,
) -> Shop:
    """A shop open Mon-Fri 8-17 Chicago with one item and one technician who does it all.

    The store's clock starts on Monday Jan 6 2025, 9:00 Chicago (tests.support: DEFAULT_START).
    """
    store = store or InMemoryStore()
    tenant, number = await onboard(lambda: InMemoryUnitOfWork(store), name=name, approved=approved)
    shop = Shop(store, tenant, number, billing_terms)
    shop.items.append(
        await create_item(
            shop.new_uow(), shop.owner, NewItem(item, price_cents, 90, aliases=aliases)
        )
    )
    await add_technician(shop.new_uow(), shop.owner, name="Dana Reyes")
    if hours:
        await set_business_hours(shop.new_uow(), shop.owner, list(hours))
    return shop
