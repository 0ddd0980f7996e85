"""Tenant API (/v1): bad input is a 4xx problem, never a 500 — text fields, cursors, JSON bodies."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_adapters.postgres.catalog.tables import catalog_items
from nmc_adapters.postgres.identity.tables import users
from tests.support.api import (
    OWNER,
    Caller,
    add_item,
    api_client,
    api_settings,
    bearer,
    new_tenant,
    problem,
    tech_of,
)

ITEMS = "/v1/catalog/items"
USERS = "/v1/users"
QUOTES = "/v1/quotes"
MATCH = "/v1/catalog/match"
JSON = {"Content-Type": "application/json"}
MIB = 1024 * 1024
FLUSH = {"name": "Water Heater Flush", "price_cents": 18_900, "duration_minutes": 90}
DISPATCH = "dispatch@acme-plumbing.example"


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


@pytest.fixture
async def tech(client, new_uow, acme) -> Caller:
    """A TECH of ACME-PLUMBING: every check below holds for the least privileged user too."""
    return await tech_of(client, new_uow, acme[0], "mo.tech@acme-plumbing.example")


async def item_names(admin_engine: AsyncEngine, tenant_id: uuid.UUID) -> list[str]:
    query = select(catalog_items.c.name).where(catalog_items.c.tenant_id == tenant_id)
    async with admin_engine.connect() as conn:
        return sorted((await conn.execute(query)).scalars())


async def user_emails(admin_engine: AsyncEngine, tenant_id: uuid.UUID) -> list[str]:
    query = select(users.c.email).where(users.c.tenant_id == tenant_id)
    async with admin_engine.connect() as conn:
        return sorted((await conn.execute(query)).scalars())


async def post_raw(caller: Caller, path: str, body: bytes) -> object:
    return await caller.client.post(path, content=body, headers={**caller.headers, **JSON})


# --- text fields refuse control characters -------------------------------------------------------

# C0 controls and DEL; PostgreSQL cannot store a NUL at all, the rest have no place in a name.
CONTROLS = {
    "NUL": "\x00",
    "tab": "\t",
    "newline": "\n",
    "carriage return": "\r",
    "escape": "\x1b",
    "unit separator": "\x1f",
    "DEL": "\x7f",
}


@pytest.mark.parametrize("control", CONTROLS.values(), ids=list(CONTROLS))
async def test_a_control_character_in_an_item_name_is_422_naming_name(
    acme, admin_engine, control
) -> None:
    tenant_id, owner = acme

    body = problem(await owner.post(ITEMS, {**FLUSH, "name": f"Water{control}Heater"}), 422, "name")

    assert "control character" in body["detail"]
    assert await item_names(admin_engine, tenant_id) == []


@pytest.mark.parametrize("control", CONTROLS.values(), ids=list(CONTROLS))
async def test_a_control_character_in_an_alias_is_422_naming_aliases(
    acme, admin_engine, control
) -> None:
    tenant_id, owner = acme

    response = await owner.post(ITEMS, {**FLUSH, "aliases": ["tank flush", f"tank{control}"]})

    problem(response, 422, "aliases")
    assert await item_names(admin_engine, tenant_id) == []


@pytest.mark.parametrize(
    "changes",
    [{"name": "Flush\x00"}, {"aliases": ["\x00"]}, {"name": "Two\nLines"}],
    ids=["NUL in name", "NUL alias", "newline in name"],
)
async def test_a_patch_with_a_control_character_is_422_and_changes_nothing(acme, changes) -> None:
    _, owner = acme
    item = await add_item(owner, "Water Heater Flush", aliases=["tank flush"])

    problem(await owner.patch(f"{ITEMS}/{item['id']}", changes), 422, next(iter(changes)))

    assert (await owner.get(f"{ITEMS}/{item['id']}")).json() == item


@pytest.mark.parametrize("control", ["\x00", "\n", "\t", "\x7f"], ids=["NUL", "LF", "TAB", "DEL"])
@pytest.mark.parametrize("field", ["email", "subject"])
async def test_a_control_character_in_an_email_or_subject_is_422_naming_it(
    acme, admin_engine, field, control
) -> None:
    tenant_id, owner = acme
    body = {"email": DISPATCH, "role": "TECH", "subject": "auth0|64f1c2"}
    body[field] = f"{body[field][:4]}{control}{body[field][4:]}"

    problem(await owner.post(USERS, body), 422, field)

    assert await user_emails(admin_engine, tenant_id) == [OWNER]


async def test_printable_text_of_any_script_is_still_welcome(acme) -> None:
    _, owner = acme

    item = await add_item(
        owner, "Débouchage d'évier — 水漏れ 🚿", aliases=["évier bouché", "sink / drain"]
    )

    assert item["name"] == "Débouchage d'évier — 水漏れ 🚿"
    assert item["aliases"] == ["évier bouché", "sink / drain"]


async def test_match_text_may_span_lines_but_not_hold_a_nul(acme, tech) -> None:
    _, owner = acme
    await add_item(owner, "Water Heater Flush")

    found = await tech.get(MATCH, q="Hi,\r\nmy water heater flush\tis overdue")
    assert found.status_code == 200, found.text
    assert [m["item"]["name"] for m in found.json()["matches"]] == ["Water Heater Flush"]
    problem(await tech.get(MATCH, q="water heater\x00flush"), 422, "q")
    problem(await tech.get(MATCH, q="x" * 1601), 422, "q")


# --- cursors -------------------------------------------------------------------------------------


def b64(raw: bytes | str) -> str:
    data = raw.encode() if isinstance(raw, str) else raw
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


ROW = str(uuid.uuid4())
CURSORS = {
    "a raw NUL": "\x00",
    "a NUL after a real prefix": b64(json.dumps(["Drain", ROW])) + "\x00",
    "a NUL in the sort key": b64(json.dumps(["Drain\x00", ROW])),
    "a lone surrogate in the sort key": b64('["\\ud800", "' + ROW + '"]'),
    "nested ten thousand deep": b64("[" * 10_000 + "]" * 10_000),
    "nested forty deep": b64("[" * 40 + "]" * 40),
    "an object": b64(json.dumps({"after": "Drain", "id": ROW})),
    "a number as the id": b64(json.dumps(["Drain", 5])),
    "a list as the sort key": b64(json.dumps([["Drain"], ROW])),
    "a number as the sort key": b64(json.dumps([7, ROW])),
    "three members": b64(json.dumps(["Drain", ROW, "x"])),
    "not UTF-8": b64(b'["\xff\xfe", "' + ROW.encode() + b'"]'),
    "very long": "A" * 5000,
    "percent signs": "%%%%",
}


@pytest.mark.parametrize("cursor", CURSORS.values(), ids=list(CURSORS))
async def test_a_bad_catalog_cursor_is_422_naming_cursor_even_for_a_tech(tech, cursor) -> None:
    problem(await tech.get(ITEMS, cursor=cursor), 422, "cursor")


@pytest.mark.parametrize("cursor", CURSORS.values(), ids=list(CURSORS))
async def test_a_bad_users_cursor_is_422_naming_cursor(acme, cursor) -> None:
    _, owner = acme

    problem(await owner.get(USERS, cursor=cursor), 422, "cursor")


async def test_a_cursor_the_api_handed_out_still_works(acme, tech) -> None:
    _, owner = acme
    for name in ("Drain Cleaning", "Débouchage", "Water Heater Flush"):
        await add_item(owner, name)

    first = (await tech.get(ITEMS, limit=1)).json()
    second = (await tech.get(ITEMS, limit=1, cursor=first["next_cursor"])).json()
    third = (await tech.get(ITEMS, limit=1, cursor=second["next_cursor"])).json()

    names = [page["items"][0]["name"] for page in (first, second, third)]
    assert names == ["Drain Cleaning", "Débouchage", "Water Heater Flush"]
    assert third["next_cursor"] is None


# --- JSON bodies ---------------------------------------------------------------------------------


def nested(depth: int) -> bytes:
    """A quote request whose item_id is a list nested so that the document is `depth` deep."""
    return b'{"item_id": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


@pytest.mark.parametrize(
    "body",
    [
        b'{"item_id": "\xff\xfe"}',
        b'{"item_id": "caf\xc3\x28"}',
        b'{"item_id": "\xed\xa0\x80"}',  # an encoded surrogate is not UTF-8 either
    ],
    ids=["stray bytes", "broken sequence", "encoded surrogate"],
)
async def test_invalid_utf8_in_a_json_string_is_400_even_for_a_tech(tech, body) -> None:
    problem(await post_raw(tech, QUOTES, body), 400)


async def test_invalid_utf8_in_an_item_name_is_400_and_stores_nothing(acme, admin_engine) -> None:
    tenant_id, owner = acme

    body = b'{"name": "Drain \xc3\x28", "price_cents": 100, "duration_minutes": 30}'
    problem(await post_raw(owner, ITEMS, body), 400)

    assert await item_names(admin_engine, tenant_id) == []


@pytest.mark.parametrize(
    "body",
    [
        b"{name: 'Drain'",
        b'{"name": "Drain"',
        b'{"name": "Drain"} trailing',
        b'{"price_cents": NaN}',
        b'{"name": "\\ud800"}',  # a lone surrogate escape names no character
        b"\x00",
        b"",
        b"  ",
    ],
    ids=[
        "single quotes",
        "truncated",
        "trailing garbage",
        "NaN",
        "lone surrogate",
        "a NUL byte",
        "empty",
        "blank",
    ],
)
async def test_malformed_json_is_400(acme, body) -> None:
    _, owner = acme

    problem(await post_raw(owner, ITEMS, body), 400)


@pytest.mark.parametrize("depth", [33, 1_000, 100_000])
async def test_json_nested_deeper_than_32_levels_is_400_even_for_a_tech(tech, depth) -> None:
    body = problem(await post_raw(tech, QUOTES, nested(depth)), 400)

    assert "32" in body["detail"]


async def test_json_nested_32_levels_deep_is_read(tech) -> None:
    # Read, and then refused for what it says: item_id is not a list.
    problem(await post_raw(tech, QUOTES, nested(32)), 422, "item_id")


async def test_a_body_over_one_mib_is_413(acme, admin_engine) -> None:
    tenant_id, owner = acme

    response = await owner.post(ITEMS, {**FLUSH, "name": "x" * MIB})

    assert str(MIB) in problem(response, 413)["detail"]
    assert await item_names(admin_engine, tenant_id) == []


async def test_a_body_over_one_mib_is_413_for_a_tech_too(tech) -> None:
    problem(await post_raw(tech, QUOTES, b" " * (MIB + 1)), 413)


async def test_a_body_of_exactly_one_mib_is_read(tech) -> None:
    padding = MIB - len(b'{"item_id": ""}')
    body = b'{"item_id": "' + b"x" * padding + b'"}'
    assert len(body) == MIB

    problem(await post_raw(tech, QUOTES, body), 422, "item_id")


async def test_a_stranger_with_a_huge_body_is_401_before_it_is_read(client) -> None:
    response = await client.post(QUOTES, content=b"[" * (2 * MIB), headers=JSON)

    problem(response, 401)


async def test_a_route_without_a_body_ignores_one(acme) -> None:
    _, owner = acme
    await owner.post(USERS, {"email": DISPATCH, "role": "TECH"})
    listed = (await owner.get(USERS)).json()["items"]
    dispatch = next(user for user in listed if user["email"] == DISPATCH)

    response = await post_raw(owner, f"{USERS}/{dispatch['id']}/deactivate", b"[" * 100)

    assert response.status_code == 200, response.text
    assert response.json()["active"] is False


# --- methods -------------------------------------------------------------------------------------


async def test_a_405_says_which_methods_are_allowed(acme) -> None:
    _, owner = acme
    item = await add_item(owner, "Water Heater Flush")

    response = await owner.client.delete(f"{ITEMS}/{item['id']}", headers=owner.headers)
    problem(response, 405)
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert {"GET", "PATCH"} <= allowed
    assert "DELETE" not in allowed

    response = await owner.client.put("/v1/me", headers=owner.headers)
    problem(response, 405)
    assert "GET" in response.headers["allow"]


async def test_an_unknown_method_is_405_even_for_a_stranger(client) -> None:
    # Routing answers before the guard; the Allow header tells no more than the OpenAPI document.
    response = await client.delete("/v1/me", headers=bearer("not-a-token"))

    problem(response, 405)


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        (ITEMS, {"GET", "POST", "OPTIONS"}),
        (f"{ITEMS}/{uuid.uuid4()}", {"GET", "PATCH", "OPTIONS"}),
        (USERS, {"GET", "POST", "OPTIONS"}),
        ("/v1/me", {"GET", "OPTIONS"}),
    ],
)
async def test_options_lists_every_method_of_the_path(acme, path, methods) -> None:
    _, owner = acme

    response = await owner.client.options(path, headers=owner.headers)

    assert response.status_code == 204, response.text
    assert {m.strip() for m in response.headers["allow"].split(",")} == methods
