"""The first E2E flow with real processes: API and worker programs, real HTTP, signed by Twilio's
SDK, a local fake Twilio, and the `nmc` CLI for onboarding and compliance."""

from __future__ import annotations

import json
import signal
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import Engine, create_engine, func, select

from nmc_adapters.postgres import sqlalchemy_url
from nmc_adapters.postgres.messaging.tables import messages
from nmc_adapters.postgres.shared.tables import outbox_events
from tests.support.cli import clean_env, nmc
from tests.support.fake_twilio import FakeTwilio
from tests.support.processes import Running, free_port
from tests.support.tenants import caller_number, fresh_number
from tests.support.twilio import ACCOUNT_SID, JWT_SECRET, call_sid, dial_action, sign

TOKEN = "e2e-twilio-auth-token"
T = TypeVar("T")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(account_sid=ACCOUNT_SID, auth_token=TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def stack(database_url: str, fake: FakeTwilio) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = clean_env(
        NMC_DATABASE_URL=database_url,
        NMC_PUBLIC_BASE_URL=base_url,
        NMC_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        NMC_TWILIO_AUTH_TOKEN=TOKEN,
        NMC_TWILIO_API_BASE=fake.base_url,
        NMC_JWT_SECRET=JWT_SECRET,
    )
    # Two API processes on one port (the other E2E modules run one): either may answer.
    api = Running([sys.executable, "-m", "nmc_api", "--port", str(port), "--workers", "2"], env)
    worker = Running([sys.executable, "-m", "nmc_worker", "--seed", "11"], env)
    try:
        wait_until(
            lambda: sum("Application startup complete" in line for line in api.lines) == 2,
            "both API processes started",
        )
        worker.wait_for(lambda line: "worker.started" in line)
        yield base_url, env
    finally:
        api_code, worker_code = api.stop(), worker.stop()
        # uvicorn re-raises SIGTERM after its graceful shutdown: -15 is a clean exit too.
        assert api_code in (0, -signal.SIGTERM), api.output
        assert worker_code == 0, worker.output
        assert TOKEN not in api.output + worker.output


@pytest.fixture(scope="module")
def db(database_url: str) -> Iterator[Engine]:
    """The test server's superuser on the stack's database: for looking, past row-level security."""
    engine = create_engine(sqlalchemy_url(database_url))
    yield engine
    engine.dispose()


def wait_until(probe: Callable[[], T], what: str, within: float = 15.0) -> T:
    """The first truthy result of `probe`, polled for `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within} s (last: {result!r})")
        time.sleep(0.05)


def messages_to(db: Engine, caller: str) -> list[Any]:
    query = select(messages.c.status, messages.c.provider_sid).where(messages.c.to_number == caller)
    with db.connect() as conn:
        return list(conn.execute(query).all())


def texts_in_flight(db: Engine, tenant_id: str) -> tuple[int, int]:
    """The tenant's message.queued.v1 outbox rows: (all of them, those the worker has still to
    finish). Every SMS goes through one; other topics may wait for hours (idle checks)."""
    rows = outbox_events.c
    query = select(
        func.count(), func.count().filter(rows.dispatched_at.is_(None) & rows.dead_at.is_(None))
    ).where(rows.tenant_id == uuid.UUID(tenant_id), rows.topic == "message.queued.v1")
    with db.connect() as conn:
        total, pending = conn.execute(query).one()
    return int(total), int(pending)


def texts_done(db: Engine, tenant_id: str) -> bool:
    total, pending = texts_in_flight(db, tenant_id)
    return total > 0 and pending == 0


def onboard(env: dict[str, str], *, approve: bool) -> tuple[str, str]:
    number = fresh_number()
    done = nmc(
        "tenant", "onboard", "--name", "ACME-PLUMBING", "--number", number,
        "--forward-to", fresh_number(), "--timezone", "America/Denver",
        "--owner-email", "owner@acme-plumbing.example", "--json",
        env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    tenant_id = json.loads(done.stdout.splitlines()[-1])["tenant_id"]
    if approve:
        assert nmc("compliance", "approve", tenant_id, env=env).returncode == 0
    return tenant_id, number


def post_signed(base_url: str, path: str, params: dict[str, str]) -> httpx.Response:
    url = base_url + path
    return httpx.post(url, data=params, headers={"X-Twilio-Signature": sign(url, params, TOKEN)})


def wait_for_sms(fake: FakeTwilio, to: str, within: float = 15.0) -> list:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = [m for m in fake.messages if m.to == to]
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no SMS to {to} within {within} s")


def test_missed_call_is_texted_back_and_delivery_is_tracked(stack, fake, db) -> None:
    base_url, env = stack
    tenant_id, number = onboard(env, approve=True)
    caller = caller_number()
    sid = call_sid()

    replies = [
        post_signed(
            base_url, "/webhooks/twilio/voice/dial-status", dial_action(number, caller, sid)
        )
        for _ in range(3)
    ]

    assert [r.status_code for r in replies] == [200, 200, 200]
    [sms] = wait_for_sms(fake, caller)
    assert "ACME-PLUMBING" in sms.body
    # Only once the worker has finished every text the three callbacks queued does "no second
    # text" mean anything: those outbox rows are done and the message carries Twilio's sid.
    wait_until(lambda: texts_done(db, tenant_id), "the worker finishes the queued texts")
    assert texts_in_flight(db, tenant_id) == (1, 0)
    assert messages_to(db, caller) == [("queued", sms.sid)]
    assert len([m for m in fake.messages if m.to == caller]) == 1

    # Twilio then calls the StatusCallback it was given: out of order and duplicated.
    path_and_query = sms.status_callback.removeprefix(base_url)
    for status in ["delivered", "sent", "delivered"]:
        params = {
            "MessageSid": sms.sid,
            "MessageStatus": status,
            "From": number,
            "To": caller,
            "AccountSid": ACCOUNT_SID,
        }
        assert post_signed(base_url, path_and_query, params).status_code == 200

    assert messages_to(db, caller) == [("delivered", sms.sid)]


def test_pending_tenant_texts_go_out_when_approved(stack, fake, db) -> None:
    base_url, env = stack
    tenant_id, number = onboard(env, approve=False)
    caller = caller_number()

    reply = post_signed(
        base_url,
        "/webhooks/twilio/voice/status",
        {"CallSid": call_sid(), "CallStatus": "busy", "From": caller, "To": number},
    )
    assert reply.status_code == 200
    # The worker has taken the text-back, held it (compliance pending) and finished its outbox
    # row: only now can "nothing was sent" be told apart from "not sent yet".
    wait_until(lambda: messages_to(db, caller) == [("held", None)], "the text-back is held")
    wait_until(lambda: texts_done(db, tenant_id), "the worker finishes the queued text")
    assert [m for m in fake.messages if m.to == caller] == []

    assert nmc("compliance", "approve", tenant_id, env=env).returncode == 0
    assert len(wait_for_sms(fake, caller)) == 1


def test_incoming_call_is_forwarded_and_unsigned_requests_are_refused(stack) -> None:
    base_url, env = stack
    _, number = onboard(env, approve=True)
    params = {"CallSid": call_sid(), "From": caller_number(), "To": number, "CallStatus": "ringing"}

    forwarded = post_signed(base_url, "/webhooks/twilio/voice", params)
    unsigned = httpx.post(base_url + "/webhooks/twilio/voice", data=params)

    assert forwarded.status_code == 200
    assert "<Dial" in forwarded.text
    assert unsigned.status_code == 401
