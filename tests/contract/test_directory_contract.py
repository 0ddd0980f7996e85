"""Directory contracts: users, catalog items and quotes of the tenant API (fakes and PostgreSQL)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable, Sequence
from uuid import UUID

import attrs
import pytest

from nmc_domain.catalog.model import ServiceItem, change_service_item, name_key
from nmc_domain.catalog.quotes import Quote, quote_for
from nmc_domain.identity.model import Role, User
from nmc_domain.shared.errors import Conflict
from nmc_domain.shared.pages import PageKey
from nmc_domain.shared.ports import RowLock
from nmc_domain.unit_of_work import UnitOfWork
from tests.contract.backends import Backend
from tests.contract.builders import a_user, an_item, stored_tenant

# Out of order on purpose, and an order that the raw names would not give: "ac repair" sorts
# first by name_key, but after every capitalised name by the name itself.
CATALOG = ["Furnace Tune-Up", "ac repair", "Water Heater Flush", "Boiler Service", "drain CLEANING"]
STAFF = ["eve", "ava", "dan", "ben", "cleo"]


async def _add(backend: Backend, tenant_id: UUID, *rows: User | ServiceItem) -> None:
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant_id)
        for row in rows:
            await (uow.users.add(row) if isinstance(row, User) else uow.catalog.add(row))
        await uow.commit()


Step = Callable[[UnitOfWork], Awaitable[None]]


async def _conflict(backend: Backend, tenant_id: UUID, *steps: Step) -> Conflict:
    """Run the steps in one unit of work, which must end in a Conflict (and so roll back)."""

    async def run() -> None:
        async with backend.new_uow() as uow:
            await uow.bind_tenant(tenant_id)
            for step in steps:
                await step(uow)

    with pytest.raises(Conflict) as raised:
        await run()
    return raised.value


async def _walk(uow: UnitOfWork, tenant_id: UUID, *, users: bool) -> list[list[PageKey]]:
    """Every page of 2, as keys, following each page's last key."""
    pages: list[list[PageKey]] = []
    after: PageKey | None = None
    while True:
        rows: Sequence[User | ServiceItem]
        if users:
            rows = await uow.users.page(tenant_id, after, 2)
            keys = [(row.email, row.id) for row in rows]
        else:
            rows = await uow.catalog.page(tenant_id, after, 2)
            keys = [(name_key(row.name), row.id) for row in rows]
        if not keys:
            return pages
        assert after is None or all(key > after for key in keys)  # strictly after the key
        pages.append(keys)
        after = keys[-1]


# --- users ---------------------------------------------------------------------------------


async def test_a_user_round_trips_through_add_lookups_and_save(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    user = a_user(tenant.id, "owner@acme-plumbing.example", role="OWNER", subject="auth0|ACME-1")
    await _add(backend, tenant.id, user)

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.users.get(tenant.id, user.id) == user
        assert await uow.users.get(tenant.id, user.id, lock=RowLock.UPDATE) == user
        assert await uow.users.by_subject(tenant.id, "auth0|ACME-1") == user
        assert await uow.users.by_email(tenant.id, "owner@acme-plumbing.example") == user
        assert await uow.users.by_subject(tenant.id, "auth0|NOBODY") is None
        assert await uow.users.by_email(tenant.id, "nobody@acme-plumbing.example") is None
        changed = attrs.evolve(
            user, subject="auth0|ACME-2", email="boss@acme-plumbing.example", role=Role.TECH
        ).deactivated()
        await uow.users.save(changed)
        assert await uow.users.get(tenant.id, user.id) == changed  # own writes read back
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.users.get(tenant.id, user.id) == changed
        assert await uow.users.by_subject(tenant.id, "auth0|ACME-1") is None
        assert await uow.users.by_email(tenant.id, "boss@acme-plumbing.example") == changed


@pytest.mark.parametrize("committed", [True, False], ids=["committed", "staged"])
@pytest.mark.parametrize("field", ["subject", "email"])
async def test_a_taken_subject_or_email_is_a_conflict(
    backend: Backend, field: str, committed: bool
) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    first = a_user(tenant.id, "dispatch@acme-plumbing.example", subject="auth0|DISPATCH")
    if field == "subject":
        second = a_user(tenant.id, "second@acme-plumbing.example", subject=first.subject)
    else:
        second = a_user(tenant.id, first.email, subject="auth0|SECOND")
    if committed:
        await _add(backend, tenant.id, first)

    staged: list[Step] = [] if committed else [lambda uow: uow.users.add(first)]
    conflict = await _conflict(backend, tenant.id, *staged, lambda uow: uow.users.add(second))
    assert conflict.field == field

    # Nothing of the failed unit of work is stored, not even what came before the clash.
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.users.get(tenant.id, second.id) is None
        assert (await uow.users.get(tenant.id, first.id) is not None) is committed


async def test_saving_onto_another_users_email_is_a_conflict(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    ava = a_user(tenant.id, "ava@acme-plumbing.example")
    ben = a_user(tenant.id, "ben@acme-plumbing.example")
    await _add(backend, tenant.id, ava, ben)

    taking = attrs.evolve(ben, email=ava.email)
    conflict = await _conflict(backend, tenant.id, lambda uow: uow.users.save(taking))
    assert conflict.field == "email"
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.users.get(tenant.id, ben.id) == ben


async def test_the_same_user_may_belong_to_two_tenants(backend: Backend) -> None:
    acme, _ = await stored_tenant(backend.new_uow)
    spark, _ = await stored_tenant(backend.new_uow, "BRIGHT-SPARK-ELECTRIC")
    at_acme = a_user(acme.id, "sam@contractors.example", subject="auth0|SAM")
    at_spark = a_user(spark.id, "sam@contractors.example", subject="auth0|SAM")
    await _add(backend, acme.id, at_acme)
    await _add(backend, spark.id, at_spark)

    async with backend.new_uow() as uow:
        await uow.bind_tenant(acme.id)
        assert await uow.users.by_email(acme.id, "sam@contractors.example") == at_acme
        assert await uow.users.get(acme.id, at_spark.id) is None
        await uow.bind_tenant(spark.id)
        assert await uow.users.by_subject(spark.id, "auth0|SAM") == at_spark


async def test_users_page_by_email_then_id_strictly_after_the_key(backend: Backend) -> None:
    acme, _ = await stored_tenant(backend.new_uow)
    spark, _ = await stored_tenant(backend.new_uow, "BRIGHT-SPARK-ELECTRIC")
    staff = [a_user(acme.id, f"{name}@acme-plumbing.example") for name in STAFF]
    await _add(backend, acme.id, *staff)
    await _add(backend, spark.id, a_user(spark.id, "aaron@bright-spark.example"))

    async with backend.new_uow() as uow:
        await uow.bind_tenant(acme.id)
        pages = await _walk(uow, acme.id, users=True)
        assert await uow.users.page(acme.id, None, 200) == sorted(staff, key=lambda u: u.email)
    assert [len(page) for page in pages] == [2, 2, 1]
    keys = [key for page in pages for key in page]
    assert keys == sorted((user.email, user.id) for user in staff)  # each once, in order


async def test_active_owners_counts_only_active_owners(backend: Backend) -> None:
    acme, _ = await stored_tenant(backend.new_uow)
    spark, _ = await stored_tenant(backend.new_uow, "BRIGHT-SPARK-ELECTRIC")
    owners = [a_user(acme.id, f"{name}@acme-plumbing.example", role="OWNER") for name in STAFF]
    owners[2] = owners[2].deactivated()
    owners[3] = attrs.evolve(owners[3], role=Role.TECH)
    await _add(backend, acme.id, *owners)
    await _add(backend, spark.id, a_user(spark.id, "owner@bright-spark.example", role="OWNER"))

    async with backend.new_uow() as uow:
        await uow.bind_tenant(acme.id)
        assert await uow.users.active_owners(acme.id) == 3
        await uow.users.save(owners[0].deactivated())
        assert await uow.users.active_owners(acme.id) == 2  # the unit of work's own change
        await uow.bind_tenant(spark.id)
        assert await uow.users.active_owners(spark.id) == 1
        assert await uow.users.active_owners(uuid.uuid4()) == 0


# --- catalog -------------------------------------------------------------------------------


async def test_an_item_round_trips_every_field(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    item = attrs.evolve(
        an_item(tenant.id, "Water Heater Flush"),
        aliases=("water heater", "tank flush", "hot water"),
        currency="CAD",
        priority=7,
    )
    await _add(backend, tenant.id, item)

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        found = await uow.catalog.get(tenant.id, item.id, lock=RowLock.SHARE)
        assert found == item
        assert found is not None
        assert isinstance(found.aliases, tuple)
        changed = change_service_item(
            item,
            name="Tankless Water Heater Flush",
            aliases=["tankless", "descale"],
            price_cents=0,
            currency="USD",
            duration_minutes=1440,
            priority=-3,
            active=False,
        )
        await uow.catalog.save(changed)
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.catalog.get(tenant.id, item.id) == changed


@pytest.mark.parametrize("committed", [True, False], ids=["committed", "staged"])
async def test_a_name_equal_but_for_case_and_spaces_is_a_conflict(
    backend: Backend, committed: bool
) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    first = an_item(tenant.id, "Water Heater Flush")
    second = an_item(tenant.id, "water  heater flush")
    if committed:
        await _add(backend, tenant.id, first)

    staged: list[Step] = [] if committed else [lambda uow: uow.catalog.add(first)]
    conflict = await _conflict(backend, tenant.id, *staged, lambda uow: uow.catalog.add(second))
    assert conflict.field == "name"
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.catalog.get(tenant.id, second.id) is None


async def test_renaming_onto_another_items_name_is_a_conflict(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    flush, repair = an_item(tenant.id, "Water Heater Flush"), an_item(tenant.id, "Pipe Repair")
    await _add(backend, tenant.id, flush, repair)

    renamed = change_service_item(repair, name="WATER heater  FLUSH")
    conflict = await _conflict(backend, tenant.id, lambda uow: uow.catalog.save(renamed))
    assert conflict.field == "name"

    # An item may take another spelling of its own name.
    respelled = change_service_item(flush, name="water heater flush")
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.catalog.save(respelled)
        await uow.commit()
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.catalog.get(tenant.id, flush.id) == respelled
        assert await uow.catalog.get(tenant.id, repair.id) == repair


async def test_items_of_another_tenant_are_invisible(backend: Backend) -> None:
    acme, _ = await stored_tenant(backend.new_uow)
    spark, _ = await stored_tenant(backend.new_uow, "BRIGHT-SPARK-ELECTRIC")
    ours = an_item(acme.id, "Water Heater Flush")
    theirs = an_item(spark.id, "Water Heater Flush")  # the same name is fine in another tenant
    await _add(backend, acme.id, ours)
    await _add(backend, spark.id, theirs)

    async with backend.new_uow() as uow:
        await uow.bind_tenant(acme.id)
        assert await uow.catalog.get(acme.id, theirs.id) is None
        assert await uow.catalog.page(acme.id, None, 50) == [ours]
        assert await uow.catalog.active(acme.id) == [ours]
        await uow.bind_tenant(spark.id)
        assert await uow.catalog.get(spark.id, ours.id) is None
        assert await uow.catalog.page(spark.id, None, 50) == [theirs]
        # Saving under the wrong tenant matches no row.
        await uow.catalog.save(attrs.evolve(ours, tenant_id=spark.id, price_cents=1))
        await uow.commit()
    async with backend.new_uow() as uow:
        await uow.bind_tenant(acme.id)
        assert await uow.catalog.get(acme.id, ours.id) == ours


async def test_active_items_come_by_name_key_without_inactive_ones(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    items = [an_item(tenant.id, name) for name in CATALOG]
    items[0] = attrs.evolve(items[0], active=False)
    await _add(backend, tenant.id, *items)

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        found = await uow.catalog.active(tenant.id)
    assert [item.name for item in found] == [
        "ac repair",
        "Boiler Service",
        "drain CLEANING",
        "Water Heater Flush",
    ]


async def test_items_page_by_name_key_then_id_strictly_after_the_key(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    items = [an_item(tenant.id, name, active=name != "Boiler Service") for name in CATALOG]
    random.Random(3).shuffle(items)
    await _add(backend, tenant.id, *items)

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        pages = await _walk(uow, tenant.id, users=False)
    assert [len(page) for page in pages] == [2, 2, 1]  # inactive items are listed too
    assert [key for page in pages for key in page] == sorted(
        (name_key(item.name), item.id) for item in items
    )
    assert pages[0][0][0] == "ac repair"


# --- quotes --------------------------------------------------------------------------------


async def test_a_quote_is_a_snapshot_of_the_price(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    item = an_item(tenant.id, "Water Heater Flush", price_cents=18_900, duration_minutes=90)
    await _add(backend, tenant.id, item)
    quote_id, dropped_id = uuid.uuid4(), uuid.uuid4()
    quote = quote_for(item, item.id)

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.quotes.add(tenant.id, quote_id, quote)
        await uow.commit()
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.quotes.add(tenant.id, dropped_id, quote)  # left without a commit
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.catalog.save(change_service_item(item, price_cents=24_900, currency="CAD"))
        await uow.commit()

    # The quote keeps the price it was given, whatever the catalog says now.
    assert await backend.stored_quote(tenant.id, quote_id) == Quote(
        item_id=item.id, price_cents=18_900, currency="USD", duration_minutes=90
    )
    assert await backend.stored_quote(tenant.id, dropped_id) is None
    assert await backend.stored_quote(uuid.uuid4(), quote_id) is None
