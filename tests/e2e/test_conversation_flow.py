"""A whole conversation with real processes: the API and the worker as programs, real HTTP and
PostgreSQL, texts signed by Twilio's SDK, the local fake Twilio, the `nmc` CLI for the operator
and the tenant API for the owner. Missed call, quote, offers, booking, takeover, a person's
text, STOP."""

from __future__ import annotations

import json
import re
import signal
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import Engine, create_engine, func, select

from nmc_adapters.postgres import sqlalchemy_url
from nmc_adapters.postgres.messaging.tables import messages
from nmc_adapters.postgres.shared.tables import outbox_events
from tests.support.cli import clean_env, nmc
from tests.support.fake_twilio import FakeMessage, FakeTwilio
from tests.support.processes import Running, free_port
from tests.support.tenants import caller_number, fresh_number
from tests.support.twilio import ACCOUNT_SID, JWT_SECRET, call_sid, sign, status_callback

TOKEN = "e2e-conversation-auth-token"
OWNER = "owner@acme-plumbing.example"
T = TypeVar("T")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(account_sid=ACCOUNT_SID, auth_token=TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def db(database_url: str) -> Iterator[Engine]:
    """The test server's superuser: for looking past row-level security."""
    engine = create_engine(sqlalchemy_url(database_url))
    yield engine
    engine.dispose()


def wait_until(probe: Callable[[], T], what: str, within: float = 20.0) -> T:
    deadline = time.monotonic() + within
    while not (result := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within} s (last: {result!r})")
        time.sleep(0.05)
    return result


class Phone:
    """The customer: their texts are Twilio's signed webhooks; the fake holds what they got."""

    def __init__(self, base_url: str, fake: FakeTwilio, business: str) -> None:
        self.base_url, self.fake, self.business = base_url, fake, business
        self.number = caller_number()

    def _post(self, path: str, params: dict[str, str]) -> None:
        url = self.base_url + path
        headers = {"X-Twilio-Signature": sign(url, params, TOKEN)}
        response = httpx.post(url, data=params, headers=headers)
        assert response.status_code == 200, response.text

    def call_unanswered(self) -> None:
        self._post(
            "/webhooks/twilio/voice/status", status_callback(self.business, self.number, call_sid())
        )

    def text(self, body: str) -> str:
        sid = "SM" + uuid.uuid4().hex
        self._post(
            "/webhooks/twilio/sms",
            {
                "AccountSid": ACCOUNT_SID,
                "ApiVersion": "2010-04-01",
                "Body": body,
                "From": self.number,
                "MessageSid": sid,
                "NumMedia": "0",
                "SmsStatus": "received",
                "To": self.business,
            },
        )
        return sid

    @property
    def inbox(self) -> list[FakeMessage]:
        return [m for m in self.fake.messages if m.to == self.number]

    def receive(self, count: int) -> list[FakeMessage]:
        """Every text they got, once there are `count` (and no more)."""
        got = wait_until(lambda: len(self.inbox) >= count and self.inbox, f"text #{count}")
        assert len(got) == count, [m.body for m in got]
        assert all(m.from_ == self.business for m in got)
        return got


def stored(db: Engine, query) -> list[Any]:
    with db.connect() as conn:
        return list(conn.execute(query).all())


def texts_in_flight(db: Engine, tenant_id: str) -> int:
    """The tenant's SMS outbox rows the worker has still to finish."""
    rows = outbox_events.c
    query = select(func.count()).where(
        rows.tenant_id == uuid.UUID(tenant_id),
        rows.topic == "message.queued.v1",
        rows.dispatched_at.is_(None),
        rows.dead_at.is_(None),
    )
    return int(stored(db, query)[0][0])


def test_a_customer_books_then_a_person_takes_over_then_stop(database_url, fake, db) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = clean_env(
        NMC_DATABASE_URL=database_url,
        NMC_PUBLIC_BASE_URL=base_url,
        NMC_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        NMC_TWILIO_AUTH_TOKEN=TOKEN,
        NMC_TWILIO_API_BASE=fake.base_url,
        NMC_JWT_SECRET=JWT_SECRET,
    )
    api = Running([sys.executable, "-m", "nmc_api", "--port", str(port)], env)
    worker = Running([sys.executable, "-m", "nmc_worker", "--seed", "5"], env)
    try:
        # The operator's side while the programs start: onboard, approve, a token for the owner.
        number = fresh_number()
        done = nmc(
            "tenant", "onboard", "--name", "ACME-PLUMBING", "--number", number,
            "--forward-to", fresh_number(), "--timezone", "America/Denver",
            "--owner-email", OWNER, "--json",
            env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        tenant_id = json.loads(done.stdout.splitlines()[-1])["tenant_id"]
        with ThreadPoolExecutor(2) as both:  # each `nmc` is a few seconds of start-up
            approving = both.submit(nmc, "compliance", "approve", tenant_id, env=env)
            minted = nmc("token", "mint", tenant_id, OWNER, env=env)
            approved = approving.result()
        assert approved.returncode == 0, approved.stderr
        assert minted.returncode == 0, minted.stderr
        api.wait_for(lambda line: "Application startup complete" in line, within=60)
        worker.wait_for(lambda line: "worker.started" in line, within=60)
        owner = httpx.Client(
            base_url=base_url + "/v1",
            headers={"Authorization": f"Bearer {minted.stdout.strip()}"},
        )
        run_the_conversation(owner, Phone(base_url, fake, number), db, tenant_id)
    finally:
        api_code, worker_code = api.stop(), worker.stop()
    # uvicorn re-raises SIGTERM after its graceful shutdown: -15 is a clean exit too.
    assert api_code in (0, -signal.SIGTERM), api.output
    assert worker_code == 0, worker.output
    assert TOKEN not in api.output + worker.output


def run_the_conversation(owner: httpx.Client, phone: Phone, db: Engine, tenant_id: str) -> None:
    # The owner sets up what the assistant quotes and books: an item, a technician, hours.
    item = owner.post(
        "/catalog/items",
        json={
            "name": "Water heater flush",
            "price_cents": 18_900,
            "duration_minutes": 90,
            "aliases": ["water heater", "tank flush"],
        },
    )
    assert item.status_code == 201, item.text
    technician = owner.post("/technicians", json={"name": "Dana"})
    assert technician.status_code == 201, technician.text
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    periods = [{"weekday": day, "start": "08:00", "end": "18:00"} for day in days]
    hours = owner.put("/business-hours", json={"periods": periods})
    assert hours.status_code == 200, hours.text

    # A missed call is texted back; the customer says what's wrong.
    phone.call_unanswered()
    [text_back] = phone.receive(1)
    assert "ACME-PLUMBING" in text_back.body
    phone.text("my water heater is leaking")
    offers = phone.receive(2)[-1].body
    assert "Water heater flush: $189.00" in offers
    picks = dict(re.findall(r"^([123])\) (.+)$", offers, re.MULTILINE))
    assert sorted(picks) == ["1", "2", "3"], offers

    # They pick the second time: booked, confirmed, and the owner sees the appointment.
    phone.text("2")
    confirmation = phone.receive(3)[-1].body
    assert "You're booked" in confirmation
    assert picks["2"] in confirmation
    now = datetime.now(UTC)
    listed = owner.get(
        "/appointments",
        params={"from": now.isoformat(), "to": (now + timedelta(days=30)).isoformat()},
    )
    assert listed.status_code == 200, listed.text
    [appointment] = listed.json()["items"]
    assert (appointment["contact_phone"], appointment["item_id"]) == (
        phone.number,
        item.json()["id"],
    )
    assert (appointment["status"], appointment["price_cents"]) == ("booked", 18_900)

    # A person takes over: the assistant is silent from the next text on.
    conversations = owner.get("/conversations").json()["items"]
    [conversation] = [c for c in conversations if c["contact"] == phone.number]
    taken = owner.post(f"/conversations/{conversation['id']}/takeover")
    assert taken.status_code == 200, taken.text
    assert taken.json()["state"] == "human"
    sid = phone.text("can you come earlier?")
    # Stored, in the transaction that would have queued an answer: nothing was, nor can be.
    query = select(messages.c.created_at).where(
        messages.c.provider_sid == sid, messages.c.direction == "inbound"
    )
    [(received_at,)] = wait_until(lambda: stored(db, query), "the text is stored")
    later = select(func.count()).where(
        messages.c.to_number == phone.number, messages.c.created_at >= received_at
    )
    assert stored(db, later)[0][0] == 0
    assert len(phone.inbox) == 3

    person = owner.post(
        f"/conversations/{conversation['id']}/messages",
        json={"body": "Hi, Dana here: I can be there at 8 tomorrow."},
    )
    assert person.status_code == 201, person.text
    assert phone.receive(4)[-1].body == "Hi, Dana here: I can be there at 8 tomorrow."

    # STOP: one confirmation, and nobody may text them any more.
    phone.text("STOP")
    unsubscribed = phone.receive(5)[-1].body
    assert "unsubscribed" in unsubscribed
    wait_until(lambda: texts_in_flight(db, tenant_id) == 0, "the worker finishes every text")
    assert len(phone.inbox) == 5
    refused = owner.post(
        f"/conversations/{conversation['id']}/messages", json={"body": "Are you sure?"}
    )
    assert refused.status_code == 403, refused.text
    assert len(phone.inbox) == 5
