"""Repository contracts: webhooks, conversations, calls and messages (fakes and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import attrs

from nmc_domain.conversation.model import ConversationStatus, OpenedBy
from nmc_domain.messaging.model import MessageStatus
from nmc_domain.shared.ports import RowLock
from tests.contract.backends import Backend
from tests.contract.builders import a_call, a_message, stored_tenant
from tests.support.tenants import caller_number

BUSINESS = "+14155550100"  # the tenant's number the conversations run on


def _sid(prefix: str = "CA") -> str:
    return prefix + uuid.uuid4().hex


async def test_a_webhook_event_is_new_once_then_a_replay(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    key, payload = _sid(), {"CallStatus": "no-answer"}
    async with backend.new_uow() as uow:
        assert await uow.webhooks.record("twilio.voice", key, tenant.id, payload) is True
        assert await uow.webhooks.record("twilio.voice", key, tenant.id, payload) is False
        await uow.commit()

    async with backend.new_uow() as uow:
        assert await uow.webhooks.record("twilio.voice", key, tenant.id, payload) is False
        # The key is per provider, and the tenant may be unknown (None).
        assert await uow.webhooks.record("twilio.sms.status", key, None, {}) is True


async def test_a_rolled_back_webhook_event_is_forgotten(backend: Backend) -> None:
    key = _sid("SM")
    async with backend.new_uow() as uow:
        assert await uow.webhooks.record("twilio.sms", key, None, {"Body": "Hi"}) is True

    async with backend.new_uow() as uow:
        assert await uow.webhooks.record("twilio.sms", key, None, {"Body": "Hi"}) is True


async def test_open_or_get_opens_once_then_returns_the_open_one(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    caller = caller_number()
    async with backend.new_uow() as uow:
        now = await uow.now()
        await uow.bind_tenant(tenant.id)
        opened, was_opened = await uow.conversations.open_or_get(
            tenant.id, caller, BUSINESS, now, OpenedBy.CALL
        )
        again, opened_again = await uow.conversations.open_or_get(
            tenant.id, caller, BUSINESS, now, OpenedBy.CALL
        )
        await uow.commit()
    assert (was_opened, opened_again) == (True, False)
    assert again == opened
    assert (opened.tenant_id, opened.caller) == (tenant.id, caller)
    assert opened.status is ConversationStatus.OPEN
    assert opened.opened_at == now

    async with backend.new_uow() as uow:
        later = now + timedelta(minutes=5)
        await uow.bind_tenant(tenant.id)
        found, opened_now = await uow.conversations.open_or_get(
            tenant.id, caller, BUSINESS, later, OpenedBy.CALL
        )
    assert (found, opened_now) == (opened, False)


async def test_conversations_are_per_caller_and_per_tenant(backend: Backend) -> None:
    acme, _ = await stored_tenant(backend.new_uow)
    spark, _ = await stored_tenant(backend.new_uow, "BRIGHT-SPARK-ELECTRIC")
    caller = caller_number()
    async with backend.new_uow() as uow:
        now = await uow.now()
        await uow.bind_tenant(acme.id)
        first, _ = await uow.conversations.open_or_get(
            acme.id, caller, BUSINESS, now, OpenedBy.CALL
        )
        other_caller, opened_a = await uow.conversations.open_or_get(
            acme.id, caller_number(), BUSINESS, now, OpenedBy.CALL
        )
        await uow.bind_tenant(spark.id)
        other_tenant, opened_b = await uow.conversations.open_or_get(
            spark.id, caller, BUSINESS, now, OpenedBy.CALL
        )
        await uow.commit()
    assert opened_a
    assert opened_b
    assert len({first.id, other_caller.id, other_tenant.id}) == 3
    assert other_tenant.tenant_id == spark.id


async def test_calls_of_a_conversation_come_by_time_then_sid(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    async with backend.new_uow() as uow:
        now = await uow.now()
        await uow.bind_tenant(tenant.id)
        conversation, _ = await uow.conversations.open_or_get(
            tenant.id, caller_number(), BUSINESS, now, OpenedBy.CALL
        )
        earlier = now - timedelta(minutes=3)
        calls = [
            a_call(tenant.id, conversation.id, now, "CA" + "b" * 32),
            a_call(tenant.id, conversation.id, earlier, "CA" + "c" * 32),
            a_call(tenant.id, conversation.id, now, "CA" + "a" * 32),
            a_call(tenant.id, None, earlier, _sid()),  # not part of the conversation
        ]
        for call in calls:
            await uow.bind_tenant(call.tenant_id)
            await uow.calls.add(call)
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        found = await uow.calls.of_conversation(tenant.id, conversation.id)
        assert list(found) == [calls[1], calls[2], calls[0]]
        assert await uow.calls.of_conversation(uuid.uuid4(), conversation.id) == []


async def test_a_message_round_trips_through_add_get_and_save(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    async with backend.new_uow() as uow:
        now = await uow.now()
        await uow.bind_tenant(tenant.id)
        conversation, _ = await uow.conversations.open_or_get(
            tenant.id, caller_number(), BUSINESS, now, OpenedBy.CALL
        )
        message = a_message(tenant.id, now, conversation_id=conversation.id)
        await uow.bind_tenant(message.tenant_id)
        await uow.messages.add(message)
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.messages.get(tenant.id, message.id) == message
        attempted = attrs.evolve(message, send_attempted_at=now + timedelta(seconds=2))
        await uow.bind_tenant(attempted.tenant_id)
        await uow.messages.save(attempted)
        await uow.commit()

    sent = attrs.evolve(
        attempted,
        status=MessageStatus.FAILED,
        provider_sid=_sid("SM"),
        error="provider error 30003",
    )
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.messages.get(tenant.id, message.id, lock=RowLock.UPDATE) == attempted
        await uow.bind_tenant(sent.tenant_id)
        await uow.messages.save(sent)
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.messages.get(tenant.id, message.id) == sent


async def test_a_message_is_only_found_under_its_own_tenant(backend: Backend) -> None:
    acme, _ = await stored_tenant(backend.new_uow)
    spark, _ = await stored_tenant(backend.new_uow, "BRIGHT-SPARK-ELECTRIC")
    async with backend.new_uow() as uow:
        message = a_message(acme.id, await uow.now())
        await uow.bind_tenant(message.tenant_id)
        await uow.messages.add(message)
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(spark.id)
        assert await uow.messages.get(spark.id, message.id) is None
        await uow.bind_tenant(acme.id)
        assert await uow.messages.get(acme.id, uuid.uuid4()) is None
        # Saving under the wrong tenant changes nothing (the update matches no row).
        await uow.bind_tenant(spark.id)
        await uow.messages.save(attrs.evolve(message, tenant_id=spark.id, body="hijacked"))
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(acme.id)
        assert await uow.messages.get(acme.id, message.id) == message


async def test_held_messages_come_oldest_first_and_only_held_ones(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    other, _ = await stored_tenant(backend.new_uow, "BRIGHT-SPARK-ELECTRIC")
    async with backend.new_uow() as uow:
        now = await uow.now()
        minutes = [timedelta(minutes=m) for m in (5, 1, 3)]
        held = [a_message(tenant.id, now - ago, status=MessageStatus.HELD) for ago in minutes]
        same_time = [a_message(tenant.id, now, status=MessageStatus.HELD) for _ in range(2)]
        others = [
            a_message(tenant.id, now - timedelta(hours=1)),  # queued, not held
            a_message(other.id, now - timedelta(hours=1), status=MessageStatus.HELD),
        ]
        for message in [*held, *same_time, *others]:
            await uow.bind_tenant(message.tenant_id)
            await uow.messages.add(message)
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        found = await uow.messages.held(tenant.id)
    # Oldest first; equal times are ordered by id, so the order is stable.
    expected = [held[0], held[2], held[1], *sorted(same_time, key=lambda m: m.id)]
    assert list(found) == expected


async def test_a_stored_webhook_event_reads_back_as_stored(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    key, payload = _sid(), {"CallStatus": "no-answer", "To": "+14155550100"}
    async with backend.new_uow() as uow:
        before = await uow.now()
        await uow.webhooks.record("twilio.voice", key, tenant.id, payload)
        await uow.commit()

    async with backend.new_uow() as uow:
        stored = await uow.webhooks.get("twilio.voice", key)
        assert await uow.webhooks.get("twilio.sms", key) is None  # the key is per provider
        assert await uow.webhooks.get("twilio.voice", _sid()) is None

    assert stored is not None
    assert (stored.provider, stored.key, stored.tenant_id) == ("twilio.voice", key, tenant.id)
    assert dict(stored.payload) == {"CallStatus": "no-answer", "To": "+14155550100"}
    assert stored.received_at >= before - timedelta(seconds=1)


async def test_alike_finds_the_other_messages_with_the_same_numbers_and_text(
    backend: Backend,
) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    async with backend.new_uow() as uow:
        now = await uow.now()
        await uow.bind_tenant(tenant.id)
        message = a_message(tenant.id, now)
        twin = attrs.evolve(message, id=uuid.uuid4(), created_at=now + timedelta(seconds=1))
        old_twin = attrs.evolve(message, id=uuid.uuid4(), created_at=now - timedelta(hours=8))
        other_text = attrs.evolve(message, id=uuid.uuid4(), body="Something else")
        other_recipient = attrs.evolve(message, id=uuid.uuid4(), to=caller_number())
        for each in (message, twin, old_twin, other_text, other_recipient):
            await uow.messages.add(each)
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        found = await uow.messages.alike(tenant.id, message, since=now - timedelta(hours=1))
        nobody = await uow.messages.alike(uuid.uuid4(), message, since=now - timedelta(hours=1))

    assert [each.id for each in found] == [twin.id]
    assert list(nobody) == []
