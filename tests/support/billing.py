"""Billing from the outside: Stripe settings pointing at FakeStripe, Stripe's events signed and
built from what the fake holds, and the billing rows of the database (read past row-level
security) for assertions."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres.billing.tables import subscriptions
from nmc_adapters.postgres.shared.tables import outbox_events, webhook_events
from nmc_adapters.settings import Settings
from tests.support.fake_stripe import (
    DEFAULT_PRICE_ID,
    DEFAULT_SECRET_KEY,
    DEFAULT_WEBHOOK_SECRET,
    FakeStripe,
)

__all__ = [
    "APP_BASE_URL",
    "CHANGED",
    "PRICE_ID",
    "SECRET_KEY",
    "SYNC",
    "WEBHOOK_SECRET",
    "Mirror",
    "event_rows",
    "mirror_of",
    "new_ids",
    "stripe_env",
    "stripe_settings",
    "subscription_event",
    "topic_payloads",
    "topic_rows",
]

SECRET_KEY = DEFAULT_SECRET_KEY
WEBHOOK_SECRET = DEFAULT_WEBHOOK_SECRET
PRICE_ID = DEFAULT_PRICE_ID
APP_BASE_URL = "https://app.nmc.example"
SYNC = "billing.subscription_sync_requested.v1"
CHANGED = "billing.subscription_changed.v1"


def stripe_settings(settings: Settings, fake: FakeStripe) -> Settings:
    """`settings` with Stripe configured against the fake (billing enforced)."""
    return attrs.evolve(
        settings,
        stripe_secret_key=SECRET_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_price_id=PRICE_ID,
        stripe_api_base=fake.base_url,
        app_base_url=APP_BASE_URL,
    )


def stripe_env(fake: FakeStripe) -> dict[str, str]:
    """The same, as the processes' environment."""
    return {
        "NMC_STRIPE_SECRET_KEY": SECRET_KEY,
        "NMC_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "NMC_STRIPE_PRICE_ID": PRICE_ID,
        "NMC_STRIPE_API_BASE": fake.base_url,
        "NMC_APP_BASE_URL": APP_BASE_URL,
    }


def new_ids() -> tuple[str, str]:
    """A fresh (customer, subscription) pair of Stripe-shaped ids."""
    return "cus_" + secrets.token_hex(7), "sub_" + secrets.token_hex(12)


def subscription_event(
    fake: FakeStripe, type: str, subscription_id: str, *, timestamp: int | None = None, **obj: Any
) -> tuple[bytes, str]:
    """A signed `customer.subscription.*` event carrying the fake's subscription as it is now,
    with `obj` overriding its fields (an event's own copy may be stale: that is the point)."""
    body = fake.subscription_json(subscription_id) | obj
    return fake.signed_event(type, body, timestamp=timestamp)


@attrs.frozen
class Mirror:
    customer_id: str
    subscription_id: str | None
    status: str | None
    price_id: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool


async def mirror_of(admin_engine: AsyncEngine, tenant_id: UUID) -> Mirror | None:
    """The tenant's row of bill_subscriptions."""
    c = subscriptions.c
    query = select(
        c.customer_id,
        c.subscription_id,
        c.status,
        c.price_id,
        c.current_period_end,
        c.cancel_at_period_end,
    ).where(c.tenant_id == tenant_id)
    async with admin_engine.connect() as conn:
        row = (await conn.execute(query)).one_or_none()
    return None if row is None else Mirror(*row)


async def topic_rows(admin_engine: AsyncEngine, tenant_id: UUID, topic: str) -> list[Any]:
    """The tenant's outbox rows of `topic`, oldest first."""
    query = (
        select(outbox_events)
        .where(outbox_events.c.tenant_id == tenant_id, outbox_events.c.topic == topic)
        .order_by(outbox_events.c.id)
    )
    async with admin_engine.connect() as conn:
        return list((await conn.execute(query)).all())


async def topic_payloads(admin_engine: AsyncEngine, tenant_id: UUID, topic: str) -> list[dict]:
    return [row.payload for row in await topic_rows(admin_engine, tenant_id, topic)]


async def event_rows(admin_engine: AsyncEngine, event_id: str) -> int:
    """How many webhook_events rows Stripe's event `event_id` has."""
    query = (
        select(func.count())
        .select_from(webhook_events)
        .where(webhook_events.c.provider == "stripe", webhook_events.c.event_key == event_id)
    )
    async with admin_engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())
