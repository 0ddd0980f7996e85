"""Tenant API (/v1): /me, users, roles and deactivation, with real tokens and PostgreSQL."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_adapters.postgres.identity.tables import users
from tests.support.api import (
    OWNER,
    Caller,
    api_client,
    api_settings,
    new_tenant,
    paginate,
    problem,
    tech_of,
    token_for,
)

USERS = "/v1/users"
USER_KEYS = {"id", "email", "role", "active"}


@pytest.fixture(scope="module")
async def client(database_url: str) -> AsyncIterator[AsyncTestClient]:
    async with api_client(api_settings(database_url)) as client:
        yield client


@pytest.fixture
def new_uow(engine: AsyncEngine):
    return lambda: PgUnitOfWork(engine)


async def stored_users(admin_engine: AsyncEngine, tenant_id: uuid.UUID) -> dict[str, dict]:
    """The tenant's users by email, read past row-level security."""
    async with admin_engine.connect() as conn:
        rows = (await conn.execute(select(users).where(users.c.tenant_id == tenant_id))).all()
    return {row.email: dict(row._mapping) for row in rows}


async def set_role(admin_engine: AsyncEngine, tenant_id: uuid.UUID, email: str, role: str) -> None:
    async with admin_engine.begin() as conn:
        await conn.execute(
            update(users)
            .where(users.c.tenant_id == tenant_id, users.c.email == email)
            .values(role=role)
        )


async def user_id(owner: Caller, email: str) -> str:
    listed = (await owner.get(USERS, limit=200)).json()["items"]
    return next(user["id"] for user in listed if user["email"] == email)


# --- /v1/me --------------------------------------------------------------------------------------


async def test_me_is_the_caller_and_their_tenant(client, new_uow, admin_engine) -> None:
    tenant, owner = await new_tenant(client, new_uow, "ACME-PLUMBING")

    response = await owner.get("/v1/me")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    owner_row = (await stored_users(admin_engine, tenant.id))[OWNER]
    assert response.json() == {
        "user": {"id": str(owner_row["id"]), "email": OWNER, "role": "OWNER", "active": True},
        "tenant": {"id": str(tenant.id), "name": "ACME-PLUMBING", "timezone": "America/Chicago"},
    }


async def test_me_of_a_tech_says_tech(client, new_uow) -> None:
    tenant, _ = await new_tenant(client, new_uow, "ACME-PLUMBING")
    tech = await tech_of(client, new_uow, tenant.id, "tech.maria@acme-plumbing.example")

    body = (await tech.get("/v1/me")).json()

    assert body["user"]["email"] == "tech.maria@acme-plumbing.example"
    assert body["user"]["role"] == "TECH"
    assert body["tenant"]["id"] == str(tenant.id)


# --- adding users --------------------------------------------------------------------------------


async def test_an_owner_adds_a_tech_who_can_then_sign_in(client, new_uow, admin_engine) -> None:
    tenant, owner = await new_tenant(client, new_uow)

    response = await owner.post(
        USERS, {"email": "  Dispatch@ACME-Plumbing.example ", "role": "TECH"}
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == USER_KEYS
    assert body["email"] == "dispatch@acme-plumbing.example"
    assert (body["role"], body["active"]) == ("TECH", True)
    stored = (await stored_users(admin_engine, tenant.id))["dispatch@acme-plumbing.example"]
    assert str(stored["id"]) == body["id"]
    assert stored["subject"] == "dispatch@acme-plumbing.example"  # subject defaults to email
    dispatch = Caller(client, token_for(tenant.id, subject="dispatch@acme-plumbing.example"))
    assert (await dispatch.get("/v1/me")).json()["user"] == body


async def test_a_user_with_an_identity_provider_subject(client, new_uow) -> None:
    tenant, owner = await new_tenant(client, new_uow)

    response = await owner.post(
        USERS,
        {"email": "co-owner@acme-plumbing.example", "role": "OWNER", "subject": "auth0|64f1c2"},
    )

    assert response.status_code == 201, response.text
    co_owner = Caller(client, token_for(tenant.id, subject="auth0|64f1c2"))
    assert (await co_owner.get("/v1/me")).json()["user"]["role"] == "OWNER"
    assert (await co_owner.get(USERS)).status_code == 200
    # The email is not the subject any more: a token naming the email is an unknown user.
    by_email = Caller(client, token_for(tenant.id, subject="co-owner@acme-plumbing.example"))
    problem(await by_email.get("/v1/me"), 401)


async def test_a_duplicate_email_is_409_naming_email(client, new_uow, admin_engine) -> None:
    tenant, owner = await new_tenant(client, new_uow)
    first = await owner.post(USERS, {"email": "dispatch@acme-plumbing.example", "role": "TECH"})
    assert first.status_code == 201

    response = await owner.post(USERS, {"email": "DISPATCH@acme-plumbing.example", "role": "OWNER"})

    problem(response, 409, field="email")
    stored = await stored_users(admin_engine, tenant.id)
    assert stored["dispatch@acme-plumbing.example"]["role"] == "TECH"
    assert len(stored) == 2


async def test_the_owners_email_is_taken_too(client, new_uow) -> None:
    _, owner = await new_tenant(client, new_uow)

    problem(await owner.post(USERS, {"email": OWNER, "role": "TECH"}), 409, field="email")


async def test_a_duplicate_subject_is_409_naming_subject(client, new_uow) -> None:
    _, owner = await new_tenant(client, new_uow)
    body = {"email": "dispatch@acme-plumbing.example", "role": "TECH", "subject": "auth0|77"}
    assert (await owner.post(USERS, body)).status_code == 201

    response = await owner.post(
        USERS, {"email": "night-shift@acme-plumbing.example", "role": "TECH", "subject": "auth0|77"}
    )

    problem(response, 409, field="subject")


async def test_the_same_email_may_work_for_two_tenants(client, new_uow) -> None:
    _, acme = await new_tenant(client, new_uow, "ACME-PLUMBING")
    _, bobs = await new_tenant(client, new_uow, "BOBS-HVAC")
    body = {"email": "freelancer.sam@example.com", "role": "TECH"}

    assert (await acme.post(USERS, body)).status_code == 201
    assert (await bobs.post(USERS, body)).status_code == 201


DISPATCH = "dispatch@acme-plumbing.example"
BAD_USERS = {
    "role ADMIN": ({"email": DISPATCH, "role": "ADMIN"}, "role"),
    "role empty": ({"email": DISPATCH, "role": ""}, "role"),
    "role a number": ({"email": DISPATCH, "role": 1}, "role"),
    "email without @": ({"email": "dispatch.acme-plumbing.example", "role": "TECH"}, "email"),
    "email with spaces": ({"email": "dis patch@acme plumbing.example", "role": "TECH"}, "email"),
    "email empty": ({"email": "", "role": "TECH"}, "email"),
    "email a number": ({"email": 5550006, "role": "TECH"}, "email"),
    "subject blank": ({"email": DISPATCH, "role": "TECH", "subject": "  "}, "subject"),
    "role missing": pytest.param({"email": DISPATCH}, "role"),
    "email missing": pytest.param({"role": "TECH"}, "email"),
    "unknown field": pytest.param(
        {"email": DISPATCH, "role": "TECH", "is_admin": True}, "is_admin"
    ),
}


@pytest.mark.parametrize(
    ("body", "field"),
    list(BAD_USERS.values()),
    ids=list(BAD_USERS),
)
async def test_a_bad_user_is_422_naming_the_field(
    client, new_uow, admin_engine, body, field
) -> None:
    tenant, owner = await new_tenant(client, new_uow)

    problem(await owner.post(USERS, body), 422, field=field)

    assert list(await stored_users(admin_engine, tenant.id)) == [OWNER]


# --- listing users -------------------------------------------------------------------------------


async def test_users_are_listed_by_email_in_pages_without_repeats_or_gaps(client, new_uow) -> None:
    _, owner = await new_tenant(client, new_uow)
    emails = [
        "zoe.night-shift@acme-plumbing.example",
        "ana.dispatch@acme-plumbing.example",
        "mo.tech@acme-plumbing.example",
        "bea.billing@acme-plumbing.example",
        "luis.tech@acme-plumbing.example",
        "kim.tech@acme-plumbing.example",
    ]
    for email in emails:
        assert (await owner.post(USERS, {"email": email, "role": "TECH"})).status_code == 201

    pages = await paginate(owner, USERS, limit=2)

    listed = [user["email"] for page in pages for user in page]
    assert listed == sorted([*emails, OWNER])
    assert [len(page) for page in pages] == [2, 2, 2, 1]
    assert all(set(user) == USER_KEYS for page in pages for user in page)


async def test_a_full_last_page_ends_the_list(client, new_uow) -> None:
    _, owner = await new_tenant(client, new_uow)
    await owner.post(USERS, {"email": "ana.dispatch@acme-plumbing.example", "role": "TECH"})

    pages = await paginate(owner, USERS, limit=2)

    # Two users, limit 2: one page, no cursor to an empty page.
    assert [len(page) for page in pages] == [2]


async def test_the_default_page_holds_everyone_of_a_small_team(client, new_uow) -> None:
    _, owner = await new_tenant(client, new_uow)

    body = (await owner.get(USERS)).json()

    assert body == {"items": [body["items"][0]], "next_cursor": None}
    assert body["items"][0]["email"] == OWNER


@pytest.mark.parametrize("limit", ["0", "-1", "201", "1000", "ten", "2.5"])
async def test_a_bad_limit_is_422_naming_limit(client, new_uow, limit) -> None:
    _, owner = await new_tenant(client, new_uow)

    problem(await owner.get(USERS, limit=limit), 422, field="limit")


CURSORS = {
    "not base64": "!!not-a-cursor!!",
    "base64 of text": base64.urlsafe_b64encode(b"page 2 please").decode(),
    "base64 of a json object": base64.urlsafe_b64encode(b'{"after": "bea"}').decode(),
    "base64 of a bad id": base64.urlsafe_b64encode(b'["bea@acme","not-a-uuid"]').decode(),
}


@pytest.mark.parametrize("case", CURSORS)
async def test_a_malformed_cursor_is_422_naming_cursor(client, new_uow, case) -> None:
    _, owner = await new_tenant(client, new_uow)

    problem(await owner.get(USERS, cursor=CURSORS[case]), 422, field="cursor")


# --- deactivation --------------------------------------------------------------------------------


async def test_deactivating_a_tech_locks_them_out_at_once(client, new_uow, admin_engine) -> None:
    tenant, owner = await new_tenant(client, new_uow)
    tech = await tech_of(client, new_uow, tenant.id, "tech.luis@acme-plumbing.example")
    assert (await tech.get("/v1/catalog/items")).status_code == 200
    luis = await user_id(owner, "tech.luis@acme-plumbing.example")

    response = await owner.post(f"{USERS}/{luis}/deactivate")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": luis,
        "email": "tech.luis@acme-plumbing.example",
        "role": "TECH",
        "active": False,
    }
    problem(await tech.get("/v1/me"), 403)
    problem(await tech.get("/v1/catalog/items"), 403)
    stored = await stored_users(admin_engine, tenant.id)
    assert stored["tech.luis@acme-plumbing.example"]["active"] is False
    listed = {u["email"]: u["active"] for u in (await owner.get(USERS)).json()["items"]}
    assert listed == {OWNER: True, "tech.luis@acme-plumbing.example": False}


async def test_deactivating_twice_is_harmless(client, new_uow) -> None:
    tenant, owner = await new_tenant(client, new_uow)
    await tech_of(client, new_uow, tenant.id, "tech.luis@acme-plumbing.example")
    luis = await user_id(owner, "tech.luis@acme-plumbing.example")
    await owner.post(f"{USERS}/{luis}/deactivate")

    response = await owner.post(f"{USERS}/{luis}/deactivate")

    assert response.status_code == 200
    assert response.json()["active"] is False


async def test_the_last_active_owner_cannot_be_deactivated(client, new_uow, admin_engine) -> None:
    tenant, owner = await new_tenant(client, new_uow)
    me = (await owner.get("/v1/me")).json()["user"]["id"]

    problem(await owner.post(f"{USERS}/{me}/deactivate"), 409)

    assert (await stored_users(admin_engine, tenant.id))[OWNER]["active"] is True
    assert (await owner.get("/v1/me")).status_code == 200


async def test_one_of_two_owners_can_go_but_not_the_other(client, new_uow) -> None:
    tenant, owner = await new_tenant(client, new_uow)
    await owner.post(USERS, {"email": "co-owner@acme-plumbing.example", "role": "OWNER"})
    co_owner = Caller(client, token_for(tenant.id, subject="co-owner@acme-plumbing.example"))
    first = await user_id(owner, OWNER)
    second = await user_id(owner, "co-owner@acme-plumbing.example")

    assert (await co_owner.post(f"{USERS}/{first}/deactivate")).status_code == 200

    problem(await owner.get(USERS), 403)  # the first owner is out at once
    problem(await co_owner.post(f"{USERS}/{second}/deactivate"), 409)


async def test_an_inactive_owner_does_not_count_as_the_other_owner(client, new_uow) -> None:
    _, owner = await new_tenant(client, new_uow)
    await owner.post(USERS, {"email": "retired@acme-plumbing.example", "role": "OWNER"})
    retired = await user_id(owner, "retired@acme-plumbing.example")
    assert (await owner.post(f"{USERS}/{retired}/deactivate")).status_code == 200
    me = await user_id(owner, OWNER)

    problem(await owner.post(f"{USERS}/{me}/deactivate"), 409)


async def test_deactivating_an_unknown_user_is_404(client, new_uow) -> None:
    _, owner = await new_tenant(client, new_uow)

    problem(await owner.post(f"{USERS}/{uuid.uuid4()}/deactivate"), 404)
    problem(await owner.post(f"{USERS}/not-a-uuid/deactivate"), 404)


async def test_another_tenants_user_cannot_be_deactivated(client, new_uow, admin_engine) -> None:
    bobs, bobs_owner = await new_tenant(client, new_uow, "BOBS-HVAC")
    await tech_of(client, new_uow, bobs.id, "tech.ray@bobs-hvac.example")
    ray = await user_id(bobs_owner, "tech.ray@bobs-hvac.example")
    _, acme_owner = await new_tenant(client, new_uow, "ACME-PLUMBING")

    response = await acme_owner.post(f"{USERS}/{ray}/deactivate")

    problem(response, 404)
    assert "tech.ray" not in response.text
    assert (await stored_users(admin_engine, bobs.id))["tech.ray@bobs-hvac.example"]["active"]


# --- roles ---------------------------------------------------------------------------------------


async def test_a_tech_cannot_manage_users(client, new_uow, admin_engine) -> None:
    tenant, owner = await new_tenant(client, new_uow)
    tech = await tech_of(client, new_uow, tenant.id, "tech.maria@acme-plumbing.example")
    owner_id = await user_id(owner, OWNER)

    problem(await tech.get(USERS), 403)
    problem(await tech.post(USERS, {"email": "pal@acme-plumbing.example", "role": "OWNER"}), 403)
    problem(await tech.post(f"{USERS}/{owner_id}/deactivate"), 403)

    stored = await stored_users(admin_engine, tenant.id)
    assert set(stored) == {OWNER, "tech.maria@acme-plumbing.example"}
    assert stored[OWNER]["active"] is True
    assert (await tech.get("/v1/me")).status_code == 200


async def test_a_promotion_takes_effect_on_the_next_request(client, new_uow, admin_engine) -> None:
    tenant, _ = await new_tenant(client, new_uow)
    tech = await tech_of(client, new_uow, tenant.id, "tech.maria@acme-plumbing.example")
    problem(await tech.get(USERS), 403)

    await set_role(admin_engine, tenant.id, "tech.maria@acme-plumbing.example", "OWNER")

    assert (await tech.get(USERS)).status_code == 200
    assert (await tech.get("/v1/me")).json()["user"]["role"] == "OWNER"


async def test_a_demotion_takes_effect_on_the_next_request(client, new_uow, admin_engine) -> None:
    tenant, owner = await new_tenant(client, new_uow)
    await owner.post(USERS, {"email": "co-owner@acme-plumbing.example", "role": "OWNER"})
    co_owner = Caller(client, token_for(tenant.id, subject="co-owner@acme-plumbing.example"))
    assert (await co_owner.get(USERS)).status_code == 200

    await set_role(admin_engine, tenant.id, "co-owner@acme-plumbing.example", "TECH")

    problem(await co_owner.get(USERS), 403)
    problem(await co_owner.post(USERS, {"email": "x@acme-plumbing.example", "role": "TECH"}), 403)


# --- tenant scoping ------------------------------------------------------------------------------


async def test_an_owner_never_sees_another_tenants_users(client, new_uow) -> None:
    _, bobs_owner = await new_tenant(client, new_uow, "BOBS-HVAC")
    await bobs_owner.post(USERS, {"email": "dispatch@bobs-hvac.example", "role": "TECH"})
    _, acme_owner = await new_tenant(client, new_uow, "ACME-PLUMBING")
    await acme_owner.post(USERS, {"email": "dispatch@acme-plumbing.example", "role": "TECH"})

    acme_sees = [u["email"] for page in await paginate(acme_owner, USERS, 1) for u in page]
    bobs_sees = [u["email"] for page in await paginate(bobs_owner, USERS, 1) for u in page]

    assert acme_sees == ["dispatch@acme-plumbing.example", OWNER]
    assert bobs_sees == ["dispatch@bobs-hvac.example", OWNER]
    acme_owner_id = await user_id(acme_owner, OWNER)
    bobs_owner_id = await user_id(bobs_owner, OWNER)
    assert acme_owner_id != bobs_owner_id
    assert (await acme_owner.get("/v1/me")).json()["tenant"]["name"] == "ACME-PLUMBING"
    assert (await bobs_owner.get("/v1/me")).json()["tenant"]["name"] == "BOBS-HVAC"
