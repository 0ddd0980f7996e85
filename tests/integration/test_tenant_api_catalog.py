"""Tenant API (/v1): the service catalog, matching and quotes, with real tokens and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_adapters.postgres.catalog.tables import catalog_items, quotes
from nmc_adapters.postgres.identity.tables import users
from tests.support.api import (
    Caller,
    add_item,
    api_client,
    api_settings,
    catalog_events,
    new_tenant,
    paginate,
    problem,
    tech_of,
)

ITEMS = "/v1/catalog/items"
MATCH = "/v1/catalog/match"
QUOTES = "/v1/quotes"
ITEM_KEYS = {
    "id",
    "name",
    "aliases",
    "price_cents",
    "currency",
    "duration_minutes",
    "priority",
    "active",
}
FLUSH = {"name": "Water Heater Flush", "price_cents": 18_900, "duration_minutes": 90}


@pytest.fixture(scope="module")
async def client(database_url: str) -> AsyncIterator[AsyncTestClient]:
    async with api_client(api_settings(database_url)) as client:
        yield client


@pytest.fixture
def new_uow(engine: AsyncEngine):
    return lambda: PgUnitOfWork(engine)


@pytest.fixture
async def acme(client, new_uow) -> tuple[uuid.UUID, Caller]:
    """ACME-PLUMBING's id and its OWNER."""
    tenant, owner = await new_tenant(client, new_uow, "ACME-PLUMBING")
    return tenant.id, owner


async def stored_items(admin_engine: AsyncEngine, tenant_id: uuid.UUID) -> dict[str, dict]:
    """The tenant's catalog rows by name, read past row-level security."""
    query = select(catalog_items).where(catalog_items.c.tenant_id == tenant_id)
    async with admin_engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return {row.name: dict(row._mapping) for row in rows}


async def stored_quotes(admin_engine: AsyncEngine, tenant_id: uuid.UUID) -> list[dict]:
    """The tenant's quotes, oldest first."""
    query = (
        select(quotes)
        .where(quotes.c.tenant_id == tenant_id)
        .order_by(quotes.c.created_at, quotes.c.id)
    )
    async with admin_engine.connect() as conn:
        return [dict(row._mapping) for row in (await conn.execute(query)).all()]


async def quote_count(admin_engine: AsyncEngine) -> int:
    async with admin_engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(quotes))).scalar_one()


# --- creating items ------------------------------------------------------------------------------


async def test_an_owner_adds_an_item_with_defaults(client, acme, admin_engine) -> None:
    tenant_id, owner = acme

    response = await owner.post(ITEMS, FLUSH)

    assert response.status_code == 201, response.text
    item = response.json()
    assert set(item) == ITEM_KEYS
    assert item == {
        "id": item["id"],
        "name": "Water Heater Flush",
        "aliases": [],
        "price_cents": 18_900,
        "currency": "USD",
        "duration_minutes": 90,
        "priority": 0,
        "active": True,
    }
    stored = (await stored_items(admin_engine, tenant_id))["Water Heater Flush"]
    assert str(stored["id"]) == item["id"]
    assert (stored["price_cents"], stored["currency"], stored["duration_minutes"]) == (
        18_900,
        "USD",
        90,
    )


async def test_every_field_can_be_given(client, acme) -> None:
    _, owner = acme

    item = await add_item(
        owner,
        "Tankless Water Heater Install",
        aliases=["  Tankless ", "ON-DEMAND HEATER", "tankless", "On-Demand Heater", "  "],
        price_cents=245_000,
        currency="CAD",
        duration_minutes=480,
        priority=7,
        active=False,
    )

    assert item["aliases"] == ["tankless", "on-demand heater"]
    assert (item["price_cents"], item["currency"], item["duration_minutes"]) == (
        245_000,
        "CAD",
        480,
    )
    assert (item["priority"], item["active"]) == (7, False)
    assert (await owner.get(f"{ITEMS}/{item['id']}")).json() == item


async def test_creating_an_item_emits_catalog_updated(client, acme, admin_engine) -> None:
    tenant_id, owner = acme

    item = await add_item(owner, "Sump Pump Replacement")

    events = await catalog_events(admin_engine, tenant_id)
    assert len(events) == 1
    assert events[0]["item_id"] == item["id"]
    assert events[0]["change"] == "created"


@pytest.mark.parametrize("price_cents", [0, 10_000_000])
async def test_price_bounds_are_inclusive(client, acme, price_cents) -> None:
    _, owner = acme

    item = await add_item(owner, "Leak Inspection", price_cents=price_cents)

    assert item["price_cents"] == price_cents


@pytest.mark.parametrize("minutes", [5, 1440])
async def test_duration_bounds_are_inclusive(client, acme, minutes) -> None:
    _, owner = acme

    item = await add_item(owner, "Leak Inspection", duration_minutes=minutes)

    assert item["duration_minutes"] == minutes


@pytest.mark.parametrize(
    "duplicate", ["Water Heater Flush", "water heater flush", "  WATER HEATER FLUSH  "]
)
async def test_a_duplicate_name_is_409_naming_name(client, acme, admin_engine, duplicate) -> None:
    tenant_id, owner = acme
    await add_item(owner, "Water Heater Flush")

    response = await owner.post(ITEMS, {**FLUSH, "name": duplicate, "price_cents": 1})

    problem(response, 409, field="name")
    stored = await stored_items(admin_engine, tenant_id)
    assert list(stored) == ["Water Heater Flush"]
    assert stored["Water Heater Flush"]["price_cents"] == 18_900
    assert len(await catalog_events(admin_engine, tenant_id)) == 1  # the failed write emits none


async def test_two_tenants_may_sell_the_same_name(client, new_uow) -> None:
    _, acme_owner = await new_tenant(client, new_uow, "ACME-PLUMBING")
    _, bobs_owner = await new_tenant(client, new_uow, "BOBS-HVAC")

    await add_item(acme_owner, "Water Heater Flush")
    await add_item(bobs_owner, "Water Heater Flush")


def without(field: str) -> dict[str, object]:
    return {name: value for name, value in FLUSH.items() if name != field}


def bad(changes: dict[str, object], field: str, case: str) -> object:
    return pytest.param({**FLUSH, **changes}, field, id=case)


BAD_ITEMS = [
    bad({"price_cents": -1}, "price_cents", "price below zero"),
    bad({"price_cents": 10_000_001}, "price_cents", "price above 100k dollars"),
    bad({"price_cents": "189.00"}, "price_cents", "price as text"),
    bad({"price_cents": 189.5}, "price_cents", "price as a fraction"),
    bad({"price_cents": True}, "price_cents", "price as a boolean"),
    bad({"price_cents": None}, "price_cents", "price null"),
    bad({"duration_minutes": 4}, "duration_minutes", "duration 4"),
    bad({"duration_minutes": 1441}, "duration_minutes", "duration 1441"),
    bad({"duration_minutes": "90"}, "duration_minutes", "duration as text"),
    bad({"currency": "XYZ"}, "currency", "currency XYZ"),
    bad({"currency": 840}, "currency", "currency a number"),
    bad({"currency": "USDT"}, "currency", "currency too long"),
    bad({"name": ""}, "name", "name empty"),
    bad({"name": "   "}, "name", "name blank"),
    bad({"name": 42}, "name", "name a number"),
    bad({"name": "Drain " * 30}, "name", "name too long"),
    bad({"aliases": "water heater"}, "aliases", "aliases a string"),
    bad({"aliases": ["water heater", 7]}, "aliases", "alias a number"),
    bad({"priority": "high"}, "priority", "priority as text"),
    bad({"active": "yes"}, "active", "active as text"),
    bad({"colour": "blue"}, "colour", "unknown field"),
    pytest.param(without("name"), "name", id="name missing"),
    pytest.param(without("price_cents"), "price_cents", id="price missing"),
    pytest.param(without("duration_minutes"), "duration_minutes", id="duration missing"),
]


@pytest.mark.parametrize(("body", "field"), BAD_ITEMS)
async def test_a_bad_item_is_422_naming_the_field(client, acme, admin_engine, body, field) -> None:
    tenant_id, owner = acme

    problem(await owner.post(ITEMS, body), 422, field=field)

    assert await stored_items(admin_engine, tenant_id) == {}
    assert await catalog_events(admin_engine, tenant_id) == []


# --- reading items -------------------------------------------------------------------------------


async def test_items_are_listed_by_name_in_pages_without_repeats_or_gaps(client, acme) -> None:
    _, owner = acme
    names = [
        "water heater flush",
        "Drain Cleaning",
        "Sump Pump Replacement",
        "backflow test",
        "Garbage Disposal Install",
        "Leak Inspection",
        "Toilet Repair",
    ]
    for name in names:
        await add_item(owner, name)
    await owner.patch(
        f"{ITEMS}/{(await owner.get(ITEMS)).json()['items'][0]['id']}", {"active": False}
    )

    pages = await paginate(owner, ITEMS, limit=3)

    listed = [item["name"] for page in pages for item in page]
    assert listed == sorted(names, key=str.casefold)  # inactive items are listed too
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [item["active"] for page in pages for item in page].count(False) == 1
    assert all(set(item) == ITEM_KEYS for page in pages for item in page)


async def test_an_empty_catalog_is_an_empty_list(client, acme) -> None:
    _, owner = acme

    assert (await owner.get(ITEMS)).json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(("param", "value"), [("limit", "0"), ("limit", "1000"), ("cursor", "%%")])
async def test_bad_list_parameters_are_422_naming_them(client, acme, param, value) -> None:
    _, owner = acme

    problem(await owner.get(ITEMS, **{param: value}), 422, field=param)


async def test_an_unknown_item_is_404(client, acme) -> None:
    _, owner = acme

    problem(await owner.get(f"{ITEMS}/{uuid.uuid4()}"), 404)
    problem(await owner.patch(f"{ITEMS}/{uuid.uuid4()}", {"price_cents": 100}), 404)


# --- changing items ------------------------------------------------------------------------------


async def test_a_patch_changes_only_the_fields_given(client, acme, admin_engine) -> None:
    tenant_id, owner = acme
    item = await add_item(owner, "Water Heater Flush", aliases=["flush"], priority=3)

    response = await owner.patch(f"{ITEMS}/{item['id']}", {"price_cents": 21_900})

    assert response.status_code == 200, response.text
    assert response.json() == {**item, "price_cents": 21_900}
    assert (await owner.get(f"{ITEMS}/{item['id']}")).json() == {**item, "price_cents": 21_900}
    assert (await stored_items(admin_engine, tenant_id))["Water Heater Flush"]["price_cents"] == (
        21_900
    )
    events = await catalog_events(admin_engine, tenant_id)
    assert [(e["item_id"], e["change"]) for e in events] == [
        (item["id"], "created"),
        (item["id"], "updated"),
    ]


async def test_a_patch_renames_and_cleans_aliases(client, acme) -> None:
    _, owner = acme
    item = await add_item(owner, "Water Heater Flush")

    response = await owner.patch(
        f"{ITEMS}/{item['id']}",
        {"name": "Water Heater Service", "aliases": [" Flush ", "FLUSH", "Descale"]},
    )

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Water Heater Service"
    assert response.json()["aliases"] == ["flush", "descale"]


async def test_a_patch_may_change_the_case_of_its_own_name(client, acme) -> None:
    _, owner = acme
    item = await add_item(owner, "water heater flush")

    response = await owner.patch(f"{ITEMS}/{item['id']}", {"name": "Water Heater Flush"})

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Water Heater Flush"


async def test_active_false_deactivates(client, acme, admin_engine) -> None:
    tenant_id, owner = acme
    item = await add_item(owner, "Water Heater Flush")

    response = await owner.patch(f"{ITEMS}/{item['id']}", {"active": False})

    assert response.status_code == 200, response.text
    assert response.json() == {**item, "active": False}
    assert (await stored_items(admin_engine, tenant_id))["Water Heater Flush"]["active"] is False
    assert (await owner.get(f"{ITEMS}/{item['id']}")).json()["active"] is False


async def test_a_rename_onto_another_items_name_is_409(client, acme, admin_engine) -> None:
    tenant_id, owner = acme
    await add_item(owner, "Drain Cleaning")
    flush = await add_item(owner, "Water Heater Flush")

    response = await owner.patch(f"{ITEMS}/{flush['id']}", {"name": "DRAIN  cleaning"})

    problem(response, 409, field="name")
    assert set(await stored_items(admin_engine, tenant_id)) == {
        "Drain Cleaning",
        "Water Heater Flush",
    }
    assert len(await catalog_events(admin_engine, tenant_id)) == 2  # the two creations only


BAD_PATCHES = [
    pytest.param({"price_cents": -1}, "price_cents", id="price below zero"),
    pytest.param({"price_cents": 10_000_001}, "price_cents", id="price above 100k dollars"),
    pytest.param({"duration_minutes": 4}, "duration_minutes", id="duration 4"),
    pytest.param({"duration_minutes": 1441}, "duration_minutes", id="duration 1441"),
    pytest.param({"currency": "XYZ"}, "currency", id="currency XYZ"),
    pytest.param({"name": ""}, "name", id="name empty"),
    pytest.param({"name": None}, "name", id="name null"),
    pytest.param({"active": None}, "active", id="active null"),
    pytest.param({"priority": "high"}, "priority", id="priority as text"),
    pytest.param({"price_cents": "21900"}, "price_cents", id="price as text"),
    pytest.param({"id": str(uuid.uuid4())}, "id", id="unknown field"),
]


@pytest.mark.parametrize(("changes", "field"), BAD_PATCHES)
async def test_a_bad_patch_is_422_and_changes_nothing(
    client, acme, admin_engine, changes, field
) -> None:
    tenant_id, owner = acme
    item = await add_item(owner, "Water Heater Flush")

    problem(await owner.patch(f"{ITEMS}/{item['id']}", changes), 422, field=field)

    assert (await owner.get(f"{ITEMS}/{item['id']}")).json() == item
    assert len(await catalog_events(admin_engine, tenant_id)) == 1


# --- roles ---------------------------------------------------------------------------------------


async def test_a_tech_reads_but_cannot_change_the_catalog(
    client, new_uow, acme, admin_engine
) -> None:
    tenant_id, owner = acme
    item = await add_item(owner, "Water Heater Flush", aliases=["water heater"])
    tech = await tech_of(client, new_uow, tenant_id, "tech.maria@acme-plumbing.example")

    problem(await tech.post(ITEMS, {**FLUSH, "name": "Free Flush", "price_cents": 0}), 403)
    problem(await tech.patch(f"{ITEMS}/{item['id']}", {"price_cents": 0}), 403)
    problem(await tech.patch(f"{ITEMS}/{item['id']}", {"active": False}), 403)

    assert (await tech.get(ITEMS)).json()["items"] == [item]
    assert (await tech.get(f"{ITEMS}/{item['id']}")).json() == item
    matches = (await tech.get(MATCH, q="the water heater is cold")).json()["matches"]
    assert [m["item"]["id"] for m in matches] == [item["id"]]
    quote = await tech.post(QUOTES, {"item_id": item["id"]})
    assert quote.status_code == 201, quote.text
    assert quote.json()["price_cents"] == 18_900
    stored = await stored_items(admin_engine, tenant_id)
    assert list(stored) == ["Water Heater Flush"]
    assert (
        stored["Water Heater Flush"]["price_cents"],
        stored["Water Heater Flush"]["active"],
    ) == (
        18_900,
        True,
    )


async def test_a_tech_promoted_in_the_database_may_write_at_once(
    client, new_uow, acme, admin_engine
) -> None:
    tenant_id, _ = acme
    tech = await tech_of(client, new_uow, tenant_id, "tech.maria@acme-plumbing.example")
    problem(await tech.post(ITEMS, FLUSH), 403)

    async with admin_engine.begin() as conn:
        await conn.execute(
            update(users)
            .where(
                users.c.tenant_id == tenant_id, users.c.email == "tech.maria@acme-plumbing.example"
            )
            .values(role="OWNER")
        )

    assert (await tech.post(ITEMS, FLUSH)).status_code == 201


# --- matching ------------------------------------------------------------------------------------


async def test_match_finds_phrases_as_whole_words_and_says_which(client, acme) -> None:
    _, owner = acme
    repair = await add_item(owner, "Water Heater Repair", aliases=["water heater", "no hot water"])
    await add_item(owner, "Drain Cleaning", aliases=["clogged drain"])

    response = await owner.get(MATCH, q="Hi!! My WATER-HEATER died; the shower is cold...")

    assert response.status_code == 200, response.text
    assert response.json() == {"matches": [{"item": repair, "matched": "water heater"}]}


async def test_an_item_matched_twice_reports_its_longest_phrase(client, acme) -> None:
    _, owner = acme
    repair = await add_item(owner, "Water Heater Repair", aliases=["water heater", "no hot water"])

    response = await owner.get(MATCH, q="water heater broke, NO hot-water since Monday")

    assert response.json() == {"matches": [{"item": repair, "matched": "no hot water"}]}


async def test_match_ignores_partial_words(client, acme) -> None:
    _, owner = acme
    await add_item(owner, "Drain Cleaning", aliases=["drain"])

    response = await owner.get(MATCH, q="drainage problems in the waterheater")

    assert response.json() == {"matches": []}


async def test_the_longer_phrase_wins_over_priority(client, acme) -> None:
    _, owner = acme
    drain = await add_item(owner, "Drain Cleaning", aliases=["drain"], priority=100)
    heater = await add_item(owner, "Water Heater Repair", aliases=["water heater"])

    body = (await owner.get(MATCH, q="the drain is slow and the water heater leaks")).json()

    assert [(m["item"]["id"], m["matched"]) for m in body["matches"]] == [
        (heater["id"], "water heater"),
        (drain["id"], "drain"),
    ]


async def test_equal_phrases_rank_by_priority(client, acme) -> None:
    _, owner = acme
    repair = await add_item(owner, "Water Heater Repair", aliases=["water heater"], priority=0)
    install = await add_item(owner, "Water Heater Install", aliases=["water heater"], priority=5)
    budget = await add_item(owner, "Budget Heater Check", aliases=["water heater"], priority=-3)

    body = (await owner.get(MATCH, q="water heater quote please")).json()

    assert [m["item"]["id"] for m in body["matches"]] == [
        install["id"],
        repair["id"],
        budget["id"],
    ]
    assert {m["matched"] for m in body["matches"]} == {"water heater"}


async def test_an_exact_name_match_ranks_before_an_alias_match(client, acme) -> None:
    _, owner = acme
    # "Plumbing Emergency" sorts before "Toilet" by name: only the name-before-alias rule puts
    # the item named "Toilet" first.
    emergency = await add_item(owner, "Plumbing Emergency", aliases=["toilet"])
    toilet = await add_item(owner, "Toilet")

    body = (await owner.get(MATCH, q="my toilet is overflowing")).json()

    assert [(m["item"]["id"], m["matched"]) for m in body["matches"]] == [
        (toilet["id"], "toilet"),
        (emergency["id"], "toilet"),
    ]


async def test_inactive_items_are_never_matched(client, acme) -> None:
    _, owner = acme
    old = await add_item(owner, "Water Heater Repair", aliases=["water heater"], priority=9)
    new = await add_item(owner, "Water Heater Service", aliases=["water heater"])
    await owner.patch(f"{ITEMS}/{old['id']}", {"active": False})

    body = (await owner.get(MATCH, q="water heater")).json()

    assert [m["item"]["id"] for m in body["matches"]] == [new["id"]]


async def test_match_wants_q(client, acme) -> None:
    _, owner = acme

    problem(await owner.get(MATCH), 422, field="q")


# --- quotes --------------------------------------------------------------------------------------


async def test_a_quote_is_the_items_price_from_the_database(client, acme, admin_engine) -> None:
    tenant_id, owner = acme
    item = await add_item(owner, "Water Heater Flush", currency="CAD", duration_minutes=120)
    # Changed behind the API's back: the quote must read the database, not anything cached.
    async with admin_engine.begin() as conn:
        await conn.execute(
            update(catalog_items)
            .where(catalog_items.c.id == uuid.UUID(item["id"]))
            .values(price_cents=24_900)
        )

    response = await owner.post(QUOTES, {"item_id": item["id"]})

    assert response.status_code == 201, response.text
    body = response.json()
    assert {k: body[k] for k in ("item_id", "price_cents", "currency", "duration_minutes")} == {
        "item_id": item["id"],
        "price_cents": 24_900,
        "currency": "CAD",
        "duration_minutes": 120,
    }
    [stored] = await stored_quotes(admin_engine, tenant_id)
    assert (str(stored["item_id"]), stored["price_cents"], stored["currency"]) == (
        item["id"],
        24_900,
        "CAD",
    )


async def test_a_quote_is_a_snapshot_the_catalog_cannot_move(client, acme, admin_engine) -> None:
    tenant_id, owner = acme
    item = await add_item(owner, "Water Heater Flush", price_cents=18_900)
    first = (await owner.post(QUOTES, {"item_id": item["id"]})).json()

    patched = await owner.patch(
        f"{ITEMS}/{item['id']}", {"price_cents": 29_900, "duration_minutes": 150}
    )
    assert patched.status_code == 200
    second = (await owner.post(QUOTES, {"item_id": item["id"]})).json()

    assert (first["price_cents"], second["price_cents"]) == (18_900, 29_900)
    stored = await stored_quotes(admin_engine, tenant_id)
    assert [(q["price_cents"], q["duration_minutes"]) for q in stored] == [
        (18_900, 90),
        (29_900, 150),
    ]


async def test_quoting_an_inactive_item_is_410(client, acme, admin_engine) -> None:
    tenant_id, owner = acme
    item = await add_item(owner, "Water Heater Flush")
    await owner.patch(f"{ITEMS}/{item['id']}", {"active": False})

    body = problem(await owner.post(QUOTES, {"item_id": item["id"]}), 410)

    assert body["type"].endswith("gone")
    assert await stored_quotes(admin_engine, tenant_id) == []


async def test_quoting_an_unknown_item_is_404(client, acme, admin_engine) -> None:
    tenant_id, owner = acme

    problem(await owner.post(QUOTES, {"item_id": str(uuid.uuid4())}), 404)

    assert await stored_quotes(admin_engine, tenant_id) == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"item_id": "water-heater-flush"}, id="not a uuid"),
        pytest.param({"item_id": 42}, id="a number"),
        pytest.param({}, id="missing"),
    ],
)
async def test_a_bad_quote_request_is_422_naming_item_id(client, acme, body) -> None:
    _, owner = acme

    problem(await owner.post(QUOTES, body), 422, field="item_id")


# --- tenant scoping ------------------------------------------------------------------------------


async def test_another_tenants_item_does_not_exist(client, new_uow, admin_engine) -> None:
    bobs, bobs_owner = await new_tenant(client, new_uow, "BOBS-HVAC")
    furnace = await add_item(
        bobs_owner, "Furnace Tune-Up", aliases=["furnace", "water heater"], price_cents=12_900
    )
    acme, acme_owner = await new_tenant(client, new_uow, "ACME-PLUMBING")
    own = await add_item(acme_owner, "Water Heater Flush", aliases=["water heater"])
    quotes_before = await quote_count(admin_engine)

    got = await acme_owner.get(f"{ITEMS}/{furnace['id']}")
    patched = await acme_owner.patch(f"{ITEMS}/{furnace['id']}", {"price_cents": 1})
    quoted = await acme_owner.post(QUOTES, {"item_id": furnace["id"]})
    listed = await paginate(acme_owner, ITEMS, limit=1)
    matched = await acme_owner.get(MATCH, q="furnace and water heater")

    for response, status in ((got, 404), (patched, 404), (quoted, 404)):
        problem(response, status)
        assert "Furnace" not in response.text
        assert "12900" not in response.text
    assert [item["id"] for page in listed for item in page] == [own["id"]]
    assert [m["item"]["id"] for m in matched.json()["matches"]] == [own["id"]]
    assert await quote_count(admin_engine) == quotes_before
    assert (await stored_items(admin_engine, bobs.id))["Furnace Tune-Up"]["price_cents"] == 12_900
    assert len(await catalog_events(admin_engine, bobs.id)) == 1
    assert len(await catalog_events(admin_engine, acme.id)) == 1
