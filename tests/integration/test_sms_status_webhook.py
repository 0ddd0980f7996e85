"""/webhooks/twilio/sms/status through the real app and PostgreSQL, signed by Twilio's own SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_adapters.postgres.messaging.tables import messages
from nmc_adapters.postgres.shared.tables import webhook_events
from nmc_domain.messaging.model import OutboundMessage
from nmc_domain.messaging.status import SMS_STATUS_EVENTS
from tests.support.api import api_client, api_settings
from tests.support.tenants import caller_number, onboard
from tests.support.twilio import ACCOUNT_SID, PUBLIC_BASE_URL, sign

PATH = "/webhooks/twilio/sms/status"


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[AsyncTestClient]:
    async with api_client(api_settings(database_url)) as client:
        yield client


@pytest.fixture
def new_uow(engine: AsyncEngine):
    return lambda: PgUnitOfWork(engine)


async def stored_message(new_uow) -> tuple[OutboundMessage, str]:
    """A queued text-back of a freshly onboarded tenant, and the tenant's number."""
    tenant, number = await onboard(new_uow)
    async with new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        message = OutboundMessage.queue(
            tenant_id=tenant.id,
            conversation_id=None,
            to=caller_number(),
            from_=number,
            body="ACME-PLUMBING here: sorry we missed your call!",
            now=await uow.now(),
        )
        await uow.messages.add(message)
        await uow.commit()
    return message, number


async def post_status(client: AsyncTestClient, message_id: UUID, params: dict[str, str]):
    path = f"{PATH}?message_id={message_id}"
    signature = sign(PUBLIC_BASE_URL + path, params)
    return await client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def callback(message: OutboundMessage, number: str, sid: str, status: str) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": sid,
        "MessageStatus": status,
        "From": number,
        "To": message.to,
    }


async def events_for(admin_engine: AsyncEngine, sid: str) -> list[str]:
    query = select(webhook_events.c.event_key).where(
        webhook_events.c.provider == SMS_STATUS_EVENTS,
        webhook_events.c.event_key.startswith(f"{sid}:"),
    )
    async with admin_engine.connect() as conn:
        return sorted((await conn.execute(query)).scalars())


async def status_of(admin_engine: AsyncEngine, message_id: UUID) -> tuple[str, str | None]:
    query = select(messages.c.status, messages.c.provider_sid).where(messages.c.id == message_id)
    async with admin_engine.connect() as conn:
        row = (await conn.execute(query)).one()
    return row.status, row.provider_sid


async def test_a_known_status_is_stored_once_and_moves_the_message(
    client, new_uow, admin_engine
) -> None:
    message, number = await stored_message(new_uow)
    sid = "SM" + message.id.hex

    first = await post_status(client, message.id, callback(message, number, sid, "delivered"))
    again = await post_status(client, message.id, callback(message, number, sid, "delivered"))
    late = await post_status(client, message.id, callback(message, number, sid, "sent"))

    assert [r.status_code for r in (first, again, late)] == [200, 200, 200]
    assert await events_for(admin_engine, sid) == [f"{sid}:delivered", f"{sid}:sent"]
    assert await status_of(admin_engine, message.id) == ("delivered", sid)


@pytest.mark.parametrize("status", ["teleported", "DELIVERED-ISH"])
async def test_an_unknown_status_is_a_client_error_and_nothing_is_stored(
    client, new_uow, admin_engine, status: str
) -> None:
    message, number = await stored_message(new_uow)
    sid = "SM" + message.id.hex

    response = await post_status(client, message.id, callback(message, number, sid, status))

    assert 400 <= response.status_code < 500, response.text
    assert "MessageStatus" in response.text
    assert await events_for(admin_engine, sid) == []
    assert await status_of(admin_engine, message.id) == ("queued", None)
    # The same request with a status Twilio does send goes through: only the status was wrong.
    fine = await post_status(client, message.id, callback(message, number, sid, "sent"))
    assert fine.status_code == 200
    assert await events_for(admin_engine, sid) == [f"{sid}:sent"]


async def test_a_missing_status_is_a_client_error_and_nothing_is_stored(
    client, new_uow, admin_engine
) -> None:
    message, number = await stored_message(new_uow)
    sid = "SM" + message.id.hex
    params = callback(message, number, sid, "sent")
    del params["MessageStatus"]

    response = await post_status(client, message.id, params)

    assert 400 <= response.status_code < 500, response.text
    assert await events_for(admin_engine, sid) == []
