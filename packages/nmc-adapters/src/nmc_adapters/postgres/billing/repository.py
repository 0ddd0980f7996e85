"""The subscription mirror in PostgreSQL: one row per tenant, found by Stripe's customer too."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from nmc_adapters.postgres.billing.tables import customers, subscriptions
from nmc_adapters.postgres.queries import locks, write_now
from nmc_adapters.postgres.rows import RowMapper
from nmc_adapters.postgres.sql import Transaction, compiled
from nmc_domain.billing.model import Subscription
from nmc_domain.shared.ports import RowLock

__all__ = ["PgSubscriptions"]

ROWS = RowMapper(Subscription)
_GET = locks(select(subscriptions).where(subscriptions.c.tenant_id == bindparam("tenant_id")))
_SAVE = compiled(
    pg_insert(subscriptions)
    .values({c: bindparam(c) for c in ROWS.columns})
    .on_conflict_do_update(
        index_elements=["tenant_id"],
        set_={c: bindparam(c) for c in ROWS.columns if c != "tenant_id"},
    )
)
_CONFLICTS = {"bill_subscriptions_one_per_customer": ("customer_id", "belongs to another tenant")}
_ROUTE_SAVE = compiled(
    pg_insert(customers)
    .values(customer_id=bindparam("customer_id"), tenant_id=bindparam("tenant_id"))
    .on_conflict_do_update(
        index_elements=["tenant_id"], set_={"customer_id": bindparam("customer_id")}
    )
)
# Stripe's events name the customer: bind the transaction to its tenant (or to none) from the
# routing table, which row-level security does not guard, then read the mirror as that tenant.
_ROUTE = (
    b"SELECT now(), set_config('app.tenant_id', COALESCE((SELECT tenant_id::text "
    b"FROM bill_customers WHERE customer_id = %(customer_id)s::text), ''), true)"
)
_BY_CUSTOMER = compiled(
    select(subscriptions).where(subscriptions.c.customer_id == bindparam("customer_id"))
)


class PgSubscriptions:
    """The mirror (`bill_subscriptions`) and its routing rows (`bill_customers`), written
    together."""

    def __init__(self, db: Transaction) -> None:
        self._db = db

    async def get(self, tenant_id: UUID, *, lock: RowLock = RowLock.NONE) -> Subscription | None:
        row = await self._db.one(_GET[lock], {"tenant_id": tenant_id})
        return None if row is None else ROWS.value(row)

    async def by_customer(self, customer_id: str) -> Subscription | None:
        """Binds the transaction to the customer's tenant (to none if no tenant has it)."""
        await self._db.route(_ROUTE, {"customer_id": customer_id})
        row = await self._db.one(_BY_CUSTOMER, {"customer_id": customer_id})
        found = None if row is None else ROWS.value(row)
        self._db.bound(None if found is None else found.tenant_id)
        return found

    async def save(self, subscription: Subscription) -> None:
        """Insert or replace; a customer another tenant has is a Conflict (409)."""
        row = ROWS.row(subscription)
        await write_now(self._db, _SAVE, row, _CONFLICTS)
        await self._db.run(
            _ROUTE_SAVE,
            {"customer_id": subscription.customer_id, "tenant_id": subscription.tenant_id},
        )
