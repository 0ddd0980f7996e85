"""dispatch_message on the in-memory fakes: every branch, and exactly one SMS whatever happens."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import attrs
import pytest

from nmc_adapters.memory import FakeSmsSender, InMemoryStore, InMemoryUnitOfWork
from nmc_domain.compliance.gate import approve_compliance, reject_compliance
from nmc_domain.messaging.dispatch import (
    SMS_RETRY,
    DispatchOutcome,
    Requeued,
    SentObserver,
    dispatch_message,
    give_up,
    release_held_messages,
    requeue_message,
)
from nmc_domain.messaging.errors import SmsNotSent, SmsOutcomeUnknown, SmsRejected
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.messaging.model import MessageStatus, OutboundMessage
from nmc_domain.messaging.ports import OutgoingSms, SmsReceipt
from nmc_domain.shared.errors import NeedsReview
from nmc_domain.shared.retry import RetryPolicy
from nmc_domain.unit_of_work import UnitOfWorkFactory
from tests.support.tenants import caller_number, onboard

OTHER_WORKERS_SID = "SM" + "f" * 32
BODY = "ACME-PLUMBING here: sorry we missed your call! Reply to book a visit."


class World:
    """A store, its units of work and a fake provider stamping sends with the store's clock."""

    def __init__(self) -> None:
        self.store = InMemoryStore()
        self.sender = FakeSmsSender(clock=lambda: self.store.now)

    def new_uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store)

    @property
    def factory(self) -> UnitOfWorkFactory:
        return self.new_uow

    async def queued(self, *, approved: bool = True, **changes: object) -> MessageQueued:
        """A tenant and one stored message of it (queued unless `changes` say otherwise)."""
        tenant, number = await onboard(self.factory, approved=approved)
        message = OutboundMessage.queue(
            tenant_id=tenant.id,
            conversation_id=None,
            to=caller_number(),
            from_=number,
            body=BODY,
            now=self.store.now,
        )
        async with self.new_uow() as uow:
            await uow.messages.add(attrs.evolve(message, **changes))
            await uow.commit()
        return MessageQueued(tenant.id, message.id)

    async def sibling(self, event: MessageQueued, **changes: object) -> MessageQueued:
        """Another message of the same tenant with the same sender, recipient and text."""
        original = self.message(event)
        message = OutboundMessage.queue(
            tenant_id=original.tenant_id,
            conversation_id=None,
            to=original.to,
            from_=original.from_,
            body=original.body,
            now=self.store.now,
        )
        async with self.new_uow() as uow:
            await uow.messages.add(attrs.evolve(message, **changes))
            await uow.commit()
        return MessageQueued(original.tenant_id, message.id)

    def message(self, event: MessageQueued) -> OutboundMessage:
        return self.store.messages[event.tenant_id, event.message_id]  # type: ignore[no-any-return]

    async def dispatch(
        self, event: MessageQueued, *, sent: SentObserver | None = None
    ) -> DispatchOutcome:
        return await dispatch_message(self.factory, self.sender, event, sent=sent)

    async def attempt_lost(self, event: MessageQueued) -> None:
        """A send whose answer never came, and which the provider did not keep."""
        self.sender.fail_next(SmsOutcomeUnknown("read timeout"))
        with pytest.raises(SmsOutcomeUnknown):
            await self.dispatch(event)

    async def attempt_kept(self, event: MessageQueued) -> None:
        """A send whose answer never came, though the provider kept the message."""
        self.sender.hang_next()
        with pytest.raises(SmsOutcomeUnknown):
            await self.dispatch(event)


@pytest.fixture
def world() -> World:
    return World()


async def test_a_queued_message_is_sent_once_and_its_receipt_kept(world: World) -> None:
    event = await world.queued()

    assert await world.dispatch(event) is DispatchOutcome.SENT

    [kept] = world.sender.sent
    message = world.message(event)
    assert (kept.sms.to, kept.sms.from_, kept.sms.body) == (message.to, message.from_, BODY)
    assert kept.sms.reference == event.message_id
    assert (message.provider_sid, message.status) == (kept.receipt.provider_sid, "queued")
    assert message.send_attempted_at == world.store.now
    assert world.sender.lookups == []  # a first attempt has nothing to reconcile
    # The outbox delivers at least once: the second delivery sends nothing.
    assert await world.dispatch(event) is DispatchOutcome.ALREADY_DONE
    assert len(world.sender.sent) == 1


async def test_a_rejection_fails_the_message_for_good(world: World) -> None:
    event = await world.queued()
    world.sender.fail_next(SmsRejected("21211", "invalid 'To' phone number"))

    assert await world.dispatch(event) is DispatchOutcome.REJECTED  # returned, not raised

    message = world.message(event)
    assert message.status is MessageStatus.FAILED
    assert message.error == "provider rejected the message (21211): invalid 'To' phone number"
    assert message.provider_sid is None
    assert await world.dispatch(event) is DispatchOutcome.ALREADY_DONE  # no retry
    assert world.sender.sent == []
    assert world.sender.lookups == []


async def test_a_message_that_is_not_there_is_missing(world: World) -> None:
    event = await world.queued()
    ghost = MessageQueued(event.tenant_id, uuid.uuid4())

    assert await world.dispatch(ghost) is DispatchOutcome.MISSING

    assert world.sender.sent == []
    assert world.message(event).status is MessageStatus.QUEUED


@pytest.mark.parametrize(
    "changes",
    [
        {"provider_sid": "SM" + "0" * 32},
        *(
            {"status": MessageStatus(status)}
            for status in (
                "sending",
                "sent",
                "delivered",
                "undelivered",
                "failed",
                "needs_review",
            )
        ),
    ],
    ids=["provider-sid", "sending", "sent", "delivered", "undelivered", "failed", "needs-review"],
)
async def test_a_message_already_handed_over_is_not_sent_again(
    world: World, changes: dict[str, object]
) -> None:
    event = await world.queued(**changes)
    before = world.message(event)

    assert await world.dispatch(event) is DispatchOutcome.ALREADY_DONE

    assert world.sender.sent == []
    assert world.sender.lookups == []
    assert world.message(event) == before


async def test_held_until_approved_then_released_and_sent(world: World) -> None:
    event = await world.queued(approved=False)

    assert await world.dispatch(event) is DispatchOutcome.HELD
    assert world.message(event).status is MessageStatus.HELD
    assert world.message(event).send_attempted_at is None
    assert await world.dispatch(event) is DispatchOutcome.HELD  # held again, still unsent
    await reject_compliance(world.new_uow(), event.tenant_id, "brand not verified")
    assert await release_held_messages(world.new_uow(), event.tenant_id) == 0
    assert world.message(event).status is MessageStatus.HELD
    assert world.sender.sent == []

    await approve_compliance(world.new_uow(), event.tenant_id)
    outbox_before = len(world.store.outbox_rows)
    assert await release_held_messages(world.new_uow(), event.tenant_id) == 1

    assert world.message(event).status is MessageStatus.QUEUED
    [released] = world.store.outbox_events()[outbox_before:]
    assert released == event  # queued again for the worker
    assert await world.dispatch(event) is DispatchOutcome.SENT
    assert [sms.body for sms in world.sender.messages_to(world.message(event).to)] == [BODY]
    assert await release_held_messages(world.new_uow(), event.tenant_id) == 0


async def test_an_earlier_attempt_that_arrived_is_reconciled_not_resent(world: World) -> None:
    event = await world.queued()
    world.sender.hang_next()  # the provider kept it, the answer was lost
    with pytest.raises(SmsOutcomeUnknown):
        await world.dispatch(event)
    attempted = world.message(event).send_attempted_at
    world.store.advance(45)

    assert await world.dispatch(event) is DispatchOutcome.RECONCILED

    [kept] = world.sender.sent
    assert [since for _, since in world.sender.lookups] == [attempted]
    assert world.message(event).provider_sid == kept.receipt.provider_sid
    assert await world.dispatch(event) is DispatchOutcome.ALREADY_DONE
    assert len(world.sender.sent) == 1


async def test_an_earlier_attempt_that_never_arrived_is_resent_exactly_once(
    world: World,
) -> None:
    event = await world.queued()
    world.sender.fail_next(SmsOutcomeUnknown("read timeout"))  # the provider kept nothing
    with pytest.raises(SmsOutcomeUnknown):
        await world.dispatch(event)
    first_attempt = world.message(event).send_attempted_at
    assert first_attempt is not None
    world.store.advance(45)

    assert await world.dispatch(event) is DispatchOutcome.SENT

    [kept] = world.sender.sent
    assert [since for _, since in world.sender.lookups] == [first_attempt]
    message = world.message(event)
    assert message.provider_sid == kept.receipt.provider_sid
    # The resend was marked anew before it left: a crash now would reconcile from there.
    assert message.send_attempted_at == world.store.now
    assert await world.dispatch(event) is DispatchOutcome.ALREADY_DONE
    assert len(world.sender.sent) == 1


class FinishedElsewhere(FakeSmsSender):
    """While we ask the provider, another worker commits the message's receipt."""

    def __init__(self, store: InMemoryStore, event: MessageQueued) -> None:
        super().__init__(clock=lambda: store.now)
        self.store, self.key = store, (event.tenant_id, event.message_id)

    async def find_sent(self, sms: OutgoingSms, since: datetime) -> Sequence[SmsReceipt]:
        mine = self.store.messages[self.key]
        self.store.messages[self.key] = attrs.evolve(mine, provider_sid=OTHER_WORKERS_SID)
        return await super().find_sent(sms, since)


async def test_a_message_another_worker_finished_meanwhile_is_not_resent(world: World) -> None:
    event = await world.queued()
    world.sender.fail_next(SmsOutcomeUnknown("read timeout"))
    with pytest.raises(SmsOutcomeUnknown):
        await world.dispatch(event)
    world.sender = FinishedElsewhere(world.store, event)

    assert await world.dispatch(event) is DispatchOutcome.ALREADY_DONE

    assert world.sender.sent == []
    assert len(world.sender.lookups) == 1
    assert world.message(event).provider_sid == OTHER_WORKERS_SID


async def test_not_sent_clears_the_attempt_mark_and_raises(world: World) -> None:
    event = await world.queued()
    world.sender.fail_next(SmsNotSent("connection refused"))

    with pytest.raises(SmsNotSent):
        await world.dispatch(event)

    message = world.message(event)
    assert (message.status, message.send_attempted_at, message.provider_sid) == (
        MessageStatus.QUEUED,
        None,
        None,
    )
    # The retry knows the provider never had it: it sends without asking first.
    assert await world.dispatch(event) is DispatchOutcome.SENT
    assert world.sender.lookups == []
    assert len(world.sender.sent) == 1


async def test_an_unknown_outcome_keeps_the_attempt_mark_and_raises(world: World) -> None:
    event = await world.queued()
    world.store.advance(12)
    world.sender.fail_next(SmsOutcomeUnknown("read timeout"))

    with pytest.raises(SmsOutcomeUnknown):
        await world.dispatch(event)

    message = world.message(event)
    assert message.send_attempted_at == world.store.now
    assert (message.status, message.provider_sid) == (MessageStatus.QUEUED, None)


# --- reconciliation when several of our messages share a text ---------------------------------


async def test_a_lookup_returns_every_matching_record(world: World) -> None:
    event = await world.queued()
    twin = await world.sibling(event)
    await world.attempt_kept(event)
    await world.attempt_kept(twin)
    sms = world.sender.sent[0].sms

    records = await world.sender.find_sent(sms, since=world.store.now)

    assert [r.provider_sid for r in records] == [
        kept.receipt.provider_sid for kept in reversed(world.sender.sent)
    ]  # newest first


@pytest.mark.parametrize("twin_kept", [False, True], ids=["one-record", "two-records"])
async def test_a_record_two_unconfirmed_messages_could_own_is_set_aside_for_review(
    world: World, twin_kept: bool
) -> None:
    event = await world.queued()
    twin = await world.sibling(event)
    await world.attempt_kept(event)  # the provider has this one…
    world.store.advance(5)
    if twin_kept:
        await world.attempt_kept(twin)
    else:
        await world.attempt_lost(twin)  # …and not this one; nothing tells the records apart
    sent_before = list(world.sender.sent)
    world.store.advance(45)

    with pytest.raises(NeedsReview) as raised:
        await world.dispatch(event)

    records = 2 if twin_kept else 1
    reason = (
        f"{records} provider record(s) could be this message or one of "
        "1 other unconfirmed message(s) with the same text"
    )
    assert str(raised.value) == reason
    message = world.message(event)
    assert (message.status, message.provider_sid, message.error) == (
        MessageStatus.NEEDS_REVIEW,
        None,
        reason,
    )
    assert world.sender.sent == sent_before  # nothing sent again
    assert world.message(twin).status is MessageStatus.QUEUED  # the other is untouched
    # Set aside, it stays put: a later delivery of its row neither sends nor asks again.
    lookups = len(world.sender.lookups)
    assert await world.dispatch(event) is DispatchOutcome.ALREADY_DONE
    assert len(world.sender.lookups) == lookups
    assert world.sender.sent == sent_before


async def test_the_twin_of_a_message_set_aside_is_set_aside_too(world: World) -> None:
    event = await world.queued()
    twin = await world.sibling(event)
    await world.attempt_kept(event)
    await world.attempt_lost(twin)
    with pytest.raises(NeedsReview):
        await world.dispatch(event)

    # The message set aside is still unconfirmed: the twin cannot claim the record either.
    with pytest.raises(NeedsReview):
        await world.dispatch(twin)

    assert world.message(twin).status is MessageStatus.NEEDS_REVIEW
    assert len(world.sender.sent) == 1


async def test_a_record_another_of_ours_already_owns_is_not_ours_and_we_resend(
    world: World,
) -> None:
    event = await world.queued()
    twin = await world.sibling(event)
    await world.attempt_lost(event)  # the provider never got ours
    attempted = world.message(event).send_attempted_at
    world.store.advance(5)
    assert await world.dispatch(twin) is DispatchOutcome.SENT  # the twin's record is its own
    twins_sid = world.message(twin).provider_sid
    world.store.advance(40)

    assert await world.dispatch(event) is DispatchOutcome.SENT

    first, second = world.sender.sent
    assert first.receipt.provider_sid == twins_sid
    message = world.message(event)
    assert message.provider_sid == second.receipt.provider_sid
    assert message.provider_sid != twins_sid
    assert [since for _, since in world.sender.lookups] == [attempted]


@pytest.mark.parametrize(
    "twin_changes",
    [
        pytest.param(None, id="no-twin"),
        pytest.param({}, id="twin-never-attempted"),
        pytest.param(
            {"status": MessageStatus.FAILED, "error": "provider rejected the message (21211)"},
            id="twin-rejected",
        ),
    ],
)
async def test_one_record_and_no_unconfirmed_rival_is_reconciled_not_resent(
    world: World, twin_changes: dict[str, object] | None
) -> None:
    event = await world.queued()
    if twin_changes is not None:
        changes = {**twin_changes}
        if "status" in changes:
            changes["send_attempted_at"] = world.store.now  # attempted, yet no rival
        await world.sibling(event, **changes)
    await world.attempt_kept(event)
    world.store.advance(45)

    assert await world.dispatch(event) is DispatchOutcome.RECONCILED

    [kept] = world.sender.sent
    assert world.message(event).provider_sid == kept.receipt.provider_sid
    assert world.message(event).status is MessageStatus.QUEUED


# --- the `sent` observer -------------------------------------------------------------------------


class SentLog(list[tuple[OutboundMessage, float]]):
    def __call__(self, message: OutboundMessage, seconds: float) -> None:
        self.append((message, seconds))


async def test_sent_hears_the_seconds_from_queueing_to_the_providers_receipt(
    world: World,
) -> None:
    event = await world.queued()
    world.store.advance(12.5)
    heard = SentLog()

    assert await world.dispatch(event, sent=heard) is DispatchOutcome.SENT

    [(message, seconds)] = heard
    assert seconds == 12.5
    assert message.id == event.message_id
    assert message.provider_sid == world.sender.sent[0].receipt.provider_sid


async def test_sent_hears_a_reconciled_message_too(world: World) -> None:
    event = await world.queued()
    world.store.advance(2)
    await world.attempt_kept(event)
    world.store.advance(30)
    heard = SentLog()

    assert await world.dispatch(event, sent=heard) is DispatchOutcome.RECONCILED

    [(message, seconds)] = heard
    assert seconds == 32.0
    assert message.provider_sid == world.sender.sent[0].receipt.provider_sid


async def test_sent_hears_nothing_when_nothing_was_taken(world: World) -> None:
    heard = SentLog()
    rejected, unknown, held = (
        await world.queued(),
        await world.queued(),
        await world.queued(approved=False),
    )
    world.sender.fail_next(SmsRejected("21211", "invalid 'To' phone number"))
    assert await world.dispatch(rejected, sent=heard) is DispatchOutcome.REJECTED
    world.sender.fail_next(SmsOutcomeUnknown("read timeout"))
    with pytest.raises(SmsOutcomeUnknown):
        await world.dispatch(unknown, sent=heard)
    assert await world.dispatch(held, sent=heard) is DispatchOutcome.HELD

    assert heard == []


# --- requeue (nmc replay) ------------------------------------------------------------------------


async def test_requeue_revives_a_message_the_outbox_gave_up_on_without_a_double_send(
    world: World,
) -> None:
    event = await world.queued()
    await world.attempt_kept(event)  # the provider has it; we never heard
    attempted = world.message(event).send_attempted_at
    await give_up(world.factory, event, "handler timed out after 30 s")
    assert world.message(event).status is MessageStatus.FAILED
    assert world.message(event).error == "gave up: handler timed out after 30 s"

    assert await requeue_message(world.factory, event) is Requeued.QUEUED

    message = world.message(event)
    assert message.status is MessageStatus.QUEUED
    assert message.send_attempted_at == attempted  # the mark is kept: the next try asks first
    assert await world.dispatch(event) is DispatchOutcome.RECONCILED
    assert len(world.sender.sent) == 1


async def test_requeue_of_a_given_up_message_never_sent_sends_it(world: World) -> None:
    event = await world.queued()
    await world.attempt_lost(event)
    await give_up(world.factory, event, "RuntimeError: twilio: HTTP 503")

    assert await requeue_message(world.factory, event) is Requeued.QUEUED
    assert await world.dispatch(event) is DispatchOutcome.SENT

    [kept] = world.sender.sent
    assert world.message(event).provider_sid == kept.receipt.provider_sid


async def test_requeue_revives_a_message_set_aside_for_review(world: World) -> None:
    event = await world.queued(status=MessageStatus.NEEDS_REVIEW, send_attempted_at=world.store.now)

    assert await requeue_message(world.factory, event) is Requeued.QUEUED

    message = world.message(event)
    assert (message.status, message.send_attempted_at) == (
        MessageStatus.QUEUED,
        world.store.now,
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param(
            {
                "status": MessageStatus.FAILED,
                "error": "gave up: handler timed out after 30 s",
                "provider_sid": "SM" + "a" * 32,
            },
            Requeued.ALREADY_SENT,
            id="provider-has-it",
        ),
        pytest.param(
            {
                "status": MessageStatus.FAILED,
                "error": "provider rejected the message (21211): invalid 'To' phone number",
            },
            Requeued.FINAL,
            id="rejected-by-provider",
        ),
        pytest.param(
            {"status": MessageStatus.CANCELED, "error": "recipient opted out"},
            Requeued.FINAL,
            id="opted-out",
        ),
        pytest.param(
            {"status": MessageStatus.DELIVERED, "provider_sid": "SM" + "b" * 32},
            Requeued.ALREADY_SENT,
            id="delivered",
        ),
    ],
)
async def test_requeue_leaves_a_message_that_must_not_go_again(
    world: World, changes: dict[str, object], expected: Requeued
) -> None:
    event = await world.queued(**changes)
    before = world.message(event)

    assert await requeue_message(world.factory, event) is expected

    assert world.message(event) == before


async def test_requeue_of_a_missing_message_says_so(world: World) -> None:
    event = await world.queued()

    assert (
        await requeue_message(world.factory, MessageQueued(event.tenant_id, uuid.uuid4()))
        is Requeued.MISSING
    )


async def test_requeue_of_a_message_still_queued_changes_nothing(world: World) -> None:
    event = await world.queued()
    before = world.message(event)

    assert await requeue_message(world.factory, event) is Requeued.QUEUED  # still on its way

    assert world.message(event) == before


def test_texts_retry_with_full_jitter_up_to_five_minutes_for_six_hours() -> None:
    assert RetryPolicy(base_seconds=1.0, cap_seconds=300.0, give_up_seconds=21600.0) == SMS_RETRY
