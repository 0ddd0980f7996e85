"""E2E with real processes (the API and worker programs, Google Calendar configured against a
local FakeGoogle that pushes notifications to the API over HTTP): the owner connects a
technician's calendar through Google's consent page; the worker opens the push channel (whose
`sync` message reaches the API before the watch call returns) and syncs; an event announced
by a notification becomes a busy block; one nobody announced is found by the safety poll and
counted as drift in the worker's /metrics; disconnecting stops the channel at Google."""

from __future__ import annotations

import json
import signal
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import Engine, create_engine, select

from nmc_adapters.postgres import sqlalchemy_url
from nmc_adapters.postgres.scheduling.google_tables import google_links
from nmc_adapters.postgres.scheduling.tables import busy_blocks
from tests.support.api import token_for
from tests.support.cli import clean_env, nmc
from tests.support.fake_google import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeGoogle
from tests.support.google_calendar import SECRET_KEY
from tests.support.processes import Running, free_port
from tests.support.tenants import fresh_number
from tests.support.twilio import ACCOUNT_SID, JWT_SECRET

TOKEN = "e2e-google-twilio-auth-token"
T = TypeVar("T")
USER = "dana.reyes@gmail.example"


@pytest.fixture(scope="module")
def google() -> Iterator[FakeGoogle]:
    with FakeGoogle() as fake:
        fake.add_calendar(USER, "America/Chicago")
        yield fake


@pytest.fixture(scope="module")
def stack(
    database_url: str, google: FakeGoogle
) -> Iterator[tuple[str, str, dict[str, str], Running]]:
    port, metrics_port = free_port(), free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = clean_env(
        NMC_DATABASE_URL=database_url,
        NMC_PUBLIC_BASE_URL=base_url,
        NMC_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        NMC_TWILIO_AUTH_TOKEN=TOKEN,
        NMC_SMS_CONSOLE="1",
        NMC_JWT_SECRET=JWT_SECRET,
        NMC_SECRET_KEY=SECRET_KEY,
        NMC_GOOGLE_CLIENT_ID=DEFAULT_CLIENT_ID,
        NMC_GOOGLE_CLIENT_SECRET=DEFAULT_CLIENT_SECRET,
        NMC_GOOGLE_API_BASE=google.base_url,
        NMC_GOOGLE_OAUTH_BASE=google.base_url,
    )
    api = Running([sys.executable, "-m", "nmc_api", "--port", str(port)], env)
    worker = Running(
        [
            sys.executable, "-m", "nmc_worker", "--seed", "5",
            "--metrics-port", str(metrics_port), "--calendar-poll-every", "2",
        ],
        env,
    )  # fmt: skip
    try:
        api.wait_for(lambda line: "Application startup complete" in line)
        worker.wait_for(lambda line: "worker.started" in line)
        yield base_url, f"http://127.0.0.1:{metrics_port}", env, api
    finally:
        api_code, worker_code = api.stop(), worker.stop()
        assert api_code in (0, -signal.SIGTERM), api.output
        assert worker_code == 0, worker.output
        output = api.output + worker.output
        for secret in (TOKEN, SECRET_KEY, DEFAULT_CLIENT_SECRET, "1//0g", "ya29."):
            assert secret not in output  # nor any refresh or access token Google issued


@pytest.fixture(scope="module")
def db(database_url: str) -> Iterator[Engine]:
    engine = create_engine(sqlalchemy_url(database_url))
    yield engine
    engine.dispose()


def wait_until(probe: Callable[[], T], what: str, within: float = 20.0) -> T:
    deadline = time.monotonic() + within
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within} s (last: {result!r})")
        time.sleep(0.05)


def logged(process: Running, event: str) -> list[dict[str, Any]]:
    found = []
    for line in process.lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("event") == event:
            found.append(entry)
    return found


def blocks(db: Engine, technician_id: str) -> dict[str, Any]:
    query = select(busy_blocks.c.external_id, busy_blocks.c.start_at).where(
        busy_blocks.c.technician_id == uuid.UUID(technician_id), busy_blocks.c.source == "google"
    )
    with db.connect() as conn:
        return {row.external_id: row.start_at for row in conn.execute(query)}


def link(db: Engine, technician_id: str) -> dict[str, Any] | None:
    query = select(google_links).where(google_links.c.technician_id == uuid.UUID(technician_id))
    with db.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else dict(row._mapping)


def drift_rows(metrics_url: str) -> float:
    text = httpx.get(metrics_url + "/metrics").text
    for line in text.splitlines():
        if line.startswith('nmc_calendar_drift_rows_total{provider="google"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_technicians_google_calendar_keeps_their_busy_time(
    stack: tuple[str, str, dict[str, str], Running], google: FakeGoogle, db: Engine
) -> None:
    base_url, metrics_url, env, api = stack
    done = nmc(
        "tenant", "onboard", "--name", "ACME-PLUMBING", "--number", fresh_number(),
        "--forward-to", fresh_number(), "--timezone", "America/Chicago",
        "--owner-email", "owner@acme-plumbing.example", "--json",
        env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    tenant_id = json.loads(done.stdout.splitlines()[-1])["tenant_id"]
    owner = {"Authorization": f"Bearer {token_for(uuid.UUID(tenant_id))}"}
    made = httpx.post(base_url + "/v1/technicians", json={"name": "Dana Reyes"}, headers=owner)
    assert made.status_code == 201, made.text
    dana = made.json()["id"]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    google.set_event(USER, tomorrow, tomorrow + timedelta(hours=1), event_id="dentist")
    google.sync_before_watch_returns = True

    # The owner connects Dana's calendar: our link, Google's consent page, our callback.
    url = httpx.get(f"{base_url}/v1/technicians/{dana}/calendar/google/connect", headers=owner)
    assert url.status_code == 200, url.text
    google.consenting_user = USER
    redirect = httpx.get(url.json()["url"], follow_redirects=False)
    assert redirect.status_code == 302
    back = urlsplit(redirect.headers["location"])
    page = httpx.get(f"{base_url}{back.path}?{back.query}")
    assert page.status_code == 200, page.text
    assert "Google Calendar connected for Dana Reyes" in page.text

    # The worker opens the channel; Google's `sync` reaches the API before watch answers.
    wait_until(lambda: google.live_channels(USER), "a push channel")
    wait_until(lambda: logged(api, "google.notification"), "the sync notification")
    assert logged(api, "google.notification")[0]["outcome"] == "sync"
    wait_until(lambda: "dentist" in blocks(db, dana), "the first sync")

    # An event Google announces becomes a busy block.
    later = tomorrow + timedelta(hours=3)
    google.set_event(USER, later, later + timedelta(hours=1), event_id="review")
    (channel,) = google.live_channels(USER)
    delivery = google.notify(channel.id)
    assert delivery.status == 200
    wait_until(lambda: "review" in blocks(db, dana), "the announced change")

    # One nobody announces is found by the safety poll, and counted as drift.
    evening = tomorrow + timedelta(hours=6)
    google.set_event(USER, evening, evening + timedelta(hours=1), event_id="lost")
    wait_until(lambda: "lost" in blocks(db, dana), "the poll's sync", within=30)
    wait_until(lambda: drift_rows(metrics_url) >= 1, "drift in /metrics")
    status = httpx.get(f"{base_url}/v1/technicians/{dana}/calendar", headers=owner).json()
    assert status["connected"] is True
    assert status["last_synced_at"] is not None

    # Disconnecting forgets the blocks and stops the channel at Google.
    gone = httpx.delete(f"{base_url}/v1/technicians/{dana}/calendar", headers=owner)
    assert gone.status_code == 204
    assert blocks(db, dana) == {}
    assert link(db, dana) is None
    wait_until(lambda: google.live_channels(USER) == [], "the channel stopped at Google")
