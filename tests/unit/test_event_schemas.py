"""Every wire event has a JSON Schema under schemas/events/, and what we write conforms to it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from nmc_adapters.wire import TOPICS, decode_event, encode_event
from nmc_domain.billing.events import SubscriptionChanged, SubscriptionSyncRequested
from nmc_domain.billing.model import SubscriptionStatus
from nmc_domain.catalog.events import CatalogUpdated
from nmc_domain.compliance.events import ComplianceStatusChanged, RegistrationSubmitted
from nmc_domain.compliance.registration import (
    Address,
    Brand,
    BrandContact,
    Campaign,
    UseCase,
)
from nmc_domain.conversation.events import ConversationIdleCheck, HandoffRequested
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.scheduling.events import (
    AppointmentBooked,
    AppointmentCanceled,
    AppointmentHeld,
    AppointmentRescheduled,
    JobberItemChanged,
    JobberSyncRequested,
)
from nmc_domain.shared.events import DomainEvent

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "events"


def validator(topic: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{topic}.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def test_every_topic_has_a_schema_and_every_schema_a_topic() -> None:
    assert {path.stem for path in SCHEMAS.glob("*.json")} == set(TOPICS)


# Aware times in any zone: the wire keeps the offset they were written with.
times = st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-6))]))


def texts(low: int, high: int) -> st.SearchStrategy[str]:
    return st.text(min_size=low, max_size=high)


brands = st.builds(
    Brand,
    texts(1, 255),
    st.from_regex(r"\A[0-9]{2}-[0-9]{7}\Z"),
    st.builds(
        Address,
        texts(1, 100),
        texts(1, 64),
        texts(1, 64),
        texts(1, 10),
        st.from_regex(r"\A[A-Z]{2}\Z"),
    ),
    st.sampled_from(["https://acme-plumbing.example.com", "http://bright-spark.example/about"]),
    st.builds(
        BrandContact,
        texts(1, 100),
        st.just("rosa@acme.example"),
        st.from_regex(r"\A\+[1-9][0-9]{6,14}\Z"),
    ),
)
campaigns = st.builds(
    Campaign,
    st.just(UseCase.CUSTOMER_CARE),
    texts(40, 200),
    st.lists(texts(1, 320), min_size=2, max_size=5).map(tuple),
    texts(1, 200),
)
stripe_ids = st.from_regex(r"\A(cus|sub|evt)_[A-Za-z0-9]{8,24}\Z")
statuses = st.none() | st.sampled_from([status.value for status in SubscriptionStatus])
events = st.one_of(
    st.builds(MessageQueued, st.uuids(), st.uuids()),
    st.builds(
        SubscriptionSyncRequested,
        st.uuids(),
        st.none() | stripe_ids,
        st.none() | stripe_ids,
        stripe_ids,
    ),
    st.builds(SubscriptionChanged, st.uuids(), statuses, statuses, times),
    st.builds(
        ComplianceStatusChanged,
        st.uuids(),
        st.sampled_from(["pending", "approved", "rejected"]),
        st.none() | st.text(min_size=1, max_size=40),
        st.datetimes(timezones=st.just(UTC)),
    ),
    st.builds(RegistrationSubmitted, st.uuids(), brands, campaigns, times),
    st.builds(CatalogUpdated, st.uuids(), st.uuids(), st.sampled_from(["created", "updated"])),
    st.builds(AppointmentHeld, st.uuids(), st.uuids(), st.uuids(), st.uuids(), times, times, times),
    st.builds(
        AppointmentBooked,
        st.uuids(),
        st.uuids(),
        st.uuids(),
        st.uuids(),
        times,
        times,
        st.integers(0, 10_000_000),
        st.sampled_from(["USD", "CAD", "EUR"]),
        st.from_regex(r"\A\+1[2-9][0-9]{9}\Z"),
    ),
    st.builds(AppointmentCanceled, st.uuids(), st.uuids(), st.uuids(), times, times),
    st.builds(HandoffRequested, st.uuids(), st.uuids(), st.text(min_size=1, max_size=60)),
    st.builds(ConversationIdleCheck, st.uuids(), st.uuids()),
    st.builds(
        JobberItemChanged,
        st.uuids(),
        st.sampled_from(["VISIT_UPDATE", "VISIT_DESTROY", "JOB_DESTROY", "APP_DISCONNECT"]),
        st.text(min_size=1, max_size=40),
        times,
    ),
    st.builds(JobberSyncRequested, st.uuids(), st.just("connected")),
    st.builds(
        AppointmentRescheduled,
        st.uuids(),
        st.uuids(),
        st.uuids(),
        times,
        times,
        st.uuids(),
        times,
        times,
    ),
)


@given(events)
def test_encoded_events_conform_and_round_trip(event: DomainEvent) -> None:
    topic, version, payload = encode_event(event)

    errors = list(validator(topic).iter_errors(json.loads(json.dumps(payload))))

    assert errors == []
    assert version == int(topic.rsplit(".v", 1)[1])
    assert decode_event(payload) == event


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("message.queued.v1", {"type": "message.queued.v1", "tenant_id": str(uuid.uuid4())}),
        (
            "catalog.updated.v1",
            {
                "type": "catalog.updated.v1",
                "tenant_id": str(uuid.uuid4()),
                "item_id": "not-a-uuid",
                "change": "created",
            },
        ),
        (
            "compliance.status_changed.v1",
            {
                "type": "compliance.status_changed.v1",
                "tenant_id": str(uuid.uuid4()),
                "status": "maybe",
                "reason": None,
                "occurred_at": datetime.now(UTC).isoformat(),
            },
        ),
        (
            "billing.subscription_changed.v1",
            {
                "type": "billing.subscription_changed.v1",
                "tenant_id": str(uuid.uuid4()),
                "previous_status": "active",
                "status": "lapsed",
                "occurred_at": datetime.now(UTC).isoformat(),
            },
        ),
        (
            "billing.subscription_sync_requested.v1",
            {
                "type": "billing.subscription_sync_requested.v1",
                "tenant_id": str(uuid.uuid4()),
                "subscription_id": "sub_1QACMEplumbing",
                "customer_id": None,
                "stripe_event_id": "",
            },
        ),
        (
            "compliance.registration_submitted.v1",
            {
                "type": "compliance.registration_submitted.v1",
                "tenant_id": str(uuid.uuid4()),
                "brand": {"legal_name": "ACME Plumbing LLC"},
                "campaign": {"use_case": "MARKETING"},
                "submitted_at": datetime.now(UTC).isoformat(),
            },
        ),
    ],
)
def test_schemas_reject_payloads_that_break_them(topic: str, payload: dict[str, object]) -> None:
    assert list(validator(topic).iter_errors(payload)) != []
