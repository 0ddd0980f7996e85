"""Twilio webhooks through the real app and PostgreSQL, signed by Twilio's own SDK."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.logs import configure_logging
from nmc_adapters.postgres import PgUnitOfWork
from nmc_adapters.postgres.messaging.tables import messages
from nmc_adapters.postgres.shared.tables import outbox_events, webhook_events
from nmc_adapters.postgres.telephony.tables import calls
from nmc_adapters.postgres.tenancy.tables import tenants
from nmc_adapters.settings import Settings
from nmc_api.bootstrap import build_app
from tests.support.tenants import caller_number, onboard
from tests.support.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    JWT_SECRET,
    PUBLIC_BASE_URL,
    call_sid,
    dial_action,
    sign,
    status_callback,
)

VOICE = "/webhooks/twilio/voice"
DIAL = "/webhooks/twilio/voice/dial-status"
STATUS = "/webhooks/twilio/voice/status"


@pytest.fixture(scope="module")
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        public_base_url=PUBLIC_BASE_URL,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        jwt_secret=JWT_SECRET,
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(build_app(settings), base_url="http://10.0.0.7:8000") as client:
        yield client


@pytest.fixture
def new_uow(engine: AsyncEngine):
    return lambda: PgUnitOfWork(engine)


async def post(client: AsyncTestClient, path: str, params: dict[str, str], **kw: str):
    signature = kw.get("signature", sign(PUBLIC_BASE_URL + path, params))
    return await client.post(path, data=params, headers={"X-Twilio-Signature": signature})


async def count(engine: AsyncEngine, table, *where) -> int:
    async with engine.connect() as conn:
        query = select(func.count()).select_from(table).where(*where)
        return (await conn.execute(query)).scalar_one()


async def text_backs(engine: AsyncEngine, tenant_id) -> int:
    return await count(
        engine,
        outbox_events,
        outbox_events.c.tenant_id == tenant_id,
        outbox_events.c.topic == "message.queued.v1",
    )


async def test_incoming_call_dials_the_forward_to_number(client, new_uow) -> None:
    tenant, number = await onboard(new_uow)
    params = {"CallSid": call_sid(), "From": caller_number(), "To": number, "CallStatus": "ringing"}

    response = await post(client, VOICE, params)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text.endswith(
        f'<Response><Dial timeout="18" action="{DIAL}" method="POST">'
        f"<Number>{tenant.forward_to}</Number></Dial></Response>"
    )


@pytest.mark.parametrize(
    ("status", "reason"),
    [("no-answer", "no_answer"), ("busy", "busy"), ("failed", "failed"), ("canceled", "canceled")],
)
async def test_missed_dial_queues_one_text_back(
    client, new_uow, admin_engine, status, reason
) -> None:
    tenant, number = await onboard(new_uow, name="ACME-PLUMBING")
    caller = caller_number()

    response = await post(client, DIAL, dial_action(number, caller, call_sid(), status))

    assert response.status_code == 200
    assert "<Response>" in response.text
    assert await text_backs(admin_engine, tenant.id) == 1
    async with admin_engine.connect() as conn:
        row = (await conn.execute(select(calls).where(calls.c.tenant_id == tenant.id))).one()
        body = (
            await conn.execute(select(messages.c.body).where(messages.c.tenant_id == tenant.id))
        ).scalar_one()
    assert (row.outcome, row.reason, row.caller) == ("missed", reason, caller)
    assert "ACME-PLUMBING" in body


async def test_answered_call_sends_nothing(client, new_uow, admin_engine) -> None:
    tenant, number = await onboard(new_uow)
    params = status_callback(number, caller_number(), call_sid(), "completed", duration=42)

    assert (await post(client, STATUS, params)).status_code == 200

    assert await text_backs(admin_engine, tenant.id) == 0
    assert await count(
        admin_engine, calls, calls.c.tenant_id == tenant.id, calls.c.outcome == "answered"
    )


async def test_short_call_rule_turns_a_short_answer_into_a_missed_call(
    client, new_uow, admin_engine
) -> None:
    tenant, number = await onboard(new_uow)
    async with admin_engine.begin() as conn:
        await conn.execute(
            update(tenants).where(tenants.c.id == tenant.id).values(short_call_threshold_seconds=10)
        )

    short = status_callback(number, caller_number(), call_sid(), "completed", duration=4)
    long = status_callback(number, caller_number(), call_sid(), "completed", duration=10)
    assert (await post(client, STATUS, short)).status_code == 200
    assert (await post(client, STATUS, long)).status_code == 200

    assert await text_backs(admin_engine, tenant.id) == 1
    assert await count(
        admin_engine, calls, calls.c.tenant_id == tenant.id, calls.c.reason == "short_call"
    )


async def test_ringing_is_not_an_outcome_and_does_not_block_the_final_status(
    client, new_uow, admin_engine
) -> None:
    tenant, number = await onboard(new_uow)
    sid, caller = call_sid(), caller_number()

    await post(client, STATUS, status_callback(number, caller, sid, "ringing"))
    await post(client, STATUS, status_callback(number, caller, sid, "no-answer"))

    assert await count(admin_engine, webhook_events, webhook_events.c.event_key == sid) == 1
    assert await text_backs(admin_engine, tenant.id) == 1


@pytest.mark.parametrize("concurrent", [False, True], ids=["sequential", "concurrent"])
async def test_replayed_five_times_one_event_one_outbox_row(
    client, new_uow, admin_engine, concurrent
) -> None:
    tenant, number = await onboard(new_uow)
    sid, caller = call_sid(), caller_number()
    # Both callbacks of the same call, however often: still one missed call.
    bodies = [dial_action(number, caller, sid)] * 3 + [status_callback(number, caller, sid)] * 2

    if concurrent:
        responses = await asyncio.gather(
            *(post(client, p, b) for p, b in zip([DIAL] * 3 + [STATUS] * 2, bodies, strict=True))
        )
    else:
        responses = [
            await post(client, p, b) for p, b in zip([DIAL] * 3 + [STATUS] * 2, bodies, strict=True)
        ]

    assert [r.status_code for r in responses] == [200] * 5
    assert await count(admin_engine, webhook_events, webhook_events.c.event_key == sid) == 1
    assert await text_backs(admin_engine, tenant.id) == 1


async def test_calling_again_while_the_conversation_is_open_gets_no_second_text(
    client, new_uow, admin_engine
) -> None:
    tenant, number = await onboard(new_uow)
    caller = caller_number()

    await post(client, STATUS, status_callback(number, caller, call_sid()))
    await post(client, STATUS, status_callback(number, caller, call_sid(), "busy"))

    assert await text_backs(admin_engine, tenant.id) == 1
    assert await count(admin_engine, calls, calls.c.tenant_id == tenant.id) == 2
    async with admin_engine.connect() as conn:
        conversation_ids = set(
            (
                await conn.execute(
                    select(calls.c.conversation_id).where(calls.c.tenant_id == tenant.id)
                )
            ).scalars()
        )
    assert len(conversation_ids) == 1
    assert None not in conversation_ids


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
        "wrong-token",
        "other-url",
        "tampered-body",
    ],
)
async def test_bad_or_missing_signature_is_401_and_stores_nothing(
    client, new_uow, admin_engine, signature
) -> None:
    tenant, number = await onboard(new_uow)
    sid = call_sid()
    params = status_callback(number, caller_number(), sid)
    headers: dict[str, str] = {}
    if signature == "wrong-token":
        headers["X-Twilio-Signature"] = sign(PUBLIC_BASE_URL + STATUS, params, token="not-ours")
    elif signature == "other-url":
        headers["X-Twilio-Signature"] = sign("https://evil.example.com" + STATUS, params)
    elif signature == "tampered-body":
        headers["X-Twilio-Signature"] = sign(PUBLIC_BASE_URL + STATUS, params)
        params = {**params, "From": caller_number()}
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature

    response = await client.post(STATUS, data=params, headers=headers)

    assert response.status_code == 401
    assert await count(admin_engine, webhook_events, webhook_events.c.event_key == sid) == 0
    assert await text_backs(admin_engine, tenant.id) == 0


async def test_signature_over_the_url_with_explicit_port_is_accepted(
    client, new_uow, admin_engine
) -> None:
    tenant, number = await onboard(new_uow)
    params = status_callback(number, caller_number(), call_sid())
    signature = sign("https://nmc.example.com:443" + STATUS, params)

    response = await post(client, STATUS, params, signature=signature)

    assert response.status_code == 200
    assert await text_backs(admin_engine, tenant.id) == 1


async def test_unknown_number_is_a_200_no_op_with_a_warning(client, admin_engine) -> None:
    buffer = io.StringIO()
    configure_logging("json", "info", stream=buffer)
    sid, unknown = call_sid(), "+14155550199"

    response = await post(client, STATUS, status_callback(unknown, caller_number(), sid))

    assert response.status_code == 200
    assert await count(admin_engine, webhook_events, webhook_events.c.event_key == sid) == 0
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    warnings = [line for line in lines if line["event"] == "webhook.unknown_number"]
    assert [w["level"] for w in warnings] == ["warning"]
    assert warnings[0]["number"].endswith("0199")
    assert unknown not in buffer.getvalue()  # masked: last four digits only


async def test_logs_carry_ids_and_mask_the_caller(client, new_uow) -> None:
    buffer = io.StringIO()
    configure_logging("json", "info", stream=buffer)
    tenant, number = await onboard(new_uow)
    sid, caller = call_sid(), caller_number()

    await post(client, STATUS, status_callback(number, caller, sid))

    reported = [json.loads(x) for x in buffer.getvalue().splitlines() if "call.reported" in x]
    assert reported[0]["tenant_id"] == str(tenant.id)
    assert reported[0]["call_sid"] == sid
    assert caller not in buffer.getvalue()
    assert AUTH_TOKEN not in buffer.getvalue()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"CallStatus": "exploded"}, "CallStatus"),
        ({"CallStatus": ""}, "CallStatus"),
        ({"To": ""}, "To"),
        ({"CallDuration": "soon"}, "CallDuration"),
    ],
)
async def test_malformed_callbacks_are_400_with_the_field(client, new_uow, change, field) -> None:
    _, number = await onboard(new_uow)
    params = {**status_callback(number, caller_number(), call_sid()), **change}

    response = await post(client, STATUS, params)

    assert response.status_code == 400
    assert field in response.text


async def test_healthz_and_readyz(client) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()["database"]) == (200, "ok")


async def test_openapi_lists_every_route(client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()

    assert {VOICE, DIAL, STATUS, "/webhooks/twilio/sms/status", "/healthz", "/readyz"} <= set(
        schema["paths"]
    )


async def test_readyz_is_503_when_the_database_is_unreachable(settings: Settings) -> None:
    import attrs

    down = attrs.evolve(settings, database_url="postgresql://nobody@127.0.0.1:1/nowhere")
    async with AsyncTestClient(build_app(down)) as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
    assert ready.status_code == 503
