"""record_message_status on the in-memory fakes: once per (sid, status), and only ever forward."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nmc_adapters.memory import FakeSmsSender, InMemoryStore, InMemoryUnitOfWork
from nmc_domain.messaging.dispatch import dispatch_message
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.messaging.model import MessageStatus, OutboundMessage
from nmc_domain.messaging.status import (
    SMS_STATUS_EVENTS,
    MessageStatusReport,
    StatusOutcome,
    record_message_status,
)
from nmc_domain.shared.errors import InvalidInput
from tests.support.tenants import caller_number, onboard

# Our reading of Twilio's ladder, written out here rather than taken from the model.
RANK = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "read": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
}
OURS = {
    "held": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
}


class Sent:
    """A tenant's text-back, handed to the (fake) provider: the subject of the callbacks."""

    def __init__(self, store: InMemoryStore, event: MessageQueued, number: str, sid: str):
        self.store, self.event, self.number, self.sid = store, event, number, sid

    @property
    def message(self) -> OutboundMessage:
        return self.store.messages[self.event.tenant_id, self.event.message_id]  # type: ignore[no-any-return]

    def report(self, status: str, **changes: object) -> MessageStatusReport:
        fields: dict[str, object] = {
            "message_id": self.event.message_id,
            "sender": self.number,
            "provider_sid": self.sid,
            "status": status,
            "payload": {"MessageSid": self.sid, "MessageStatus": status},
        }
        fields.update(changes)
        return MessageStatusReport(**fields)  # type: ignore[arg-type]

    async def record(self, status: str, **changes: object) -> StatusOutcome:
        uow = InMemoryUnitOfWork(self.store)
        return await record_message_status(uow, self.report(status, **changes))

    def stored_keys(self) -> list[str]:
        return [key for provider, key in self.store.webhook_events if provider == SMS_STATUS_EVENTS]


async def sent_message(*, dispatched: bool = True) -> Sent:
    store = InMemoryStore()
    new_uow = lambda: InMemoryUnitOfWork(store)  # noqa: E731
    tenant, number = await onboard(new_uow)
    message = OutboundMessage.queue(
        tenant_id=tenant.id,
        conversation_id=None,
        to=caller_number(),
        from_=number,
        body="ACME-PLUMBING here: sorry we missed your call!",
        now=store.now,
    )
    async with new_uow() as uow:
        await uow.messages.add(message)
        await uow.commit()
    event = MessageQueued(tenant.id, message.id)
    if not dispatched:
        return Sent(store, event, number, "SM" + uuid.uuid4().hex)
    sender = FakeSmsSender(clock=lambda: store.now)
    await dispatch_message(new_uow, sender, event)
    [kept] = sender.sent
    return Sent(store, event, number, kept.receipt.provider_sid)


async def test_a_report_moves_the_message_forward_and_is_stored() -> None:
    sent = await sent_message()

    assert await sent.record("sent") is StatusOutcome.UPDATED

    assert sent.message.status is MessageStatus.SENT
    assert sent.stored_keys() == [f"{sent.sid}:sent"]
    stored = sent.store.webhook_events[SMS_STATUS_EVENTS, f"{sent.sid}:sent"]
    assert stored.tenant_id == sent.event.tenant_id
    assert stored.payload == {"MessageSid": sent.sid, "MessageStatus": "sent"}


async def test_the_same_sid_and_status_twice_is_a_duplicate_stored_once() -> None:
    sent = await sent_message()

    first = await sent.record("delivered")
    again = await sent.record(" Delivered ")  # same status, however spelled

    assert (first, again) == (StatusOutcome.UPDATED, StatusOutcome.DUPLICATE)
    assert sent.stored_keys() == [f"{sent.sid}:delivered"]
    assert sent.message.status is MessageStatus.DELIVERED


async def test_a_report_for_an_unknown_message_stores_nothing() -> None:
    sent = await sent_message()
    before = sent.message

    unknown_id = await sent.record("delivered", message_id=uuid.uuid4())
    unknown_sender = await sent.record("delivered", sender="+14155550199")

    assert unknown_id is StatusOutcome.UNKNOWN_MESSAGE
    assert unknown_sender is StatusOutcome.UNKNOWN_MESSAGE
    assert sent.stored_keys() == []
    assert sent.message == before


async def test_a_report_under_another_provider_sid_is_not_this_message() -> None:
    sent = await sent_message()
    before = sent.message

    outcome = await sent.record("failed", provider_sid="SM" + "e" * 32, error_code="30007")

    assert outcome is StatusOutcome.UNKNOWN_MESSAGE
    assert sent.stored_keys() == []
    assert sent.message == before


async def test_a_report_before_our_receipt_is_recorded_adopts_its_sid() -> None:
    sent = await sent_message(dispatched=False)
    assert sent.message.provider_sid is None

    assert await sent.record("sent") is StatusOutcome.UPDATED

    assert (sent.message.provider_sid, sent.message.status) == (sent.sid, MessageStatus.SENT)


@pytest.mark.parametrize(
    ("status", "kept"),
    [("undelivered", MessageStatus.UNDELIVERED), ("failed", MessageStatus.FAILED)],
)
async def test_the_error_code_of_a_failed_delivery_is_kept(status, kept) -> None:
    sent = await sent_message()

    assert await sent.record(status, error_code="30003") is StatusOutcome.UPDATED

    assert (sent.message.status, sent.message.error) == (kept, "provider error 30003")


async def test_an_error_code_on_a_delivered_report_is_not_an_error() -> None:
    sent = await sent_message()

    await sent.record("delivered", error_code="30003")

    assert (sent.message.status, sent.message.error) == (MessageStatus.DELIVERED, None)


async def test_late_reports_never_move_the_status_back() -> None:
    sent = await sent_message()

    outcomes = [await sent.record(s) for s in ("delivered", "sent", "sending", "queued")]

    assert outcomes == [StatusOutcome.UPDATED] + [StatusOutcome.UNCHANGED] * 3
    assert sent.message.status is MessageStatus.DELIVERED
    assert len(sent.stored_keys()) == 4  # each report is remembered, even the stale ones


async def test_a_final_status_is_not_replaced_by_another_final_one() -> None:
    sent = await sent_message()

    await sent.record("undelivered", error_code="30005")
    assert await sent.record("delivered") is StatusOutcome.UNCHANGED

    assert (sent.message.status, sent.message.error) == (
        MessageStatus.UNDELIVERED,
        "provider error 30005",
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(sorted(RANK)), min_size=1, max_size=8))
async def test_any_order_of_reports_only_ever_moves_forward(statuses: list[str]) -> None:
    sent = await sent_message()
    highest = OURS[sent.message.status.value]

    for status in statuses:
        before = OURS[sent.message.status.value]
        await sent.record(status)
        after = OURS[sent.message.status.value]
        assert after >= before
        highest = max(highest, RANK[status])
        assert after == highest

    assert sorted(sent.stored_keys()) == sorted({f"{sent.sid}:{s}" for s in statuses})


@pytest.mark.parametrize("status", ["teleported", "", "DELIVERED!"])
async def test_an_unknown_status_is_invalid_input_and_stores_nothing(status: str) -> None:
    sent = await sent_message()
    before = sent.message

    with pytest.raises(InvalidInput) as raised:
        await sent.record(status)

    assert raised.value.field == "MessageStatus"
    assert sent.stored_keys() == []
    assert sent.message == before
