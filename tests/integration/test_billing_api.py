"""Billing through the real app (bootstrap, PostgreSQL) with Stripe pointed at FakeStripe:
checkout, the portal, GET /v1/billing, and Stripe's webhooks (signed with the SDK's scheme)
re-read by an in-process worker, however late, duplicated or out of order they come."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_adapters.postgres.billing.tables import subscriptions
from nmc_adapters.settings import Settings
from nmc_worker.bootstrap import build_worker
from nmc_worker.handlers import retry_policies
from tests.support.api import (
    OWNER,
    Caller,
    api_client,
    api_settings,
    new_tenant,
    problem,
    tech_of,
    token_for,
)
from tests.support.billing import (
    APP_BASE_URL,
    CHANGED,
    PRICE_ID,
    SYNC,
    Mirror,
    event_rows,
    mirror_of,
    new_ids,
    stripe_settings,
    subscription_event,
    topic_payloads,
    topic_rows,
)
from tests.support.fake_stripe import FakeStripe, signed_event
from tests.support.tenants import onboard
from tests.support.twilio import ACCOUNT_SID, PUBLIC_BASE_URL, sign
from tests.support.waiting import eventually, running

WEBHOOK = "/webhooks/stripe"
FAST_RETRIES = retry_policies(base_seconds=0.01, cap_seconds=0.05)
PERIOD_END = datetime(2031, 3, 14, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


@pytest.fixture(scope="module")
def settings(database_url: str, fake: FakeStripe) -> Settings:
    return stripe_settings(api_settings(database_url), fake)


@pytest.fixture(scope="module")
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with api_client(settings) as client:
        yield client


@pytest.fixture(scope="module")
async def unbilled(database_url: str) -> AsyncIterator[AsyncTestClient]:
    """The same app and database without any Stripe setting (self-hosting, `nmc dev`)."""
    async with api_client(api_settings(database_url)) as client:
        yield client


@pytest.fixture
def new_uow(engine: AsyncEngine):
    return lambda: PgUnitOfWork(engine)


@pytest.fixture
async def acme(client, new_uow) -> tuple[uuid.UUID, Caller]:
    tenant, owner = await new_tenant(client, new_uow)
    return tenant.id, owner


async def post_event(client: AsyncTestClient, signed: tuple[bytes, str]) -> httpx.Response:
    body, header = signed
    return await client.post(
        WEBHOOK,
        content=body,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def event_id(signed: tuple[bytes, str]) -> str:
    return str(json.loads(signed[0])["id"])


async def drain(settings: Settings, admin_engine: AsyncEngine, tenant_id: uuid.UUID) -> None:
    """Run a worker until every sync the tenant's events asked for is done (none dead)."""

    async def synced() -> bool:
        rows = await topic_rows(admin_engine, tenant_id, SYNC)
        dead = [row.last_error for row in rows if row.dead_at is not None]
        assert dead == [], dead
        return bool(rows) and all(row.dispatched_at is not None for row in rows)

    worker = build_worker(settings, policies=FAST_RETRIES, rng=random.Random(7))
    async with running(worker):
        await eventually(synced, within=15)


def subscribe_at_fake(
    fake: FakeStripe, tenant_id: uuid.UUID, status: str = "active", **fields: Any
) -> tuple[str, str]:
    """A customer with a subscription naming the tenant (as our checkout makes them)."""
    customer, sub = new_ids()
    fake.set_subscription(
        sub,
        customer=customer,
        status=status,
        current_period_end=fields.pop("current_period_end", PERIOD_END),
        metadata={"tenant_id": str(tenant_id)},
        **fields,
    )
    return customer, sub


def sessions_of(fake: FakeStripe, tenant_id: uuid.UUID) -> list:
    return [s for s in fake.checkout_sessions if s.params["client_reference_id"] == str(tenant_id)]


async def db_now(admin_engine: AsyncEngine) -> datetime:
    """The database's clock (the one the mirror's times come from)."""
    async with admin_engine.connect() as conn:
        return (await conn.execute(select(func.now()))).scalar_one()


async def status_since_of(admin_engine: AsyncEngine, tenant_id: uuid.UUID) -> datetime:
    query = select(subscriptions.c.status_since).where(subscriptions.c.tenant_id == tenant_id)
    async with admin_engine.connect() as conn:
        since: datetime = (await conn.execute(query)).scalar_one()
    return since


# --- checkout and the portal -------------------------------------------------------------------


async def test_checkout_makes_a_subscription_session_for_the_plan_and_the_tenant(
    acme, fake
) -> None:
    tenant_id, owner = acme

    response = await owner.post("/v1/billing/checkout")

    assert response.status_code == 201, response.text
    [session] = sessions_of(fake, tenant_id)
    assert response.json() == {"url": session.url}
    assert session.params == {
        "mode": "subscription",
        "line_items": [{"price": PRICE_ID, "quantity": "1"}],
        "client_reference_id": str(tenant_id),
        "metadata": {"tenant_id": str(tenant_id)},
        "subscription_data": {"metadata": {"tenant_id": str(tenant_id)}},
        "customer_email": OWNER,
        "success_url": f"{APP_BASE_URL}/app/billing?checkout=success",
        "cancel_url": f"{APP_BASE_URL}/app/billing?checkout=canceled",
    }
    assert session.idempotency_key


async def test_the_same_idempotency_key_makes_one_session(acme, fake) -> None:
    tenant_id, owner = acme

    def post(key: str) -> Any:
        return owner.client.post(
            "/v1/billing/checkout", headers={**owner.headers, "Idempotency-Key": key}
        )

    first, again, other = [await post(key) for key in ("click-a", "click-a", "click-b")]

    assert [r.status_code for r in (first, again, other)] == [201, 201, 201]
    assert first.json() == again.json()
    assert other.json() != first.json()
    assert len(sessions_of(fake, tenant_id)) == 2


async def test_a_double_click_without_a_key_makes_one_session(client, new_uow, fake) -> None:
    # The key falls back to a ten-minute window: redo the pair on a fresh tenant in the rare
    # case the two clicks straddle a window's edge.
    for _ in range(3):
        tenant, owner = await new_tenant(client, new_uow)
        window = int(time.time()) // 600
        first = await owner.post("/v1/billing/checkout")
        second = await owner.post("/v1/billing/checkout")
        if int(time.time()) // 600 == window:
            break

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert len(sessions_of(fake, tenant.id)) == 1


async def test_checkout_while_stripe_fails_is_502_and_a_retry_makes_one_session(acme, fake) -> None:
    tenant_id, owner = acme
    fake.fail_next(1, status=500)

    def post() -> Any:
        return owner.client.post(
            "/v1/billing/checkout", headers={**owner.headers, "Idempotency-Key": "click-1"}
        )

    try:
        failed = await post()
    finally:
        fake.clear_faults()
    retried = await post()

    assert problem(failed, 502)["detail"].startswith("Stripe: could not create a Checkout")
    assert retried.status_code == 201, retried.text
    assert len(sessions_of(fake, tenant_id)) == 1


async def test_a_tech_may_read_the_plan_but_not_buy_or_manage_it(
    client, new_uow, acme, fake
) -> None:
    tenant_id, _ = acme
    tech = await tech_of(client, new_uow, tenant_id, "dana@acme-plumbing.example")

    status = await tech.get("/v1/billing")
    checkout = await tech.post("/v1/billing/checkout")
    portal = await tech.post("/v1/billing/portal")

    assert status.status_code == 200, status.text
    assert status.json() == {
        "status": None,
        "plan": None,
        "current_period_end": None,
        "cancel_at_period_end": False,
        "entitled": False,
        "banner": "No plan yet: subscribe to start texting back",
    }
    problem(checkout, 403)
    problem(portal, 403)
    assert sessions_of(fake, tenant_id) == []


async def test_the_portal_before_any_checkout_is_404(acme, fake) -> None:
    _, owner = acme
    before = len(fake.portal_sessions)

    response = await owner.post("/v1/billing/portal")

    problem(response, 404)
    assert len(fake.portal_sessions) == before


async def test_a_completed_checkout_makes_the_mirror_and_then_the_portal_and_customer_work(
    client, settings, admin_engine, acme, fake
) -> None:
    tenant_id, owner = acme
    assert (await owner.post("/v1/billing/checkout")).status_code == 201
    [session] = sessions_of(fake, tenant_id)
    completed = fake.complete_checkout(session.id, current_period_end=PERIOD_END)
    signed = fake.signed_event("checkout.session.completed", completed)

    answer = await post_event(client, signed)

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"outcome": "sync_queued"}
    customer, sub = completed["customer"], completed["subscription"]
    # The mirror knows the customer at once; Stripe's state arrives with the worker.
    assert await mirror_of(admin_engine, tenant_id) == Mirror(
        customer, sub, None, None, None, False
    )
    await drain(settings, admin_engine, tenant_id)
    assert await mirror_of(admin_engine, tenant_id) == Mirror(
        customer, sub, "active", PRICE_ID, PERIOD_END, False
    )

    portal = await owner.post("/v1/billing/portal")
    again = await owner.post("/v1/billing/checkout", None)

    assert portal.status_code == 200, portal.text
    [made] = [p for p in fake.portal_sessions if p["customer"] == customer]
    assert portal.json() == {"url": made["url"]}
    assert made["return_url"] == f"{APP_BASE_URL}/app/billing"
    assert again.status_code == 201, again.text
    latest = sessions_of(fake, tenant_id)[-1]
    assert latest.params["customer"] == customer
    assert "customer_email" not in latest.params


# --- without Stripe ----------------------------------------------------------------------------


async def test_without_stripe_the_billing_routes_are_404_not_configured(
    unbilled, new_uow, admin_engine
) -> None:
    tenant, owner = await new_tenant(unbilled, new_uow)
    customer, sub = new_ids()

    answers = [
        await owner.get("/v1/billing"),
        await owner.post("/v1/billing/checkout"),
        await owner.post("/v1/billing/portal"),
    ]
    signed = signed_event(
        "customer.subscription.updated",
        {"id": sub, "customer": customer, "metadata": {"tenant_id": str(tenant.id)}},
    )
    hook = await post_event(unbilled, signed)

    for response in answers:
        assert problem(response, 404)["detail"] == "billing is not configured"
    assert hook.status_code == 404
    assert await event_rows(admin_engine, event_id(signed)) == 0
    assert await topic_rows(admin_engine, tenant.id, SYNC) == []


# --- Stripe's webhooks -------------------------------------------------------------------------


async def test_an_event_replayed_five_times_changes_the_mirror_once(
    client, settings, admin_engine, acme, fake
) -> None:
    tenant_id, _ = acme
    customer, sub = subscribe_at_fake(fake, tenant_id, "active")
    created = subscription_event(fake, "customer.subscription.created", sub)
    assert (await post_event(client, created)).json() == {"outcome": "sync_queued"}
    await drain(settings, admin_engine, tenant_id)
    fake.set_subscription(
        sub, customer=customer, status="past_due", current_period_end=PERIOD_END,
        metadata={"tenant_id": str(tenant_id)},
    )  # fmt: skip
    updated = subscription_event(fake, "customer.subscription.updated", sub)

    answers = [await post_event(client, updated) for _ in range(5)]

    assert [a.status_code for a in answers] == [200] * 5
    assert [a.json()["outcome"] for a in answers] == ["sync_queued"] + ["duplicate"] * 4
    assert await event_rows(admin_engine, event_id(updated)) == 1
    syncs = await topic_payloads(admin_engine, tenant_id, SYNC)
    assert [p["stripe_event_id"] for p in syncs] == [event_id(created), event_id(updated)]
    await drain(settings, admin_engine, tenant_id)
    mirror = await mirror_of(admin_engine, tenant_id)
    assert mirror == Mirror(customer, sub, "past_due", PRICE_ID, PERIOD_END, False)
    changes = await topic_payloads(admin_engine, tenant_id, CHANGED)
    assert [(c["previous_status"], c["status"]) for c in changes] == [
        (None, "active"),
        ("active", "past_due"),
    ]


async def test_updated_before_created_ends_at_stripes_final_state(
    client, settings, admin_engine, acme, fake
) -> None:
    tenant_id, _ = acme
    customer, sub = subscribe_at_fake(fake, tenant_id, "active", cancel_at_period_end=True)
    # What each event carried when Stripe sent it: created said incomplete, updated active.
    created = subscription_event(fake, "customer.subscription.created", sub, status="incomplete")
    updated = subscription_event(
        fake, "customer.subscription.updated", sub, cancel_at_period_end=False
    )

    outcomes = [(await post_event(client, e)).json()["outcome"] for e in (updated, created)]

    assert outcomes == ["sync_queued", "sync_queued"]
    await drain(settings, admin_engine, tenant_id)
    assert await mirror_of(admin_engine, tenant_id) == Mirror(
        customer, sub, "active", PRICE_ID, PERIOD_END, True
    )
    changes = await topic_payloads(admin_engine, tenant_id, CHANGED)
    assert [(c["previous_status"], c["status"]) for c in changes] == [(None, "active")]


async def test_a_late_update_after_the_deletion_leaves_the_mirror_canceled(
    client, settings, admin_engine, acme, fake
) -> None:
    tenant_id, _ = acme
    customer, sub = subscribe_at_fake(fake, tenant_id, "active")
    await post_event(client, subscription_event(fake, "customer.subscription.created", sub))
    await drain(settings, admin_engine, tenant_id)
    stale_update = subscription_event(
        fake,
        "customer.subscription.updated",
        sub,
        timestamp=int(time.time()) - 60,
    )
    fake.set_subscription(
        sub, customer=customer, status="canceled", current_period_end=PERIOD_END,
        metadata={"tenant_id": str(tenant_id)},
    )  # fmt: skip
    deleted = subscription_event(fake, "customer.subscription.deleted", sub)

    outcomes = [(await post_event(client, e)).json()["outcome"] for e in (deleted, stale_update)]

    assert outcomes == ["sync_queued", "sync_queued"]
    await drain(settings, admin_engine, tenant_id)
    assert await mirror_of(admin_engine, tenant_id) == Mirror(
        customer, sub, "canceled", PRICE_ID, PERIOD_END, False
    )
    changes = await topic_payloads(admin_engine, tenant_id, CHANGED)
    assert [(c["previous_status"], c["status"]) for c in changes] == [
        (None, "active"),
        ("active", "canceled"),
    ]


async def test_a_signature_older_than_300_seconds_is_400_and_nothing_is_stored(
    client, admin_engine, acme, fake
) -> None:
    tenant_id, _ = acme
    _, sub = subscribe_at_fake(fake, tenant_id)
    stale = subscription_event(
        fake, "customer.subscription.updated", sub, timestamp=int(time.time()) - 301
    )
    fresh_enough = subscription_event(
        fake, "customer.subscription.updated", sub, timestamp=int(time.time()) - 240
    )

    refused = await post_event(client, stale)
    accepted = await post_event(client, fresh_enough)

    assert refused.status_code == 400, refused.text
    assert "older than" in refused.text
    assert await event_rows(admin_engine, event_id(stale)) == 0
    assert accepted.status_code == 200, accepted.text
    syncs = await topic_payloads(admin_engine, tenant_id, SYNC)
    assert [p["stripe_event_id"] for p in syncs] == [event_id(fresh_enough)]


async def test_a_tampered_or_unsigned_event_is_400_and_nothing_is_stored(
    client, admin_engine, acme, fake
) -> None:
    tenant_id, _ = acme
    _, sub = subscribe_at_fake(fake, tenant_id, "past_due")
    body, header = subscription_event(fake, "customer.subscription.updated", sub)
    tampered = body.replace(b'"past_due"', b'"active"')
    assert tampered != body
    not_ours = "whsec_AnotherEndpointOfAcme"  # pragma: allowlist secret
    wrong_secret = fake.signed_event(
        "customer.subscription.updated", fake.subscription_json(sub), secret=not_ours
    )

    answers = [
        await post_event(client, (tampered, header)),
        await client.post(WEBHOOK, content=body, headers={"Content-Type": "application/json"}),
        await post_event(client, wrong_secret),
    ]

    assert [a.status_code for a in answers] == [400, 400, 400]
    assert await event_rows(admin_engine, event_id((body, header))) == 0
    assert await event_rows(admin_engine, event_id(wrong_secret)) == 0
    assert await topic_rows(admin_engine, tenant_id, SYNC) == []
    assert await mirror_of(admin_engine, tenant_id) is None


async def test_an_event_nobody_claims_is_remembered_and_changes_nothing(
    client, admin_engine, fake
) -> None:
    customer, sub = new_ids()
    fake.set_subscription(sub, customer=customer, metadata={})
    signed = subscription_event(fake, "customer.subscription.updated", sub)

    first = await post_event(client, signed)
    again = await post_event(client, signed)

    assert first.json() == {"outcome": "unknown_tenant"}
    assert again.json() == {"outcome": "duplicate"}
    assert await event_rows(admin_engine, event_id(signed)) == 1


async def test_a_failed_payment_shows_past_due_with_the_card_banner(
    client, settings, admin_engine, acme, fake
) -> None:
    tenant_id, owner = acme
    # Stripe moved the period on a month when it made the renewal invoice, then the payment
    # failed: the week's grace counts from when the worker saw past_due, not from that end.
    period_end = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    _, sub = subscribe_at_fake(fake, tenant_id, "past_due", current_period_end=period_end)
    signed = fake.signed_event("invoice.payment_failed", fake.invoice_json(sub, paid=False))
    before = await db_now(admin_engine)

    answer = await post_event(client, signed)

    assert answer.json() == {"outcome": "sync_queued"}
    await drain(settings, admin_engine, tenant_id)
    after = await db_now(admin_engine)
    since = await status_since_of(admin_engine, tenant_id)
    assert before <= since <= after
    response = await owner.get("/v1/billing")
    assert response.status_code == 200, response.text
    body = response.json()
    pay_by = (since + timedelta(days=7)).astimezone(UTC)
    assert body == {
        "status": "past_due",
        "plan": PRICE_ID,
        "current_period_end": body["current_period_end"],
        "cancel_at_period_end": False,
        "entitled": True,
        "banner": f"Payment failed: update your card by {pay_by:%b} {pay_by.day}",
    }
    assert datetime.fromisoformat(body["current_period_end"]) == period_end


async def test_a_late_event_about_a_replaced_subscription_leaves_the_current_one(
    client, settings, admin_engine, acme, fake
) -> None:
    # The owner's first plan was canceled and they subscribed again (same customer): Stripe
    # then retries an old event about the first plan. Stripe's latest state for the tenant
    # is the new, active plan, and the mirror must stay there.
    tenant_id, _ = acme
    customer, old = new_ids()
    _, new = new_ids()
    metadata = {"tenant_id": str(tenant_id)}
    made = int(time.time())
    fake.set_subscription(
        old, customer=customer, status="canceled", current_period_end=PERIOD_END,
        metadata=metadata, created=made - 86_400,
    )  # fmt: skip
    late_deleted = subscription_event(fake, "customer.subscription.deleted", old)
    fake.set_subscription(
        new, customer=customer, status="active", current_period_end=PERIOD_END,
        metadata=metadata, created=made,
    )  # fmt: skip
    await post_event(client, subscription_event(fake, "customer.subscription.created", new))
    await drain(settings, admin_engine, tenant_id)
    assert await mirror_of(admin_engine, tenant_id) == Mirror(
        customer, new, "active", PRICE_ID, PERIOD_END, False
    )

    assert (await post_event(client, late_deleted)).json() == {"outcome": "sync_queued"}
    await drain(settings, admin_engine, tenant_id)

    assert await mirror_of(admin_engine, tenant_id) == Mirror(
        customer, new, "active", PRICE_ID, PERIOD_END, False
    )
    changes = await topic_payloads(admin_engine, tenant_id, CHANGED)
    assert [(c["previous_status"], c["status"]) for c in changes] == [(None, "active")]


# --- what a lapsed plan looks like in the inbox ----------------------------------------------


async def test_a_text_to_a_tenant_without_a_plan_is_kept_and_marked_unanswered(
    client, new_uow
) -> None:
    tenant, number = await onboard(new_uow, name="UNPAID-PLUMBING")
    owner = Caller(client, token_for(tenant.id))
    params = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": "SM" + uuid.uuid4().hex,
        "From": "+14155550142",
        "To": number,
        "Body": "my water heater is leaking",
        "NumMedia": "0",
    }
    path = "/webhooks/twilio/sms"
    signature = sign(PUBLIC_BASE_URL + path, params)
    answered = await client.post(path, data=params, headers={"X-Twilio-Signature": signature})
    assert answered.status_code == 200

    listed = await owner.get("/v1/conversations", state="open")
    assert listed.status_code == 200, listed.text
    [conversation] = [c for c in listed.json()["items"] if c["contact"] == "+14155550142"]
    detail = await owner.get(f"/v1/conversations/{conversation['id']}")
    assert detail.status_code == 200, detail.text
    texts = detail.json()["messages"]
    assert [(m["direction"], m["body"], m["suppressed_reason"]) for m in texts] == [
        ("inbound", "my water heater is leaking", "billing_inactive")
    ]
