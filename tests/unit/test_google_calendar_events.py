"""The Google Calendar events on the wire: each conforms to its JSON Schema and round-trips."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nmc_adapters.wire import decode_event, encode_event
from nmc_domain.scheduling.events import (
    GoogleCalendarConnected,
    GoogleCalendarDisconnected,
    GoogleChannelStopRequested,
    GoogleSyncRequested,
)
from nmc_domain.shared.events import DomainEvent
from tests.unit.test_event_schemas import validator

sealed = st.from_regex(r"\AgAAAAB[A-Za-z0-9_=-]{20,120}\Z")
events = st.one_of(
    st.builds(GoogleCalendarConnected, st.uuids(), st.uuids(), st.uuids()),
    st.builds(
        GoogleSyncRequested,
        st.uuids(),
        st.uuids(),
        st.sampled_from(["webhook", "poll", "booked"]),
    ),
    st.builds(
        GoogleChannelStopRequested,
        st.uuids(),
        st.uuids(),
        st.uuids(),
        st.from_regex(r"\A[A-Za-z0-9_-]{8,40}\Z"),
        sealed,
    ),
    st.builds(GoogleCalendarDisconnected, st.uuids(), st.uuids(), sealed),
)


@given(events)
def test_google_events_conform_and_round_trip(event: DomainEvent) -> None:
    topic, version, payload = encode_event(event)

    assert list(validator(topic).iter_errors(json.loads(json.dumps(payload)))) == []
    assert topic.startswith("calendar.google_")
    assert version == 1
    assert decode_event(payload) == event


@pytest.mark.parametrize(
    "payload",
    [
        {"technician_id": "not-a-uuid", "reason": "poll"},
        {"technician_id": str(uuid.uuid4()), "reason": ""},
        {"technician_id": str(uuid.uuid4())},
        {"technician_id": str(uuid.uuid4()), "reason": "poll", "sync_token": "CPDA"},
    ],
)
def test_the_schema_refuses_a_malformed_sync_request(payload: dict[str, str]) -> None:
    topic = "calendar.google_sync_requested.v1"
    full = {"type": topic, "tenant_id": str(uuid.uuid4()), **payload}

    assert list(validator(topic).iter_errors(full)) != []
