"""`nmc billing status|sync TENANT_ID`: the mirror as the operators see it, and its repair from
Stripe (FakeStripe) after it went wrong, against real PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, create_engine, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork, sqlalchemy_url
from nmc_adapters.postgres.billing.tables import subscriptions
from nmc_adapters.postgres.shared.tables import outbox_events
from nmc_domain.billing.model import BillingTerms, Subscription, SubscriptionStatus
from tests.support.billing import CHANGED, PRICE_ID, new_ids, stripe_env
from tests.support.cli import clean_env, nmc_inline
from tests.support.fake_stripe import FakeStripe
from tests.support.tenants import onboard

PERIOD_END = datetime(2031, 3, 14, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


@pytest.fixture(scope="module")
def env(database_url: str, fake: FakeStripe) -> dict[str, str]:
    return clean_env(NMC_DATABASE_URL=database_url, **stripe_env(fake))


@pytest.fixture(scope="module")
def db(database_url: str) -> Iterator[Engine]:
    """The test server's superuser: for looking and for editing the mirror wrong."""
    engine = create_engine(sqlalchemy_url(database_url))
    yield engine
    engine.dispose()


@pytest.fixture
async def acme(engine: AsyncEngine, fake: FakeStripe) -> tuple[uuid.UUID, str, str]:
    """A tenant whose active plan Stripe (the fake) and the mirror agree on."""
    new_uow = lambda: PgUnitOfWork(engine, billing_terms=BillingTerms(enforced=True))  # noqa: E731
    tenant, _ = await onboard(new_uow)
    customer, sub = new_ids()
    fake.set_subscription(
        sub,
        customer=customer,
        status="active",
        current_period_end=PERIOD_END,
        metadata={"tenant_id": str(tenant.id)},
    )
    async with new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.subscriptions.save(
            Subscription(
                tenant_id=tenant.id,
                customer_id=customer,
                subscription_id=sub,
                status=SubscriptionStatus.ACTIVE,
                price_id=PRICE_ID,
                current_period_end=PERIOD_END,
                cancel_at_period_end=False,
                updated_at=datetime.now(UTC),
            )
        )
        await uow.commit()
    return tenant.id, customer, sub


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def mirror_row(db: Engine, tenant_id: uuid.UUID):
    with db.connect() as conn:
        return conn.execute(
            select(subscriptions).where(subscriptions.c.tenant_id == tenant_id)
        ).one()


def changes(db: Engine, tenant_id: uuid.UUID) -> list[tuple[str | None, str | None]]:
    query = (
        select(outbox_events.c.payload)
        .where(outbox_events.c.tenant_id == tenant_id, outbox_events.c.topic == CHANGED)
        .order_by(outbox_events.c.id)
    )
    with db.connect() as conn:
        return [(p["previous_status"], p["status"]) for (p,) in conn.execute(query).all()]


def test_status_json_prints_the_mirror(env, acme) -> None:
    tenant_id, _, _ = acme

    done = nmc_inline("billing", "status", str(tenant_id), "--json", env=env)

    assert done.exit_code == 0, done.stderr
    printed = last_json(done.stdout)
    assert datetime.fromisoformat(printed.pop("current_period_end")) == PERIOD_END
    assert printed == {
        "tenant_id": str(tenant_id),
        "status": "active",
        "plan": PRICE_ID,
        "cancel_at_period_end": False,
        "entitled": True,
        "banner": None,
    }


def test_status_says_it_in_a_line_for_people(env, acme) -> None:
    tenant_id, _, _ = acme

    done = nmc_inline("billing", "status", str(tenant_id), env=env)

    assert done.exit_code == 0, done.stderr
    assert done.stdout.strip() == f"tenant {tenant_id}: active; entitled; renews 2031-03-14"


@pytest.mark.parametrize("command", ["status", "sync"])
def test_a_tenant_id_that_is_no_uuid_is_exit_2_naming_it(env, command: str) -> None:
    done = nmc_inline("billing", command, "acme-plumbing", env=env)

    assert done.exit_code == 2
    assert done.stderr == "nmc: error: tenant id 'acme-plumbing' is not a UUID\n"
    assert done.stdout == ""


def test_an_unknown_tenant_is_exit_2_naming_it(env) -> None:
    nobody = uuid.uuid4()

    done = nmc_inline("billing", "status", str(nobody), env=env)

    assert done.exit_code == 2
    assert done.stderr == f"nmc: error: no tenant with id {nobody}\n"


@pytest.mark.parametrize("command", ["status", "sync"])
def test_without_stripe_settings_billing_is_not_configured(
    database_url, acme, command: str
) -> None:
    tenant_id, _, _ = acme

    done = nmc_inline(
        "billing", command, str(tenant_id), env=clean_env(NMC_DATABASE_URL=database_url)
    )

    assert done.exit_code == 2
    assert done.stderr.startswith("nmc: error: billing is not configured")


def test_sync_repairs_a_mirror_edited_wrong_to_stripes_state(env, db, acme, fake) -> None:
    tenant_id, customer, sub = acme
    with db.begin() as conn:
        conn.execute(
            update(subscriptions)
            .where(subscriptions.c.tenant_id == tenant_id)
            .values(
                subscription_id="sub_EditedWrong0",
                status="canceled",
                price_id=None,
                current_period_end=None,
                cancel_at_period_end=True,
            )
        )
    wrong = nmc_inline("billing", "status", str(tenant_id), "--json", env=env)
    assert (last_json(wrong.stdout)["status"], last_json(wrong.stdout)["entitled"]) == (
        "canceled",
        False,
    )

    done = nmc_inline("billing", "sync", str(tenant_id), "--json", env=env)

    assert done.exit_code == 0, done.stderr
    printed = last_json(done.stdout)
    assert (printed["status"], printed["plan"], printed["entitled"]) == ("active", PRICE_ID, True)
    assert printed["cancel_at_period_end"] is False
    row = mirror_row(db, tenant_id)
    assert (row.customer_id, row.subscription_id, row.status, row.price_id) == (
        customer,
        sub,
        "active",
        PRICE_ID,
    )
    assert (row.current_period_end, row.cancel_at_period_end) == (PERIOD_END, False)
    assert changes(db, tenant_id) == [("canceled", "active")]


def test_sync_of_a_mirror_already_right_changes_nothing(env, db, acme) -> None:
    tenant_id, _, _ = acme
    before = mirror_row(db, tenant_id)

    done = nmc_inline("billing", "sync", str(tenant_id), "--json", env=env)

    assert done.exit_code == 0, done.stderr
    assert last_json(done.stdout)["status"] == "active"
    assert mirror_row(db, tenant_id) == before
    assert changes(db, tenant_id) == []


def test_sync_while_stripe_fails_is_exit_2_and_leaves_the_mirror(env, db, acme, fake) -> None:
    tenant_id, _, _ = acme
    before = mirror_row(db, tenant_id)
    fake.fail_next(1, status=500)

    try:
        done = nmc_inline("billing", "sync", str(tenant_id), env=env)
    finally:
        fake.clear_faults()

    assert done.exit_code == 2
    # The sync asks for the customer's newest subscription first: that call fails.
    assert done.stderr.startswith(
        "nmc: error: could not list the customer's subscriptions: APIError, HTTP 500"
    )
    assert len(done.stderr.splitlines()) == 1  # one line, no traceback
    assert "sk_test_" not in done.stderr
    assert mirror_row(db, tenant_id) == before
