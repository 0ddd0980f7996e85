"""Outbox handlers: which use case runs for which event."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import structlog

from nmc_domain.billing.events import SubscriptionChanged, SubscriptionSyncRequested
from nmc_domain.billing.ports import PaymentGateway
from nmc_domain.billing.use_cases import sync_subscription
from nmc_domain.catalog.events import CatalogUpdated
from nmc_domain.compliance.events import ComplianceStatusChanged, RegistrationSubmitted
from nmc_domain.conversation.events import ConversationIdleCheck, HandoffRequested
from nmc_domain.conversation.lifecycle import check_idle
from nmc_domain.messaging.dispatch import (
    SMS_RETRY,
    SentObserver,
    dispatch_message,
    give_up,
    release_held_messages,
)
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.messaging.ports import SmsSender
from nmc_domain.reporting.use_cases import recompute_booking_day
from nmc_domain.scheduling.events import (
    AppointmentCanceled,
    AppointmentHeld,
)
from nmc_domain.scheduling.google_ports import GoogleCalendarApi
from nmc_domain.scheduling.jobber_connect import JobberSetup
from nmc_domain.shared.events import DomainEvent
from nmc_domain.shared.retry import RetryPolicies
from nmc_domain.shared.secrets import Sealer
from nmc_domain.unit_of_work import UnitOfWorkFactory
from nmc_worker.dispatcher import DeadLetterHandler, Handler
from nmc_worker.google_calendar import DriftObserver, google_handlers, mirror_handler
from nmc_worker.jobber import jobber_handlers

__all__ = ["build_dead_letter_handlers", "build_handlers", "retry_policies"]

log = structlog.get_logger("nmc.worker")


def _ignore(_: str) -> None:
    return None


def _ignore_drift(provider: str, rows: int, warning: bool) -> None:
    return None


def build_handlers(
    new_uow: UnitOfWorkFactory,
    sender: SmsSender,
    *,
    sms_outcome: Callable[[str], None] = _ignore,
    sent: SentObserver | None = None,
    payments: PaymentGateway | None = None,
    google: GoogleCalendarApi | None = None,
    sealer: Sealer | None = None,
    calendar_drift: DriftObserver = _ignore_drift,
    jobber: JobberSetup | None = None,
) -> dict[type[DomainEvent], Handler]:
    """The handler table the dispatcher runs; `sms_outcome` hears each send's outcome and
    `sent` each message the provider took (metrics); `payments` is Stripe, when configured;
    `google` and `sealer` are Google Calendar's, when configured (`calendar_drift` hears each
    unannounced sync's drift); `jobber` is Jobber's API and sealer, when configured."""

    async def send_message(event: DomainEvent) -> None:
        assert isinstance(event, MessageQueued)
        outcome = await dispatch_message(new_uow, sender, event, sent=sent)
        sms_outcome(outcome.value)
        log.info(
            "sms.dispatch",
            tenant_id=str(event.tenant_id),
            message_id=str(event.message_id),
            outcome=outcome.value,
        )

    async def compliance_changed(event: DomainEvent) -> None:
        assert isinstance(event, ComplianceStatusChanged)
        released = 0
        if event.status == "approved":
            released = await release_held_messages(new_uow(), event.tenant_id)
        log.info(
            "compliance.changed",
            tenant_id=str(event.tenant_id),
            status=event.status,
            released=released,
        )

    async def idle_check(event: DomainEvent) -> None:
        assert isinstance(event, ConversationIdleCheck)
        outcome = await check_idle(new_uow(), event)
        log.info(
            "conversation.idle_check",
            tenant_id=str(event.tenant_id),
            conversation_id=str(event.conversation_id),
            outcome=outcome.value,
        )

    async def handoff(event: DomainEvent) -> None:
        # The owner's inbox will show it; until then the log line is the signal.
        assert isinstance(event, HandoffRequested)
        log.warning(
            "conversation.handoff_requested",
            tenant_id=str(event.tenant_id),
            conversation_id=str(event.conversation_id),
            reason=event.reason,
        )

    async def acknowledged(event: DomainEvent) -> None:
        # Nothing reacts to these yet (matching reads the catalog live; reports and calendars
        # will read the appointments; a registry client will send the submissions on); they
        # are acknowledged so they are not dead-lettered, and are there for the features that
        # will.
        log.info("event.acknowledged", topic=type(event).__name__, tenant_id=str(event.tenant_id))

    async def subscription_sync(event: DomainEvent) -> None:
        assert isinstance(event, SubscriptionSyncRequested)
        if payments is None:
            # The API took a Stripe event but this worker has no Stripe settings: say so; the
            # row is kept dead for `nmc replay` once the settings are fixed.
            raise RuntimeError("Stripe is not configured on this worker (NMC_STRIPE_*)")
        mirror = await sync_subscription(
            new_uow(),
            payments,
            event.tenant_id,
            subscription_id=event.subscription_id,
            customer_id=event.customer_id,
        )
        log.info(
            "billing.synced",
            tenant_id=str(event.tenant_id),
            stripe_event_id=event.stripe_event_id,
            status=None if mirror is None or mirror.status is None else mirror.status.value,
        )

    async def subscription_changed(event: DomainEvent) -> None:
        assert isinstance(event, SubscriptionChanged)
        log.info(
            "billing.subscription_changed",
            tenant_id=str(event.tenant_id),
            previous=event.previous_status,
            status=event.status,
        )

    mirror = mirror_handler(new_uow, google, sealer)

    async def appointment_canceled(event: DomainEvent) -> None:
        # Its booking day's bookings and recovered revenue change, however long ago it was;
        # the technician's Google Calendar loses the event.
        assert isinstance(event, AppointmentCanceled)
        await mirror(event)
        rows = await recompute_booking_day(new_uow, event.tenant_id, event.appointment_id)
        log.info(
            "reports.booking_day_recomputed",
            tenant_id=str(event.tenant_id),
            appointment_id=str(event.appointment_id),
            rows=len(rows),
        )

    return {
        SubscriptionSyncRequested: subscription_sync,
        SubscriptionChanged: subscription_changed,
        MessageQueued: send_message,
        ComplianceStatusChanged: compliance_changed,
        RegistrationSubmitted: acknowledged,
        CatalogUpdated: acknowledged,
        AppointmentHeld: acknowledged,
        HandoffRequested: handoff,
        ConversationIdleCheck: idle_check,
        # Booked and rescheduled appointments go to the technician's Google Calendar.
        **google_handlers(new_uow, google, sealer, drift=calendar_drift),
        AppointmentCanceled: appointment_canceled,
        **jobber_handlers(new_uow, jobber),
    }


def build_dead_letter_handlers(
    new_uow: UnitOfWorkFactory,
) -> dict[type[DomainEvent], DeadLetterHandler]:
    """What to do when the outbox gives up on an event (besides keeping the row)."""

    async def message_given_up(event: DomainEvent, error: str) -> None:
        assert isinstance(event, MessageQueued)
        await give_up(new_uow, event, error)

    return {MessageQueued: message_given_up}


def retry_policies(
    *, base_seconds: float | None = None, cap_seconds: float | None = None
) -> RetryPolicies:
    """Each topic's retry budget: texts follow SMS_RETRY (6 hours), the rest the same backoff
    for a day. `base_seconds`/`cap_seconds` change the backoff of both (tests, benchmarks)."""
    sms = attrs.evolve(
        SMS_RETRY,
        base_seconds=SMS_RETRY.base_seconds if base_seconds is None else base_seconds,
        cap_seconds=SMS_RETRY.cap_seconds if cap_seconds is None else cap_seconds,
    )
    default = attrs.evolve(sms, give_up_seconds=24 * 3600.0)
    return RetryPolicies(default=default, by_event={MessageQueued: sms})
