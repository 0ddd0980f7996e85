"""Contract of the 10DLC submissions repository (uow.registrations), on the fakes and PostgreSQL:
one current submission per tenant, replaced by the next, seen by its own tenant only."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import attrs

from nmc_domain.compliance.registration import (
    Address,
    Brand,
    BrandContact,
    Campaign,
    Registration,
    UseCase,
)
from tests.contract.backends import Backend
from tests.contract.builders import stored_tenant


def acme_registration(tenant_id: UUID, submitted_at: datetime) -> Registration:
    return Registration(
        tenant_id,
        Brand(
            "ACME Plumbing & Heating LLC",
            "12-3456789",
            Address("1200 Congress Ave", "Austin", "TX", "78701", "US"),
            "https://acme-plumbing.example.com",
            BrandContact("Rosa Delgado", "rosa@acme-plumbing.example.com", "+15125550147"),
        ),
        Campaign(
            UseCase.CUSTOMER_CARE,
            "Texts back callers whose call we missed, to book plumbing repairs.",
            (
                "Hi, this is ACME Plumbing.\nSorry we missed your call! How can we help?",
                "Your water heater flush is booked for Tue 10:00 — reply STOP to opt out.",
            ),
            "Customers call our business number first; we only text back that number.",
        ),
        submitted_at,
    )


async def test_a_tenant_without_a_submission_has_none(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.registrations.get(tenant.id) is None


async def test_a_submission_round_trips_whole(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        submitted = acme_registration(tenant.id, await uow.now())
        await uow.registrations.save(submitted)
        assert await uow.registrations.get(tenant.id) == submitted  # own writes read back
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        found = await uow.registrations.get(tenant.id)
    assert found == submitted
    assert found is not None
    assert isinstance(found.campaign.sample_messages, tuple)
    assert found.campaign.use_case is UseCase.CUSTOMER_CARE


async def test_a_later_submission_replaces_the_earlier_one(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        first = acme_registration(tenant.id, await uow.now())
        await uow.registrations.save(first)
        await uow.commit()
    later = attrs.evolve(
        first,
        brand=attrs.evolve(first.brand, website="https://acmeplumbingandheating.example.com"),
        campaign=attrs.evolve(
            first.campaign,
            sample_messages=("One more sample.", "And another.", "And a third one."),
        ),
        submitted_at=first.submitted_at + timedelta(days=2),
    )

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.registrations.save(later)
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.registrations.get(tenant.id) == later


async def test_a_submission_not_committed_is_forgotten(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.registrations.save(acme_registration(tenant.id, await uow.now()))

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.registrations.get(tenant.id) is None


async def test_submissions_are_per_tenant(backend: Backend) -> None:
    acme, _ = await stored_tenant(backend.new_uow)
    spark, _ = await stored_tenant(backend.new_uow, "BRIGHT-SPARK-ELECTRIC")
    async with backend.new_uow() as uow:
        await uow.bind_tenant(acme.id)
        acmes = acme_registration(acme.id, await uow.now())
        await uow.registrations.save(acmes)
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(spark.id)
        assert await uow.registrations.get(spark.id) is None
        sparks = attrs.evolve(
            acme_registration(spark.id, await uow.now()),
            brand=attrs.evolve(acmes.brand, legal_name="Bright Spark Electric Inc."),
        )
        await uow.registrations.save(sparks)
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(acme.id)
        assert await uow.registrations.get(acme.id) == acmes
    async with backend.new_uow() as uow:
        await uow.bind_tenant(spark.id)
        assert await uow.registrations.get(spark.id) == sparks
