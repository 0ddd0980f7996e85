"""dispatch_message on the in-memory fakes: every branch, and exactly one SMS whatever happens."""

from __future__ import annotations

import uuid
from datetime import datetime

import attrs
import pytest

from nmc_adapters.memory import FakeSmsSender, InMemoryStore, InMemoryUnitOfWork
from nmc_domain.compliance.gate import approve_compliance, reject_compliance
from nmc_domain.messaging.dispatch import DispatchOutcome, dispatch_message, release_held_messages
from nmc_domain.messaging.errors import SmsNotSent, SmsOutcomeUnknown, SmsRejected
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.messaging.model import MessageStatus, OutboundMessage
from nmc_domain.messaging.ports import OutgoingSms, SmsReceipt
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

    def message(self, event: MessageQueued) -> OutboundMessage:
        return self.store.messages[event.tenant_id, event.message_id]  # type: ignore[no-any-return]

    async def dispatch(self, event: MessageQueued) -> DispatchOutcome:
        return await dispatch_message(self.factory, self.sender, event)


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
            for status in ("sending", "sent", "delivered", "undelivered", "failed")
        ),
    ],
    ids=["provider-sid", "sending", "sent", "delivered", "undelivered", "failed"],
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

    async def find_sent(self, sms: OutgoingSms, since: datetime) -> SmsReceipt | None:
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
