"""Tenant API (/v1): the OpenAPI document says what the API enforces, and the API enforces it."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_domain.catalog.model import (
    DURATION_MINUTES,
    MAX_ALIASES,
    MAX_PHRASE,
    PRICE_CENTS,
    PRIORITY,
)
from nmc_domain.identity.model import MAX_SUBJECT
from nmc_domain.shared.pages import DEFAULT_LIMIT, MAX_LIMIT
from tests.support.api import PROBLEM, Caller, api_client, api_settings, new_tenant, problem

ITEMS = "/v1/catalog/items"
# As OpenAPI (ECMA) reads them: `$` is the very end.
NO_CONTROLS = r"^[^\x00-\x1F\x7F]*$"
LINES = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$"
CURSOR = r"^[A-Za-z0-9_-]*$"
METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="module")
async def client(database_url: str) -> AsyncIterator[AsyncTestClient]:
    async with api_client(api_settings(database_url)) as client:
        yield client


@pytest.fixture(scope="module")
async def document(client) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
async def owner(client, engine: AsyncEngine) -> Caller:
    _, owner = await new_tenant(client, lambda: PgUnitOfWork(engine))
    return owner


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        if path.startswith("/v1/"):
            for method, operation in item.items():
                if method in METHODS:
                    yield path, method, operation


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def body_of(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    content = document["paths"][path][method]["requestBody"]["content"]
    return resolve(document, content["application/json"]["schema"])


def objects_in(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The schema and every object schema nested in it (request bodies inline their parts)."""
    if schema.get("type") == "object":
        yield schema
    for member in schema.get("properties", {}).values():
        yield from objects_in(member)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from objects_in(schema[key])
    for key in ("anyOf", "oneOf", "allOf"):
        for member in schema.get(key, []):
            yield from objects_in(member)


def ecma(pattern: str, text: str) -> bool:
    """Whether `text` matches `pattern` as an ECMA regex without flags ($ only at the very end)."""
    return re.search(pattern.removesuffix("$") + r"\Z", text) is not None


# --- what every operation documents ---------------------------------------------------------------


async def test_every_operation_documents_400_and_bodies_413_as_problems(document) -> None:
    seen = 0
    for path, method, operation in operations(document):
        seen += 1
        responses = operation["responses"]
        expected = {"400", "401", "422", "503"} | ({"413"} if "requestBody" in operation else set())
        assert expected <= set(responses), (path, method, expected - set(responses))
        for code in expected:
            assert PROBLEM in responses[code]["content"], (path, method, code)
    assert seen >= 10


async def test_every_request_body_refuses_unknown_fields(document) -> None:
    bodies = [
        (path, method)
        for path, method, operation in operations(document)
        if "requestBody" in operation
    ]
    assert len(bodies) >= 4
    for path, method in bodies:
        for schema in objects_in(body_of(document, path, method)):
            assert schema.get("additionalProperties") is False, (path, method, schema)


async def test_every_list_documents_its_limit_and_cursor(document) -> None:
    lists = 0
    for path, method, operation in operations(document):
        parameters = {p["name"]: p for p in operation.get("parameters", [])}
        if "cursor" not in parameters:
            continue  # not a page of a list (availability's `limit` counts slots)
        lists += 1
        limit = parameters["limit"]["schema"]
        assert (limit["type"], limit["minimum"], limit["maximum"]) == ("integer", 1, MAX_LIMIT)
        assert limit["default"] == DEFAULT_LIMIT
        cursor = parameters["cursor"]["schema"]
        assert (cursor["pattern"], cursor["maxLength"]) == (CURSOR, 4096), (path, method)
    assert lists >= 2


# --- the catalog and users, field by field --------------------------------------------------------


@pytest.mark.parametrize(("path", "method"), [(ITEMS, "post"), (f"{ITEMS}/{{item_id}}", "patch")])
async def test_catalog_item_fields_are_documented_as_the_domain_bounds_them(
    document, path, method
) -> None:
    fields = body_of(document, path, method)["properties"]

    name = fields["name"]
    assert (name["minLength"], name["maxLength"], name["pattern"]) == (1, MAX_PHRASE, NO_CONTROLS)
    aliases = fields["aliases"]
    assert aliases["maxItems"] == MAX_ALIASES
    assert (aliases["items"]["maxLength"], aliases["items"]["pattern"]) == (MAX_PHRASE, NO_CONTROLS)
    assert fields["currency"]["pattern"] == "^[A-Za-z]{3}$"
    for field, (low, high) in {
        "price_cents": PRICE_CENTS,
        "duration_minutes": DURATION_MINUTES,
        "priority": PRIORITY,
    }.items():
        assert (fields[field]["minimum"], fields[field]["maximum"]) == (low, high), field


async def test_user_fields_are_documented(document) -> None:
    body = body_of(document, "/v1/users", "post")
    fields = body["properties"]

    assert sorted(body["required"]) == ["email", "role"]
    assert (fields["email"]["maxLength"], fields["email"]["pattern"]) == (254, NO_CONTROLS)
    assert fields["role"]["enum"] == ["OWNER", "TECH"]
    (subject,) = [s for s in fields["subject"]["anyOf"] if s.get("type") == "string"]
    assert (subject["maxLength"], subject["pattern"]) == (MAX_SUBJECT, NO_CONTROLS)


async def test_match_text_is_documented(document) -> None:
    (q,) = document["paths"]["/v1/catalog/match"]["get"]["parameters"]

    assert q["required"] is True
    assert (q["schema"]["minLength"], q["schema"]["maxLength"]) == (1, 1600)
    assert q["schema"]["pattern"] == LINES


def test_the_patterns_say_which_characters_are_refused() -> None:
    for code in [*range(0x20), 0x7F]:
        assert not ecma(NO_CONTROLS, f"Drain{chr(code)}Cleaning"), hex(code)
    assert not ecma(NO_CONTROLS, "Drain\n")  # where Python's `$` would have let it through
    assert ecma(NO_CONTROLS, "Débouchage d'évier — 水漏れ 🚿")
    assert ecma(LINES, "line one\r\n\tline two")
    assert not ecma(LINES, "nul\x00")


# --- the API enforces exactly what the document says ----------------------------------------------


async def test_the_documented_item_bounds_are_the_enforced_ones(document, owner) -> None:
    fields = body_of(document, ITEMS, "post")["properties"]
    base = {"price_cents": 18_900, "duration_minutes": 90}

    def item(**changes: object) -> dict[str, object]:
        return {"name": f"Job {uuid.uuid4().hex[:8]}", **base, **changes}

    for field in ("price_cents", "duration_minutes", "priority"):
        low, high = fields[field]["minimum"], fields[field]["maximum"]
        for value in (low, high):
            response = await owner.post(ITEMS, item(**{field: value}))
            assert response.status_code == 201, (field, value, response.text)
        for value in (low - 1, high + 1):
            problem(await owner.post(ITEMS, item(**{field: value})), 422, field)

    longest = fields["name"]["maxLength"]
    assert (await owner.post(ITEMS, item(name="n" * longest))).status_code == 201
    problem(await owner.post(ITEMS, item(name="m" * (longest + 1))), 422, "name")

    most, alias_length = fields["aliases"]["maxItems"], fields["aliases"]["items"]["maxLength"]
    aliases = [f"alias {n}" for n in range(most)]
    assert (await owner.post(ITEMS, item(aliases=aliases))).status_code == 201
    problem(await owner.post(ITEMS, item(aliases=[*aliases, "one more"])), 422, "aliases")
    assert (await owner.post(ITEMS, item(aliases=["a" * alias_length]))).status_code == 201
    problem(await owner.post(ITEMS, item(aliases=["a" * (alias_length + 1)])), 422, "aliases")


async def test_the_documented_limit_bounds_are_the_enforced_ones(document, owner) -> None:
    (limit,) = [p for p in document["paths"][ITEMS]["get"]["parameters"] if p["name"] == "limit"]
    low, high = int(limit["schema"]["minimum"]), int(limit["schema"]["maximum"])

    for value in (low, high):
        assert (await owner.get(ITEMS, limit=value)).status_code == 200
    for value in (low - 1, high + 1):
        problem(await owner.get(ITEMS, limit=value), 422, "limit")


async def test_every_webhook_documents_its_signature_and_input_errors(client) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    webhooks = {path: ops for path, ops in paths.items() if path.startswith("/webhooks/twilio")}

    assert set(webhooks) == {
        "/webhooks/twilio/voice",
        "/webhooks/twilio/voice/dial-status",
        "/webhooks/twilio/voice/status",
        "/webhooks/twilio/sms",
        "/webhooks/twilio/sms/status",
    }
    for path, ops in webhooks.items():
        assert {"200", "400", "401", "413"} <= set(ops["post"]["responses"]), path
