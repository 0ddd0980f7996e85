"""`nmc simulate sms` and `nmc chat` in-process against the real API app (served over HTTP on
127.0.0.1 from a thread), a worker in another thread sending to the local fake Twilio, and
real PostgreSQL; plus the demo set-up `nmc dev` gives its tenant."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import uvicorn
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from nmc_adapters.postgres import (
    contexts,  # noqa: F401 - declares every table
    sqlalchemy_url,
)
from nmc_adapters.postgres.catalog.tables import catalog_items
from nmc_adapters.postgres.messaging.tables import messages
from nmc_adapters.settings import Settings
from nmc_api.bootstrap import build_app
from nmc_cli.bootstrap import with_uow
from nmc_cli.chat import chat as chat_command
from nmc_cli.dev import ensure_demo_setup
from nmc_cli.main import app
from nmc_domain.conversation.people import (
    list_conversations,
    send_person_text,
    take_over_conversation,
)
from nmc_domain.identity.model import Principal
from nmc_domain.scheduling.setup import get_business_hours, list_technicians
from nmc_worker.bootstrap import build_worker
from nmc_worker.dispatcher import DispatcherOptions
from tests.support.cli import clean_env, nmc_inline
from tests.support.fake_twilio import FakeTwilio
from tests.support.processes import free_port
from tests.support.tenants import caller_number, fresh_number
from tests.support.twilio import ACCOUNT_SID, AUTH_TOKEN, JWT_SECRET

OWNER = "owner@acme-plumbing.example"


class _Served:
    """An asyncio service run to completion in a thread of its own, stopped from outside."""

    def __init__(self, serve: Callable[[asyncio.Event], Any]) -> None:
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()

        async def main() -> None:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            self._ready.set()
            await serve(self._stop)

        self._thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
        self._thread.start()
        assert self._ready.wait(10)

    def stop(self) -> None:
        assert self._loop is not None
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(20)
        assert not self._thread.is_alive()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def base_url(database_url: str, fake: FakeTwilio) -> Iterator[str]:
    """The API app and a worker, as `nmc dev` runs them, but in this process."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=database_url,
        public_base_url=base,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_api_base=fake.base_url,
        jwt_secret=JWT_SECRET,
        log_level="warning",
    )
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(settings), host="127.0.0.1", port=port, log_config=None, access_log=False
        )
    )

    async def serve_api(stop: asyncio.Event) -> None:
        task = asyncio.create_task(server.serve())
        await stop.wait()
        server.should_exit = True
        await task

    async def run_worker(stop: asyncio.Event) -> None:
        await build_worker(settings, options=DispatcherOptions(poll_seconds=0.2)).run(stop)

    api, worker = _Served(serve_api), _Served(run_worker)
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    try:
        yield base
    finally:
        api.stop()
        worker.stop()


@pytest.fixture(scope="module")
def env(database_url: str, base_url: str) -> dict[str, str]:
    return clean_env(
        NMC_DATABASE_URL=database_url,
        NMC_PUBLIC_BASE_URL=base_url,
        NMC_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        NMC_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
    )


def rows(database_url: str, query) -> list[Any]:
    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            return list(conn.execute(query).all())
    finally:
        engine.dispose()


def texts_of(database_url: str, contact: str) -> list[Any]:
    """Both directions of a contact's texts, oldest first ("inbound" sorts before "outbound")."""
    c = messages.c
    query = (
        select(c.direction, c.author, c.status, c.body, c.provider_sid, c.conversation_id)
        .where((c.to_number == contact) | (c.from_number == contact))
        .order_by(c.created_at, c.direction, c.id)  # a text before the answers stored with it
    )
    return rows(database_url, query)


def wait_until(probe: Callable[[], Any], what: str, within: float = 15.0) -> Any:
    deadline = time.monotonic() + within
    while not (result := probe()):
        assert time.monotonic() < deadline, f"{what}: not within {within} s"
        time.sleep(0.05)
    return result


def onboarded(env: dict[str, str], tmp_path: Path) -> tuple[UUID, str]:
    """An approved tenant, the operator's way; its number."""
    number = fresh_number()
    done = nmc_inline(
        "tenant", "onboard", "--name", "ACME-PLUMBING", "--number", number,
        "--forward-to", fresh_number(), "--timezone", "America/New_York",
        "--owner-email", OWNER, "--json",
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.exit_code == 0, done.stderr
    tenant_id = UUID(json.loads(done.stdout.splitlines()[-1])["tenant_id"])
    assert nmc_inline("compliance", "approve", str(tenant_id), env=env, cwd=tmp_path).exit_code == 0
    return tenant_id, number


def test_simulate_sms_is_stored_once_and_answered(env, database_url, fake, tmp_path) -> None:
    _, number = onboarded(env, tmp_path)
    contact = caller_number()
    args = ["simulate", "sms", "--from", contact, "--to", number, "--body", "hello there"]

    done = nmc_inline(*args, "--json", env=env, cwd=tmp_path)

    assert done.exit_code == 0, done.stderr
    last = json.loads(done.stdout.splitlines()[-1])
    assert last["http_status"] == 200
    assert re.fullmatch(r"SM[0-9a-f]{32}", last["message_sid"])
    [answer] = wait_until(lambda: [m for m in fake.messages if m.to == contact], "the answer")
    assert answer.from_ == number
    assert "what do you need help with" in answer.body  # the assistant, with no catalog
    inbound, outbound = wait_until(
        lambda: (found := texts_of(database_url, contact))[-1].provider_sid and found,
        "the answer's provider sid is stored",
    )
    assert (inbound.direction, inbound.body) == ("inbound", "hello there")
    assert inbound.provider_sid == last["message_sid"]
    assert (outbound.direction, outbound.author) == ("outbound", "assistant")
    assert outbound.provider_sid == answer.sid
    assert outbound.conversation_id == inbound.conversation_id

    # Twilio retries a webhook it got no answer to: the same MessageSid is stored once.
    again = nmc_inline(*args, "--message-sid", last["message_sid"], env=env, cwd=tmp_path)

    assert again.exit_code == 0, again.stderr
    assert "API answered 200" in again.stdout
    assert [tuple(r) for r in texts_of(database_url, contact)] == [tuple(inbound), tuple(outbound)]


@pytest.mark.parametrize(
    ("option", "value"),
    [("--from", "12"), ("--from", "not-a-number"), ("--to", "+1555"), ("--message-sid", "SM12")],
)
def test_simulate_sms_bad_input_is_one_line_exit_2(env, tmp_path, option, value) -> None:
    options = {"--from": "+14155550123", "--to": fresh_number(), "--body": "hi", option: value}

    done = nmc_inline(
        "simulate", "sms", *[x for pair in options.items() for x in pair], env=env, cwd=tmp_path
    )

    assert done.exit_code == 2
    assert option in done.stderr
    assert value in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_simulate_sms_without_an_api_says_so(env, tmp_path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    done = nmc_inline(
        "simulate", "sms", "--from", "+14155550123", "--to", fresh_number(), "--body", "hi",
        "--base-url", nowhere,
        env=env, cwd=tmp_path,
    )  # fmt: skip

    assert done.exit_code == 2
    assert "cannot reach the API" in done.stderr
    assert nowhere in done.stderr


def test_the_demo_setup_is_added_once(env, database_url, tmp_path) -> None:
    tenant_id, _ = onboarded(env, tmp_path)
    owner = Principal(OWNER, tenant_id)

    async def twice_then_read(new_uow):
        await ensure_demo_setup(new_uow, owner)
        await ensure_demo_setup(new_uow, owner)
        technicians = await list_technicians(new_uow(), owner, None, 10)
        return technicians.items, await get_business_hours(new_uow(), owner)

    technicians, hours = asyncio.run(with_uow(database_url, twice_then_read))

    items = rows(
        database_url,
        select(catalog_items.c.name, catalog_items.c.price_cents, catalog_items.c.duration_minutes)
        .where(catalog_items.c.tenant_id == tenant_id)
        .order_by(catalog_items.c.name),
    )
    assert [tuple(i) for i in items] == [
        ("Drain cleaning", 14_900, 60),
        ("Water heater flush", 18_900, 90),
    ]
    assert len(technicians) == 1
    labels = [(p.weekday.label, p.start, p.end) for p in hours.periods]
    assert labels[:5] == [(day, 8 * 60, 17 * 60) for day in ("mon", "tue", "wed", "thu", "fri")]
    assert labels[5:] == [("sat", 9 * 60, 13 * 60)]


def as_user(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], cwd: Path) -> None:
    """This process's environment is exactly `env`, its folder `cwd` (until the test ends)."""
    for name in [name for name in os.environ if name.startswith("NMC_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(cwd)


def chat(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], cwd: Path, lines: str, *args: str):
    """`nmc chat ARGS…` in this process with exactly `env`, `lines` piped to it."""
    as_user(monkeypatch, env, cwd)
    return CliRunner().invoke(app, ["chat", *args], input=lines, catch_exceptions=False)


def test_chat_books_a_job_from_piped_lines(env, database_url, fake, tmp_path, monkeypatch) -> None:
    tenant_id, number = onboarded(env, tmp_path)
    asyncio.run(with_uow(database_url, lambda n: ensure_demo_setup(n, Principal(OWNER, tenant_id))))
    contact = caller_number()

    done = chat(
        monkeypatch, env, tmp_path, "my water heater is leaking\n\n2\n/quit\nnever sent\n",
        "--from", contact, "--to", number,
    )  # fmt: skip

    assert done.exit_code == 0, done.stderr
    transcript = done.stdout
    sent = [m.body for m in fake.messages if m.to == contact]
    assert len(sent) == 3, transcript  # the text-back, the quote with its offers, the booking
    assert "Hi, this is ACME-PLUMBING" in sent[0]
    assert "Water heater flush: $189.00" in sent[1]
    assert "You're booked" in sent[2]
    # Each shown once, in order, between the lines that asked for it (it waited for each).
    order = [
        "you called ACME-PLUMBING",
        sent[0].splitlines()[0],
        "you: my water heater is leaking",
        *sent[1].splitlines(),
        "you: 2",
        sent[2],
        "nmc chat: bye",
    ]
    positions = [transcript.find(part) for part in order]
    assert -1 not in positions, transcript
    assert positions == sorted(positions), transcript
    assert all(transcript.count(body.splitlines()[0]) == 1 for body in sent), transcript
    assert "ACME-PLUMBING (queued)" in transcript  # the fake accepts, as Twilio does
    assert "never sent" not in transcript
    inbound = [r.body for r in texts_of(database_url, contact) if r.direction == "inbound"]
    assert inbound == ["my water heater is leaking", "2"]  # empty lines are not texts


def test_chat_shows_a_persons_texts_while_the_customer_types(
    env, database_url, fake, tmp_path, monkeypatch, capsys
) -> None:
    tenant_id, number = onboarded(env, tmp_path)
    owner = Principal(OWNER, tenant_id)
    contact = caller_number()
    typed, typing = os.pipe()
    inbound = select(messages.c.body).where(
        messages.c.from_number == contact, messages.c.direction == "inbound"
    )

    async def take_over(new_uow) -> UUID:
        page = await list_conversations(new_uow(), owner, None, None, 50)
        [conversation] = [c for c in page.items if c.caller == contact]
        await take_over_conversation(new_uow(), owner, conversation.id)
        return conversation.id

    async def answer(new_uow, conversation_id: UUID) -> UUID:
        person = await send_person_text(new_uow(), owner, conversation_id, "Dana here: on my way")
        return person.id

    def customer_and_owner() -> None:
        """The customer types while the owner takes over and answers in person."""
        with os.fdopen(typing, "w") as keyboard:
            wait_until(lambda: [m for m in fake.messages if m.to == contact], "the text-back")
            conversation_id = asyncio.run(with_uow(database_url, take_over))
            keyboard.write("are you there?\n")
            keyboard.flush()
            wait_until(lambda: rows(database_url, inbound), "the text is stored")
            sent = asyncio.run(with_uow(database_url, lambda n: answer(n, conversation_id)))
            query = select(messages.c.provider_sid).where(messages.c.id == sent)
            wait_until(lambda: rows(database_url, query)[0].provider_sid, "the person's text left")
            keyboard.write("/quit\n")

    person = threading.Thread(target=customer_and_owner)
    person.start()
    as_user(monkeypatch, env, tmp_path)
    # A keyboard: each line comes when it is typed (Click's runner only takes them all at once).
    with os.fdopen(typed, "r") as keys:
        monkeypatch.setattr(sys, "stdin", keys)
        chat_command(caller=contact, to=number, base_url=None)
    person.join(30)

    transcript = capsys.readouterr().out
    parts = ["Hi, this is ACME-PLUMBING", "you: are you there?", "Dana here: on my way", "bye"]
    positions = [transcript.find(part) for part in parts]
    assert -1 not in positions, transcript
    assert positions == sorted(positions), transcript
    assert transcript.count("ACME-PLUMBING (queued)") == 2, transcript  # no assistant answer
    assert [m.body for m in fake.messages if m.to == contact][1:] == ["Dana here: on my way"]


def test_chat_to_a_number_nobody_answers_is_exit_2(env, tmp_path, monkeypatch) -> None:
    nobody = fresh_number()

    done = chat(monkeypatch, env, tmp_path, "", "--from", caller_number(), "--to", nobody)

    assert done.exit_code == 2
    assert f"--to: no business answers {nobody}" in done.stderr


def test_chat_needs_a_good_number(env, tmp_path, monkeypatch) -> None:
    done = chat(monkeypatch, env, tmp_path, "", "--from", "415 555 0123", "--to", fresh_number())

    assert done.exit_code == 2
    assert "--from" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
