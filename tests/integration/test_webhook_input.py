"""Hostile input on signed Twilio webhooks: refused at the edge (400/413), nothing stored."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_adapters.postgres.shared.tables import outbox_events, webhook_events
from nmc_adapters.postgres.telephony.tables import calls
from nmc_api.bootstrap import build_app
from nmc_api.twilio_params import KNOWN, MAX_FORM_BYTES, MAX_STORED_BYTES, MAX_STORED_VALUE
from nmc_domain.tenancy.model import Tenant
from tests.support.api import api_settings
from tests.support.tenants import caller_number, onboard
from tests.support.twilio import PUBLIC_BASE_URL, call_sid, dial_action, sign, status_callback

DIAL = "/webhooks/twilio/voice/dial-status"
STATUS = "/webhooks/twilio/voice/status"
SMS_STATUS = "/webhooks/twilio/sms/status"


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[AsyncTestClient]:
    app = build_app(api_settings(database_url))
    async with AsyncTestClient(app, base_url="http://10.0.0.7:8000") as client:
        yield client


@pytest.fixture
async def tenant(engine: AsyncEngine) -> tuple[Tenant, str]:
    return await onboard(lambda: PgUnitOfWork(engine))


def signed(path: str, params: dict[str, str]) -> dict[str, str]:
    return {"X-Twilio-Signature": sign(PUBLIC_BASE_URL + path, params)}


async def post(client: AsyncTestClient, path: str, params: dict[str, str]) -> httpx.Response:
    return await client.post(path, data=params, headers=signed(path, params))


async def stored(admin_engine: AsyncEngine, tenant_id: uuid.UUID) -> dict[str, int]:
    """How many rows of this tenant's each table a callback could have written."""
    counts = {}
    async with admin_engine.connect() as conn:
        for table in (webhook_events, calls, outbox_events):
            query = select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id)
            counts[table.name] = (await conn.execute(query)).scalar_one()
    return counts


def hostile_cases() -> list[Any]:
    long_sid = "CA" + "0" * 10_000
    return [
        pytest.param(STATUS, {"From": "+1555\x00123"}, "From", id="nul-in-from"),
        pytest.param(STATUS, {"To": "+1415\n5550123"}, "To", id="newline-in-to"),
        pytest.param(STATUS, {"CallStatus": "\x1b[31mno-answer"}, "CallStatus", id="esc-status"),
        pytest.param(STATUS, {"Note": "hello\x00world"}, "Note", id="nul-in-unknown"),
        pytest.param(STATUS, {"CallSid": long_sid}, "CallSid", id="10kb-callsid"),
        pytest.param(STATUS, {"CallSid": "CA" + "z" * 32}, "CallSid", id="non-hex-callsid"),
        pytest.param(STATUS, {"ParentCallSid": "CA123"}, "ParentCallSid", id="short-parent"),
        pytest.param(STATUS, {"AccountSid": "AC" + "0" * 33}, "AccountSid", id="long-account"),
        pytest.param(STATUS, {"CallDuration": "²"}, "CallDuration", id="superscript-two"),
        pytest.param(STATUS, {"CallDuration": "٣"}, "CallDuration", id="arabic-three"),
        pytest.param(STATUS, {"CallDuration": "2147483648"}, "CallDuration", id="int-overflow"),
        pytest.param(STATUS, {"CallDuration": "86401"}, "CallDuration", id="over-a-day"),
        pytest.param(DIAL, {"DialCallSid": "CA" + "0" * 31}, "DialCallSid", id="short-dial-sid"),
        pytest.param(DIAL, {"DialCallDuration": "99999999999"}, "DialCallDuration", id="dial-dur"),
    ]


@pytest.mark.parametrize(("path", "change", "field"), hostile_cases())
async def test_hostile_values_are_400_naming_the_field_and_nothing_is_stored(
    client, tenant, admin_engine, path, change, field
) -> None:
    _, number = tenant
    build = dial_action if path == DIAL else status_callback
    params = {**build(number, caller_number(), call_sid()), **change}
    before = await stored(admin_engine, tenant[0].id)

    response = await post(client, path, params)

    assert response.status_code == 400, response.text
    assert response.text.startswith(f"{field}:")
    assert len(response.text) < 120  # a short reason; the value is never echoed
    assert await stored(admin_engine, tenant[0].id) == before


async def test_a_hostile_message_sid_on_a_delivery_report_is_400(client, tenant) -> None:
    _, number = tenant
    path = f"{SMS_STATUS}?message_id={uuid.uuid4()}"
    params = {"MessageSid": "SM" + "0" * 5000, "MessageStatus": "delivered", "From": number}

    response = await post(client, path, params)

    assert (response.status_code, response.text.split(":")[0]) == (400, "MessageSid")


async def test_a_duration_of_a_whole_day_is_still_a_call(client, tenant, admin_engine) -> None:
    _, number = tenant
    params = status_callback(number, caller_number(), call_sid(), "completed", duration=86_400)

    assert (await post(client, STATUS, params)).status_code == 200
    assert (await stored(admin_engine, tenant[0].id))["calls"] == 1


async def test_a_body_over_64_kb_is_413_and_nothing_is_stored(client, tenant, admin_engine) -> None:
    _, number = tenant
    # The 100 KB CallSid that used to reach the database (and come back as a false 503).
    params = status_callback(number, caller_number(), "CA" + "0" * 100_000)
    before = await stored(admin_engine, tenant[0].id)

    response = await post(client, STATUS, params)

    assert response.status_code == 413
    assert await stored(admin_engine, tenant[0].id) == before


async def test_a_declared_length_over_64_kb_is_413_before_reading(client, tenant) -> None:
    _, number = tenant
    params = status_callback(number, caller_number(), call_sid())
    body = str(httpx.QueryParams(params)).encode()
    headers = {
        **signed(STATUS, params),
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Length": str(MAX_FORM_BYTES + 1),
    }

    response = await client.post(STATUS, content=body, headers=headers)

    assert response.status_code == 413


async def raw_post(
    app: Any, path: str, headers: dict[str, str], body: bytes, chunk: int
) -> tuple[int, int]:
    """POST as a server would with a chunked body: (status, bytes the app asked for)."""
    pieces = [body[i : i + chunk] for i in range(0, len(body), chunk)]
    consumed = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal consumed
        if not pieces:
            return {"type": "http.disconnect"}
        piece = pieces.pop(0)
        consumed += len(piece)
        return {"type": "http.request", "body": piece, "more_body": bool(pieces)}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("10.0.0.9", 5000),
        "server": ("10.0.0.7", 8000),
    }
    await app(scope, receive, send)
    return status, consumed


async def test_a_chunked_body_is_capped_as_it_is_read(client, tenant, admin_engine) -> None:
    _, number = tenant
    params = {**status_callback(number, caller_number(), call_sid()), "Filler": "x" * 200_000}
    body = str(httpx.QueryParams(params)).encode()
    headers = {
        **signed(STATUS, params),
        "Content-Type": "application/x-www-form-urlencoded",
        "Transfer-Encoding": "chunked",  # no Content-Length to check first
        "Host": "10.0.0.7:8000",
    }
    before = await stored(admin_engine, tenant[0].id)

    status, consumed = await raw_post(client.app, STATUS, headers, body, chunk=8192)

    assert status == 413
    assert consumed <= MAX_FORM_BYTES + 8192  # stopped reading one chunk past the cap
    assert await stored(admin_engine, tenant[0].id) == before


async def test_unknown_parameters_are_stored_cut_down_known_ones_whole(
    client, tenant, admin_engine
) -> None:
    _, number = tenant
    sid = call_sid()
    known = status_callback(number, caller_number(), sid)
    extras = {f"Extra{i:02}": "y" * 2_000 for i in range(20)}
    params = {**known, "Filler": "x" * 20_000, "Note": "line one\r\n\tline two", **extras}

    response = await post(client, STATUS, params)

    assert response.status_code == 200, response.text
    async with admin_engine.connect() as conn:
        payload = (
            await conn.execute(
                select(webhook_events.c.payload).where(webhook_events.c.event_key == sid)
            )
        ).scalar_one()
    assert {name: payload[name] for name in known} == known
    assert all(len(value) <= MAX_STORED_VALUE for value in payload.values())
    assert sum(len(k.encode()) + len(v.encode()) for k, v in payload.items()) <= MAX_STORED_BYTES
    assert payload["Extra00"] == "y" * MAX_STORED_VALUE
    kept = [name for name in params if name in payload]
    assert int(payload["_nmc_dropped"]) == len(params) - len(kept) > 0
    assert set(payload) - {"_nmc_dropped"} <= set(params)
    assert {name for name in payload if name in KNOWN} == set(known)
