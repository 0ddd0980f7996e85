"""E2E flow 5 with real processes (API and worker programs, Stripe configured against a local
FakeStripe, Twilio against a local FakeTwilio): the owner's checkout link, Stripe's signed
webhooks, GET /v1/billing, and the plan turning text-backs off and on again."""

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
from nmc_adapters.postgres.telephony.tables import calls
from tests.support.api import token_for
from tests.support.billing import PRICE_ID, SECRET_KEY, WEBHOOK_SECRET, stripe_env
from tests.support.cli import clean_env, nmc
from tests.support.fake_stripe import FakeStripe
from tests.support.fake_twilio import FakeTwilio
from tests.support.processes import Running, free_port
from tests.support.tenants import caller_number, fresh_number
from tests.support.twilio import ACCOUNT_SID, JWT_SECRET, call_sid, dial_action, sign

TOKEN = "e2e-billing-twilio-auth-token"
T = TypeVar("T")


@pytest.fixture(scope="module")
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(account_sid=ACCOUNT_SID, auth_token=TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def stripe() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


@pytest.fixture(scope="module")
def stack(
    database_url: str, twilio: FakeTwilio, stripe: FakeStripe
) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = clean_env(
        NMC_DATABASE_URL=database_url,
        NMC_PUBLIC_BASE_URL=base_url,
        NMC_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        NMC_TWILIO_AUTH_TOKEN=TOKEN,
        NMC_TWILIO_API_BASE=twilio.base_url,
        NMC_JWT_SECRET=JWT_SECRET,
        **stripe_env(stripe),
    )
    api = Running([sys.executable, "-m", "nmc_api", "--port", str(port)], env)
    worker = Running([sys.executable, "-m", "nmc_worker", "--seed", "5"], env)
    try:
        api.wait_for(lambda line: "Application startup complete" in line)
        worker.wait_for(lambda line: "worker.started" in line)
        yield base_url, env
    finally:
        api_code, worker_code = api.stop(), worker.stop()
        # uvicorn re-raises SIGTERM after its graceful shutdown: -15 is a clean exit too.
        assert api_code in (0, -signal.SIGTERM), api.output
        assert worker_code == 0, worker.output
        output = api.output + worker.output
        for secret in (TOKEN, SECRET_KEY, WEBHOOK_SECRET):
            assert secret not in output


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


def onboard(env: dict[str, str]) -> tuple[str, str]:
    number = fresh_number()
    done = nmc(
        "tenant", "onboard", "--name", "ACME-PLUMBING", "--number", number,
        "--forward-to", fresh_number(), "--timezone", "America/Denver",
        "--owner-email", "owner@acme-plumbing.example", "--json",
        env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    tenant_id = json.loads(done.stdout.splitlines()[-1])["tenant_id"]
    assert nmc("compliance", "approve", tenant_id, env=env).returncode == 0
    return tenant_id, number


def post_stripe(base_url: str, signed: tuple[bytes, str]) -> httpx.Response:
    body, header = signed
    return httpx.post(
        base_url + "/webhooks/stripe",
        content=body,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def missed_call(base_url: str, number: str, caller: str) -> None:
    url = base_url + "/webhooks/twilio/voice/dial-status"
    params = dial_action(number, caller, call_sid())
    reply = httpx.post(url, data=params, headers={"X-Twilio-Signature": sign(url, params, TOKEN)})
    assert reply.status_code == 200, reply.text


def sms_to(twilio: FakeTwilio, caller: str) -> list[Any]:
    return [m for m in twilio.messages if m.to == caller]


def call_reasons(db: Engine, tenant_id: str, caller: str) -> list[str | None]:
    query = select(calls.c.reason).where(
        calls.c.tenant_id == uuid.UUID(tenant_id), calls.c.caller == caller
    )
    with db.connect() as conn:
        return [reason for (reason,) in conn.execute(query).all()]


def messages_to(db: Engine, caller: str) -> list[Any]:
    with db.connect() as conn:
        return list(conn.execute(select(messages.c.id).where(messages.c.to_number == caller)))


def texts_done(db: Engine, tenant_id: str) -> bool:
    """Every message.queued.v1 row of the tenant is finished by the worker."""
    rows = outbox_events.c
    query = select(
        func.count(), func.count().filter(rows.dispatched_at.is_(None) & rows.dead_at.is_(None))
    ).where(rows.tenant_id == uuid.UUID(tenant_id), rows.topic == "message.queued.v1")
    with db.connect() as conn:
        total, pending = conn.execute(query).one()
    return total > 0 and pending == 0


def test_the_plan_turns_text_backs_on_off_and_on_again(stack, twilio, stripe, db) -> None:
    base_url, env = stack
    tenant_id, number = onboard(env)
    owner = {"Authorization": f"Bearer {token_for(uuid.UUID(tenant_id))}"}

    def billing() -> dict[str, Any]:
        response = httpx.get(base_url + "/v1/billing", headers=owner)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def billing_is(**expected: object) -> dict[str, Any] | None:
        shown = billing()
        return shown if all(shown[k] == v for k, v in expected.items()) else None

    # Before any plan: not entitled.
    assert billing_is(status=None, entitled=False)

    # The owner gets a checkout link for the plan; the customer pays at Stripe.
    checkout = httpx.post(base_url + "/v1/billing/checkout", headers=owner)
    assert checkout.status_code == 201, checkout.text
    [session] = [
        s for s in stripe.checkout_sessions if s.params["client_reference_id"] == tenant_id
    ]
    assert checkout.json() == {"url": session.url}
    completed = stripe.complete_checkout(session.id)
    customer, sub = completed["customer"], completed["subscription"]
    created = stripe.signed_event("customer.subscription.created", stripe.subscription_json(sub))
    for signed in (stripe.signed_event("checkout.session.completed", completed), created):
        answer = post_stripe(base_url, signed)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"outcome": "sync_queued"}

    shown = wait_until(lambda: billing_is(status="active", entitled=True), "the plan is active")
    assert (shown["plan"], shown["banner"]) == (PRICE_ID, None)

    # Entitled: a missed call is texted back.
    first = caller_number()
    missed_call(base_url, number, first)
    [text_back] = wait_until(lambda: sms_to(twilio, first), "the first text-back")
    assert "ACME-PLUMBING" in text_back.body

    # Stripe cancels the plan: not entitled any more.
    metadata = stripe.subscription_json(sub)["metadata"]
    assert metadata == {"tenant_id": tenant_id}
    stripe.set_subscription(sub, customer=customer, status="canceled", metadata=metadata)
    deleted = stripe.signed_event("customer.subscription.deleted", stripe.subscription_json(sub))
    assert post_stripe(base_url, deleted).status_code == 200
    wait_until(lambda: billing_is(status="canceled", entitled=False), "the plan is canceled")

    # A missed call now is recorded (billing_inactive) and not texted back.
    suppressed = caller_number()
    missed_call(base_url, number, suppressed)
    wait_until(
        lambda: call_reasons(db, tenant_id, suppressed) == ["billing_inactive"],
        "the suppressed call is recorded",
    )
    assert messages_to(db, suppressed) == []  # nothing queued to go out later
    assert sms_to(twilio, suppressed) == []

    # Stripe reactivates the plan: entitled again.
    stripe.set_subscription(sub, customer=customer, status="active", metadata=metadata)
    updated = stripe.signed_event("customer.subscription.updated", stripe.subscription_json(sub))
    assert post_stripe(base_url, updated).status_code == 200
    wait_until(lambda: billing_is(status="active", entitled=True), "the plan is active again")

    # A new missed call is texted back; the suppressed caller never gets a late text.
    third = caller_number()
    missed_call(base_url, number, third)
    assert len(wait_until(lambda: sms_to(twilio, third), "the third text-back")) == 1
    wait_until(lambda: texts_done(db, tenant_id), "the worker finishes every queued text")
    assert sms_to(twilio, suppressed) == []
    assert messages_to(db, suppressed) == []
    assert len(sms_to(twilio, first)) == 1
    assert call_reasons(db, tenant_id, suppressed) == ["billing_inactive"]
