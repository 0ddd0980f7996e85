"""Tenant API (/v1/compliance): the owner submits the 10DLC brand and campaign; everyone sees
where it stands; the operators' verdicts (nmc compliance approve|reject) show through."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_adapters.postgres.compliance.tables import registrations
from nmc_adapters.postgres.shared.tables import outbox_events
from nmc_domain.compliance.gate import approve_compliance, reject_compliance
from tests.support.api import (
    Caller,
    api_client,
    api_settings,
    new_tenant,
    problem,
    tech_of,
    token_for,
)
from tests.support.compliance import ACME_REGISTRATION
from tests.support.tenants import onboard

STATUS = "/v1/compliance"
SUBMIT = "/v1/compliance/registration"
SUBMITTED = "compliance.registration_submitted.v1"
CHANGED = "compliance.status_changed.v1"
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "events"
CARRIER_REASON = "Brand website does not match the registered business name"


def registration(**changes: Any) -> dict[str, Any]:
    """ACME's registration with fields changed by dotted path ("brand.address.city": "Waco")."""
    body = copy.deepcopy(ACME_REGISTRATION)
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = body
        for name in parents:
            node = node[name]
        node[leaf] = value
    return body


@pytest.fixture(scope="module")
async def client(database_url: str) -> AsyncIterator[AsyncTestClient]:
    async with api_client(api_settings(database_url)) as client:
        yield client


@pytest.fixture
def new_uow(engine: AsyncEngine):
    return lambda: PgUnitOfWork(engine)


@pytest.fixture
async def acme(client, new_uow) -> tuple[uuid.UUID, Caller]:
    """ACME-PLUMBING, onboarded but not yet approved (as every new tenant is), and its OWNER."""
    tenant, _ = await onboard(new_uow, name="ACME-PLUMBING", approved=False)
    return tenant.id, Caller(client, token_for(tenant.id))


async def outbox(admin_engine: AsyncEngine, tenant_id: uuid.UUID) -> list[tuple[str, dict]]:
    """(topic, payload) of the tenant's compliance events, oldest first."""
    query = (
        select(outbox_events.c.topic, outbox_events.c.payload)
        .where(
            outbox_events.c.tenant_id == tenant_id,
            outbox_events.c.topic.in_([SUBMITTED, CHANGED]),
        )
        .order_by(outbox_events.c.id)
    )
    async with admin_engine.connect() as conn:
        return [(row.topic, row.payload) for row in (await conn.execute(query)).all()]


async def stored(admin_engine: AsyncEngine, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
    query = select(registrations).where(registrations.c.tenant_id == tenant_id)
    async with admin_engine.connect() as conn:
        return [dict(row._mapping) for row in (await conn.execute(query)).all()]


def conforms(topic: str, payload: dict[str, Any]) -> bool:
    schema = json.loads((SCHEMAS / f"{topic}.json").read_text())
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    return list(validator.iter_errors(payload)) == []


CLEANED = registration(
    **{"brand.tax_id": "12-3456789", "brand.address.region": "TX", "brand.address.country": "US"}
)


async def test_before_any_submission_the_status_is_pending_and_nothing_is_submitted(
    acme,
) -> None:
    _, owner = acme

    response = await owner.get(STATUS)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "pending",
        "reason": None,
        "submitted_at": None,
        "registration": None,
    }


async def test_the_owner_submits_and_gets_pending_with_the_cleaned_submission(
    acme, admin_engine
) -> None:
    tenant_id, owner = acme

    response = await owner.post(SUBMIT, ACME_REGISTRATION)

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["reason"]) == ("pending", None)
    assert body["registration"] == CLEANED
    # In the tenant's own offset (onboarded in America/Chicago).
    submitted_at = datetime.fromisoformat(body["submitted_at"])
    assert submitted_at.utcoffset() is not None
    assert (await owner.get(STATUS)).json() == body
    [row] = await stored(admin_engine, tenant_id)
    assert (row["tax_id"], row["region"], row["country"]) == ("12-3456789", "TX", "US")
    assert row["submitted_at"] == submitted_at


async def test_a_submission_puts_the_whole_registration_in_the_outbox(acme, admin_engine) -> None:
    tenant_id, owner = acme

    body = (await owner.post(SUBMIT, ACME_REGISTRATION)).json()

    # Pending already: no status change, only the submission for the registry.
    [(topic, payload)] = await outbox(admin_engine, tenant_id)
    assert topic == SUBMITTED
    assert conforms(topic, payload)
    assert payload["tenant_id"] == str(tenant_id)
    assert {"brand": payload["brand"], "campaign": payload["campaign"]} == CLEANED
    assert datetime.fromisoformat(payload["submitted_at"]) == datetime.fromisoformat(
        body["submitted_at"]
    )


async def test_a_tech_may_read_the_status_but_not_submit(
    client, new_uow, acme, admin_engine
) -> None:
    tenant_id, owner = acme
    tech = await tech_of(client, new_uow, tenant_id, "dispatch@acme-plumbing.example")

    problem(await tech.post(SUBMIT, ACME_REGISTRATION), 403)

    assert await stored(admin_engine, tenant_id) == []
    assert await outbox(admin_engine, tenant_id) == []
    await owner.post(SUBMIT, ACME_REGISTRATION)
    seen = await tech.get(STATUS)
    assert seen.status_code == 200
    assert seen.json()["registration"] == CLEANED


async def test_another_tenants_submission_is_not_seen(client, new_uow, acme) -> None:
    _, owner = acme
    _, spark = await new_tenant(client, new_uow, "BRIGHT-SPARK-ELECTRIC")
    await owner.post(SUBMIT, ACME_REGISTRATION)

    assert (await spark.get(STATUS)).json()["registration"] is None


LONG = "x" * 321
BAD_FIELDS = [
    ("brand.legal_name", ""),
    ("brand.legal_name", "   "),
    ("brand.legal_name", "ACME\x00Plumbing"),
    ("brand.legal_name", "A" * 256),
    ("brand.tax_id", "12-345678"),
    ("brand.tax_id", "12-34567890"),
    ("brand.tax_id", "AB-CDEFGHI"),
    ("brand.tax_id", 123456789),
    ("brand.address.street", ""),
    ("brand.address.street", "1200 Congress\nAve"),
    ("brand.address.city", "C" * 65),
    ("brand.address.region", "Texas"),
    ("brand.address.region", "ZZ"),
    ("brand.address.postal_code", "7870"),
    ("brand.address.postal_code", "78701-12"),
    ("brand.address.country", "USA"),
    ("brand.address.country", "U1"),
    ("brand.website", "acme-plumbing.example.com"),
    ("brand.website", "ftp://acme-plumbing.example.com"),
    ("brand.website", "https://localhost"),
    ("brand.website", "https://acme plumbing.com"),
    ("brand.contact.name", ""),
    ("brand.contact.email", "rosa.acme-plumbing.example.com"),
    ("brand.contact.email", "rosa@localhost"),
    ("brand.contact.phone", "512-555-0147"),
    ("brand.contact.phone", "+05125550147"),
    ("campaign.use_case", "MARKETING"),
    ("campaign.description", "Texts back missed callers."),
    ("campaign.description", "d" * 4097),
    ("campaign.sample_messages", ["Only one sample message here."]),
    ("campaign.sample_messages", [f"Sample message number {n}." for n in range(6)]),
    ("campaign.sample_messages", ["Hi, this is ACME Plumbing.", ""]),
    ("campaign.sample_messages", ["Hi, this is ACME Plumbing.", "   "]),
    ("campaign.sample_messages", ["Hi, this is ACME Plumbing.", LONG]),
    ("campaign.sample_messages", ["Hi, this is ACME.", "Hi, this is ACME."]),
    ("campaign.sample_messages", ["Hi, this is ACME.", "Bell \x07 rings"]),
    ("campaign.consent_description", ""),
    ("campaign.consent_description", "c" * 2049),
]


@pytest.mark.parametrize(("field", "value"), BAD_FIELDS)
async def test_a_bad_field_is_a_422_naming_it_and_nothing_is_stored(
    acme, admin_engine, field: str, value: object
) -> None:
    tenant_id, owner = acme

    response = await owner.post(SUBMIT, registration(**{field: value}))

    problem(response, 422, field)
    assert await stored(admin_engine, tenant_id) == []
    assert await outbox(admin_engine, tenant_id) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"campaign": ACME_REGISTRATION["campaign"]}, "brand"),
        ({**ACME_REGISTRATION, "status": "approved"}, "status"),
    ],
)
async def test_a_missing_or_unknown_field_is_a_422_naming_it(acme, body, field) -> None:
    _, owner = acme

    problem(await owner.post(SUBMIT, body), 422, field)


async def test_multi_line_texts_keep_their_line_breaks(acme) -> None:
    _, owner = acme
    samples = ["Hi, this is ACME Plumbing.\nHow can we help?", "Booked for Tue 10:00.\r\nSTOP=stop"]

    response = await owner.post(SUBMIT, registration(**{"campaign.sample_messages": samples}))

    assert response.status_code == 201, response.text
    assert response.json()["registration"]["campaign"]["sample_messages"] == samples


async def test_a_rejection_shows_its_reason_and_a_resubmission_clears_it(
    new_uow, acme, admin_engine
) -> None:
    tenant_id, owner = acme
    await owner.post(SUBMIT, ACME_REGISTRATION)
    await reject_compliance(new_uow(), tenant_id, CARRIER_REASON)

    rejected = (await owner.get(STATUS)).json()
    assert (rejected["status"], rejected["reason"]) == ("rejected", CARRIER_REASON)
    assert rejected["registration"] == CLEANED  # what was rejected stays in view

    fixed = registration(**{"brand.website": "https://acmeplumbingandheating.example.com"})
    response = await owner.post(SUBMIT, fixed)

    assert response.status_code == 200, response.text  # an earlier one was replaced
    body = response.json()
    assert (body["status"], body["reason"]) == ("pending", None)
    assert body["registration"]["brand"]["website"] == fixed["brand"]["website"]
    assert body["submitted_at"] > rejected["submitted_at"]
    assert len(await stored(admin_engine, tenant_id)) == 1
    events = await outbox(admin_engine, tenant_id)
    assert [topic for topic, _ in events] == [SUBMITTED, CHANGED, CHANGED, SUBMITTED]
    assert (events[2][1]["status"], events[2][1]["reason"]) == ("pending", None)
    assert all(conforms(topic, payload) for topic, payload in events)


async def test_an_approved_tenant_stays_approved_when_it_resubmits(
    new_uow, acme, admin_engine
) -> None:
    tenant_id, owner = acme
    await owner.post(SUBMIT, ACME_REGISTRATION)
    await approve_compliance(new_uow(), tenant_id)
    assert (await owner.get(STATUS)).json()["status"] == "approved"

    updated = registration(**{"brand.contact.name": "Marco Delgado"})
    response = await owner.post(SUBMIT, updated)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["reason"]) == ("approved", None)
    assert body["registration"]["brand"]["contact"]["name"] == "Marco Delgado"
    topics = [topic for topic, _ in await outbox(admin_engine, tenant_id)]
    assert topics == [SUBMITTED, CHANGED, SUBMITTED]  # no status change on the way


async def test_a_rejection_without_any_submission_still_shows_its_reason(new_uow, acme) -> None:
    tenant_id, owner = acme
    await reject_compliance(new_uow(), tenant_id, CARRIER_REASON)

    assert (await owner.get(STATUS)).json() == {
        "status": "rejected",
        "reason": CARRIER_REASON,
        "submitted_at": None,
        "registration": None,
    }
