"""The worker's Google Calendar handlers on the fakes: each event runs its use case, drift is
reported to the metrics (and logged as `calendar.drift` three unannounced syncs in a row),
and without Google settings the rows fail loudly instead of being dropped."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from prometheus_client.parser import text_string_to_metric_families

from nmc_adapters.crypto import FernetSealer
from nmc_adapters.memory import InMemoryStore, InMemoryUnitOfWork
from nmc_adapters.memory.scheduling.google_calendar import FakeGoogleCalendar
from nmc_adapters.metrics import Metrics
from nmc_domain.identity.model import Principal
from nmc_domain.scheduling.events import (
    GoogleCalendarConnected,
    GoogleCalendarDisconnected,
    GoogleChannelStopRequested,
    GoogleSyncRequested,
)
from nmc_domain.scheduling.google_connect import disconnect_google, finish_google_connect
from nmc_domain.scheduling.google_ports import GoogleEvent
from nmc_domain.scheduling.oauth import issue_state
from nmc_domain.scheduling.setup import add_technician
from nmc_worker.google_calendar import GooglePoll, google_handlers
from tests.support.tenants import onboard

MON_10 = datetime(2025, 1, 6, 16, 0, tzinfo=UTC)
REFRESH = "1//0gDanaRefreshToken"


async def test_the_handlers_connect_sync_report_drift_stop_and_revoke(
    structured_logs: Callable[[str], list[dict[str, Any]]],
) -> None:
    store = InMemoryStore()

    def new_uow() -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(store)

    tenant, _ = await onboard(new_uow)
    owner = Principal("owner@acme-plumbing.example", tenant.id)
    dana = await add_technician(new_uow(), owner, name="Dana Reyes")
    google, sealer = FakeGoogleCalendar(), FernetSealer(Fernet.generate_key().decode())
    google.grant("4/0Acode", REFRESH)
    state = issue_state(sealer, "google", tenant.id, dana.id)
    await finish_google_connect(new_uow(), google, sealer, state, "4/0Acode")
    metrics = Metrics()
    handlers = google_handlers(new_uow, google, sealer, drift=metrics.count_calendar_drift)
    (connected,) = [e for e in store.outbox_events() if isinstance(e, GoogleCalendarConnected)]

    await handlers[GoogleCalendarConnected](connected)
    for n in range(4):  # four polls in a row find a change nobody announced
        start = MON_10 + timedelta(days=n)
        end = start + timedelta(hours=1)
        google.set_event(REFRESH, GoogleEvent(f"lost{n}", "confirmed", start=start, end=end))
        await handlers[GoogleSyncRequested](GoogleSyncRequested(tenant.id, dana.id, "poll"))

    warnings = structured_logs("calendar.drift")
    assert [(w["rows"], w["streak"], w["level"]) for w in warnings] == [
        (1, 3, "warning"),
        (1, 4, "warning"),
    ]
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families((await metrics.render())[0].decode())
        for s in family.samples
    }
    assert samples[("nmc_calendar_drift_rows_total", (("provider", "google"),))] == 4
    assert samples[("nmc_calendar_drift_warnings_total", (("provider", "google"),))] == 2

    await disconnect_google(new_uow(), owner, dana.id)
    (stop,) = [e for e in store.outbox_events() if isinstance(e, GoogleChannelStopRequested)]
    (gone,) = [e for e in store.outbox_events() if isinstance(e, GoogleCalendarDisconnected)]
    await handlers[GoogleChannelStopRequested](stop)
    await handlers[GoogleCalendarDisconnected](gone)
    assert google.stopped == [(str(stop.channel_id), stop.resource_id)]
    assert google.revoked_tokens == [REFRESH]


async def test_without_google_settings_the_rows_fail_loudly() -> None:
    store = InMemoryStore()
    handlers = google_handlers(lambda: InMemoryUnitOfWork(store), None, None)
    event = GoogleSyncRequested(uuid.uuid4(), uuid.uuid4(), "webhook")

    with pytest.raises(RuntimeError, match="NMC_GOOGLE_"):
        await handlers[GoogleSyncRequested](event)


async def test_the_poll_job_queues_syncs_and_logs_its_round(
    structured_logs: Callable[[str], list[dict[str, Any]]],
) -> None:
    store = InMemoryStore()

    def new_uow() -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(store)

    tenant, _ = await onboard(new_uow)
    owner = Principal("owner@acme-plumbing.example", tenant.id)
    dana = await add_technician(new_uow(), owner, name="Dana Reyes")
    google, sealer = FakeGoogleCalendar(), FernetSealer(Fernet.generate_key().decode())
    google.grant("4/0Acode", REFRESH)
    await finish_google_connect(
        new_uow(), google, sealer, issue_state(sealer, "google", tenant.id, dana.id), "4/0Acode"
    )

    await GooglePoll(new_uow, google, sealer).poll_once()

    (polled,) = structured_logs("calendar.google_polled")
    assert (polled["calendars"], polled["channels"]) == (1, {"in_flight": 1})
