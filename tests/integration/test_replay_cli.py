"""`nmc replay` against real PostgreSQL: dead letters and set-aside rows listed and requeued,
texts the provider already took never sent twice, stored webhooks re-run idempotently.

Each test gets a database of its own (a copy of the migrated template): `replay list` and
`requeue --all-dead` see every row, so the expectations below are exact counts.
"""

from __future__ import annotations

import asyncio
import json
import os
import pty
import random
import re
import subprocess
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.memory import FakeSmsSender
from nmc_adapters.postgres import (
    PgOutboxQueue,
    PgUnitOfWork,
    contexts,  # noqa: F401 - declares every table
    create_engine,
)
from nmc_adapters.postgres.messaging.tables import messages
from nmc_adapters.postgres.shared.tables import outbox_events, webhook_events
from nmc_adapters.postgres.telephony.tables import calls
from nmc_adapters.wire import encode_event
from nmc_domain.messaging.errors import SmsNotSent
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.shared.retry import RetryPolicies, RetryPolicy
from nmc_domain.telephony.missed_call import CallStatusReport, report_call_status
from nmc_worker.dispatcher import Dispatcher, DispatcherOptions
from nmc_worker.handlers import build_dead_letter_handlers, build_handlers, retry_policies
from tests.support.api import api_client, api_settings
from tests.support.cli import NMC, clean_env, nmc, nmc_inline
from tests.support.databases import create_database, drop_database, with_database
from tests.support.tenants import caller_number, onboard
from tests.support.twilio import ACCOUNT_SID, PUBLIC_BASE_URL, call_sid, sign, status_callback

QUEUED_TOPIC = "message.queued.v1"
# Any failure buries the row at once: the first dispatch leaves a dead letter behind, the
# way six hours of failures would.
GIVE_UP_AT_ONCE = RetryPolicies(
    default=RetryPolicy(base_seconds=0.001, cap_seconds=0.001, give_up_seconds=1e-6)
)


@dataclass(frozen=True)
class Db:
    url: str
    engine: AsyncEngine  # the apps' role (nmc_app), as the worker and the CLI use it
    admin: AsyncEngine  # the server's superuser, for setting rows up and asserting on them

    @property
    def env(self) -> dict[str, str]:
        return clean_env(NMC_DATABASE_URL=self.url)

    def new_uow(self) -> PgUnitOfWork:
        return PgUnitOfWork(self.engine)


@pytest.fixture
async def db(pg_admin_url: str, migrated_template: str) -> AsyncIterator[Db]:
    name = create_database(pg_admin_url, template=migrated_template, prefix="nmc_replay")
    url = with_database(pg_admin_url, name)
    engine = create_engine(url, pool_size=4)
    admin = create_engine(url, pool_size=2, role=None)
    try:
        yield Db(url, engine, admin)
    finally:
        await engine.dispose()
        await admin.dispose()
        drop_database(pg_admin_url, name)


async def replay(db: Db, *args: str):
    """`nmc replay ARGS…` in-process (in a thread: the command runs its own event loop)."""
    return await asyncio.to_thread(nmc_inline, "replay", *args, env=db.env)


# --- outbox rows, written directly -------------------------------------------------------


async def add_row(
    db: Db,
    *,
    state: str,
    topic: str = "ledger.export.v1",
    tenant_id: UUID | None = None,
    age: timedelta = timedelta(minutes=5),
    attempts: int = 0,
    error: str | None = None,
    available_in: timedelta = timedelta(0),
    event: MessageQueued | None = None,
    **columns: Any,
) -> int:
    """An outbox row in `state` (dead, needs_review, pending, dispatched), written `age` ago."""
    now = datetime.now(UTC)
    if event is not None:
        topic, version, payload = encode_event(event)
        tenant_id = event.tenant_id
    else:
        version, payload = 1, {"type": topic}
    values: dict[str, Any] = {
        "topic": topic,
        "payload": payload,
        "schema_version": version,
        "tenant_id": tenant_id,
        "created_at": now - age,
        "available_at": now + available_in,
        "attempts": attempts,
        "last_error": error,
        **columns,
    }
    finished = {
        "dead": "dead_at",
        "needs_review": "needs_review_at",
        "dispatched": "dispatched_at",
        "pending": None,
    }[state]
    if finished is not None:
        values[finished] = now - timedelta(seconds=30)
    async with db.admin.begin() as conn:
        return (
            await conn.execute(insert(outbox_events).values(values).returning(outbox_events.c.id))
        ).scalar_one()


async def rows(db: Db, *where) -> dict[int, Any]:
    async with db.admin.connect() as conn:
        query = select(outbox_events).where(*where).order_by(outbox_events.c.id)
        return {row.id: row for row in (await conn.execute(query)).all()}


async def row(db: Db, row_id: int):
    return (await rows(db, outbox_events.c.id == row_id))[row_id]


async def due_now(db: Db, row_id: int) -> bool:
    async with db.admin.connect() as conn:
        query = select(outbox_events.c.available_at <= func.now()).where(
            outbox_events.c.id == row_id
        )
        return bool((await conn.execute(query)).scalar_one())


async def count(db: Db, table, *where) -> int:
    async with db.admin.connect() as conn:
        return (
            await conn.execute(select(func.count()).select_from(table).where(*where))
        ).scalar_one()


def first_tokens(stdout: str) -> list[str]:
    return [line.split()[0] for line in stdout.splitlines() if line.strip()]


def line_of(stdout: str, row_id: int) -> str:
    [line] = [line for line in stdout.splitlines() if line.split()[:1] == [str(row_id)]]
    return line


# --- replay list -------------------------------------------------------------------------

ACME = UUID("6f1c2a9e-4b7d-4e21-9a35-0c8d7e5f1a01")
RIVAL = UUID("0b9e8d7c-6a5f-4e32-8d10-fedcba987654")
SMS_503 = "SmsNotSent: provider answered 503 Service Unavailable"
REVIEW = "2 provider record(s) could be this message or one of 1 other unconfirmed message(s)"


async def seed_list_rows(db: Db) -> dict[str, int]:
    """Two dead, two set aside, one pending (with an error) and one dispatched row."""
    return {
        "dead_acme": await add_row(
            db,
            state="dead",
            topic=QUEUED_TOPIC,
            tenant_id=ACME,
            age=timedelta(hours=2, minutes=5, seconds=30),
            attempts=7,
            error=SMS_503,
        ),
        "dead_rival": await add_row(
            db,
            state="dead",
            topic="ledger.export.v1",
            tenant_id=RIVAL,
            age=timedelta(days=3, hours=4, minutes=30),
            attempts=12,
            error="no handler for topic 'ledger.export.v1'",
        ),
        "review_acme": await add_row(
            db,
            state="needs_review",
            topic=QUEUED_TOPIC,
            tenant_id=ACME,
            age=timedelta(minutes=42, seconds=20),
            attempts=2,
            error=REVIEW,
        ),
        "review_rival": await add_row(
            db,
            state="needs_review",
            topic=QUEUED_TOPIC,
            tenant_id=RIVAL,
            age=timedelta(days=2, hours=1),
            attempts=1,
            error=REVIEW,
        ),
        "pending_acme": await add_row(
            db,
            state="pending",
            topic=QUEUED_TOPIC,
            tenant_id=ACME,
            age=timedelta(hours=1),
            attempts=3,
            error="SmsNotSent: provider answered 429 Too Many Requests",
        ),
        "dispatched_acme": await add_row(
            db,
            state="dispatched",
            topic=QUEUED_TOPIC,
            tenant_id=ACME,
            age=timedelta(hours=3),
            attempts=1,
            error="SmsNotSent: provider answered 500",
        ),
    }


async def test_list_shows_dead_and_set_aside_rows_with_error_attempts_and_age(db) -> None:
    ids = await seed_list_rows(db)

    done = await replay(db, "list")

    assert done.exit_code == 0, done.stderr
    lines = done.stdout.splitlines()
    # Oldest first: 3 days, 2 days, 2 hours, 42 minutes; then the count.
    expected = ["dead_rival", "review_rival", "dead_acme", "review_acme"]
    assert first_tokens(done.stdout)[:-1] == [str(ids[name]) for name in expected]
    assert lines[-1] == "4 row(s)"
    dead = line_of(done.stdout, ids["dead_acme"])
    assert re.search(r"\bdead\b", dead)
    assert "attempts 7 " in dead
    assert re.search(r"age\s+2h05m\b", dead)
    assert dead.endswith(SMS_503)
    old = line_of(done.stdout, ids["dead_rival"])
    assert "attempts 12" in old
    assert re.search(r"age\s+3d04h\b", old)
    assert old.endswith("no handler for topic 'ledger.export.v1'")
    review = line_of(done.stdout, ids["review_acme"])
    assert re.search(r"\bneeds_review\b", review)
    assert "attempts 2 " in review
    assert re.search(r"age\s+42m[12]\ds\b", review)
    assert review.endswith(REVIEW)


async def test_list_json_is_one_object_per_line(db) -> None:
    ids = await seed_list_rows(db)

    done = await replay(db, "list", "--json")

    assert done.exit_code == 0, done.stderr
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    by_id = {o["id"]: o for o in objects}
    assert set(by_id) == {
        ids["dead_acme"],
        ids["dead_rival"],
        ids["review_acme"],
        ids["review_rival"],
    }
    dead = by_id[ids["dead_acme"]]
    assert (dead["state"], dead["attempts"], dead["error"]) == ("dead", 7, SMS_503)
    assert (dead["topic"], dead["tenant_id"]) == (QUEUED_TOPIC, str(ACME))
    assert 2 * 3600 + 5 * 60 + 30 <= dead["age_seconds"] < 2 * 3600 + 6 * 60 + 30
    review = by_id[ids["review_acme"]]
    assert (review["state"], review["attempts"], review["error"]) == ("needs_review", 2, REVIEW)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--dead"], {"dead_acme", "dead_rival"}),
        (["--needs-review"], {"review_acme", "review_rival"}),
        (["--topic", "ledger.export.v1"], {"dead_rival"}),
        (["--topic", QUEUED_TOPIC, "--dead"], {"dead_acme"}),
        (["--tenant", str(ACME)], {"dead_acme", "review_acme"}),
        (["--tenant", str(RIVAL), "--needs-review"], {"review_rival"}),
        (["--since", "SINCE_1_DAY"], {"dead_acme", "review_acme"}),
        (["--since", "SINCE_1_DAY_NAIVE", "--dead"], {"dead_acme"}),
        (["--topic", "no.such.topic.v1"], set()),
    ],
)
async def test_list_filters(db, args, expected) -> None:
    ids = await seed_list_rows(db)
    day_ago = datetime.now(UTC) - timedelta(days=1)
    spelled = {
        "SINCE_1_DAY": day_ago.isoformat().replace("+00:00", "Z"),
        "SINCE_1_DAY_NAIVE": day_ago.replace(tzinfo=None).isoformat(timespec="seconds"),
    }
    args = [spelled.get(a, a) for a in args]

    done = await replay(db, "list", *args, "--json")

    assert done.exit_code == 0, done.stderr
    listed = {json.loads(line)["id"] for line in done.stdout.splitlines()}
    assert listed == {ids[name] for name in expected}


async def test_list_with_nothing_to_show_says_so(db) -> None:
    await add_row(db, state="pending")
    await add_row(db, state="dispatched")

    done = await replay(db, "list")
    filtered = await replay(db, "list", "--topic", "ledger.export.v1")

    assert (done.exit_code, done.stdout) == (0, "nothing dead or set aside\n")
    assert filtered.stdout == "nothing dead or set aside (with these filters)\n"


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["list", "--since", "yesterday"], "'yesterday'"),
        (["list", "--since", "2026-13-45"], "'2026-13-45'"),
        (["list", "--tenant", "acme-plumbing"], "'acme-plumbing'"),
        (["list", "--dead", "--needs-review"], "--needs-review"),
        (["requeue", "--all-dead", "--since", "last week"], "'last week'"),
        (["requeue"], "--all-dead"),
        (["requeue", "--topic", QUEUED_TOPIC], "--all-dead"),
    ],
)
async def test_bad_input_is_one_line_exit_2(db, args, named) -> None:
    dead = await add_row(db, state="dead", error=SMS_503)
    before = await rows(db)

    done = await replay(db, *args)

    assert done.exit_code == 2
    assert named in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert await rows(db) == before
    assert (await row(db, dead)).dead_at is not None


# --- replay requeue ----------------------------------------------------------------------


async def test_requeue_by_id_makes_dead_and_set_aside_rows_due_with_errors_kept(db) -> None:
    dead = await add_row(
        db, state="dead", attempts=9, error=SMS_503, available_in=timedelta(days=1)
    )
    review = await add_row(
        db, state="needs_review", attempts=2, error=REVIEW, available_in=timedelta(hours=2)
    )
    other = await add_row(db, state="dead", attempts=4, error="left alone")

    done = await replay(db, "requeue", str(review), str(dead))

    assert done.exit_code == 0, done.stderr
    assert done.stdout.splitlines() == [f"requeued 2 row(s): {dead}, {review}"]
    for row_id, error in ((dead, SMS_503), (review, REVIEW)):
        requeued = await row(db, row_id)
        assert (requeued.dead_at, requeued.needs_review_at, requeued.dispatched_at) == (
            None,
            None,
            None,
        )
        assert requeued.attempts == 0
        assert requeued.last_error == error
        assert requeued.lease_token is None
        assert await due_now(db, row_id)
    untouched = await row(db, other)
    assert untouched.dead_at is not None
    assert untouched.attempts == 4


async def test_requeue_resets_the_count_of_lapsed_claims_too(db) -> None:
    # Buried for crashing its worker again and again (max_reclaims): requeued after the fix,
    # one more lapsed lease must not bury it on the spot; the count starts over like attempts.
    crashed = await add_row(
        db,
        state="dead",
        topic=QUEUED_TOPIC,
        attempts=5,
        reclaims=5,
        error="gave up: its worker stopped or hung 5 time(s) (lease lapsed)",
    )

    done = await replay(db, "requeue", str(crashed))

    assert done.exit_code == 0, done.stderr
    requeued = await row(db, crashed)
    assert (requeued.dead_at, requeued.attempts) == (None, 0)
    assert requeued.reclaims == 0


@pytest.mark.parametrize("state", ["pending", "dispatched"])
async def test_requeue_refuses_rows_that_are_not_dead_or_set_aside(db, state) -> None:
    busy = await add_row(db, state=state, attempts=1, available_in=timedelta(minutes=10))
    dead = await add_row(db, state="dead", attempts=5, error=SMS_503)
    before = await rows(db)

    done = await replay(db, "requeue", str(dead), str(busy))

    assert done.exit_code == 2
    assert f"{busy} is {state}" in done.stderr
    assert "Traceback" not in done.stderr
    assert await rows(db) == before  # the dead row named with it is not requeued either


async def test_requeue_of_an_unknown_id_is_exit_2(db) -> None:
    dead = await add_row(db, state="dead", error=SMS_503)
    before = await rows(db)

    done = await replay(db, "requeue", str(dead), "987654321")

    assert done.exit_code == 2
    assert "987654321" in done.stderr
    assert "Traceback" not in done.stderr
    assert await rows(db) == before


async def test_requeue_all_dead_of_one_topic(db) -> None:
    dead_a1 = await add_row(db, state="dead", topic="ledger.export.v1", attempts=3, error="e1")
    dead_a2 = await add_row(db, state="dead", topic="ledger.export.v1", attempts=8, error="e2")
    dead_b = await add_row(db, state="dead", topic="crm.push.v1", attempts=6, error="e3")
    review_a = await add_row(db, state="needs_review", topic="ledger.export.v1", error="r")
    pending_a = await add_row(db, state="pending", topic="ledger.export.v1", attempts=2)
    untouched = [dead_b, review_a, pending_a]
    before = await rows(db, outbox_events.c.id.in_(untouched))

    done = await replay(db, "requeue", "--all-dead", "--topic", "ledger.export.v1")

    assert done.exit_code == 0, done.stderr
    assert done.stdout.splitlines() == [f"requeued 2 row(s): {dead_a1}, {dead_a2}"]
    for row_id, error in ((dead_a1, "e1"), (dead_a2, "e2")):
        requeued = await row(db, row_id)
        assert (requeued.dead_at, requeued.attempts, requeued.last_error) == (None, 0, error)
        assert await due_now(db, row_id)
    assert await rows(db, outbox_events.c.id.in_(untouched)) == before


async def test_requeue_all_dead_since(db) -> None:
    old = await add_row(db, state="dead", age=timedelta(days=3), error="old")
    new = await add_row(db, state="dead", age=timedelta(hours=1), error="new")
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()

    done = await replay(db, "requeue", "--all-dead", "--since", since)

    assert done.exit_code == 0, done.stderr
    assert done.stdout.splitlines() == [f"requeued 1 row(s): {new}"]
    assert (await row(db, old)).dead_at is not None
    assert (await row(db, new)).dead_at is None


@pytest.mark.parametrize("by", ["ids", "all-dead"])
async def test_dry_run_changes_nothing(db, by) -> None:
    first = await add_row(db, state="dead", attempts=4, error=SMS_503)
    second = await add_row(db, state="dead", attempts=6, error=SMS_503)
    await add_row(db, state="pending")
    before = await rows(db)
    args = [str(first), str(second)] if by == "ids" else ["--all-dead"]

    done = await replay(db, "requeue", *args, "--dry-run")

    assert done.exit_code == 0, done.stderr
    assert done.stdout.splitlines() == [f"would requeue 2 row(s): {first}, {second}"]
    assert await rows(db) == before


async def test_bulk_requeue_reports_every_row_through_a_real_process(db) -> None:
    ids = [await add_row(db, state="dead", attempts=8, error=SMS_503) for _ in range(25)]

    done = await asyncio.to_thread(nmc, "replay", "requeue", "--all-dead", env=db.env)

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"requeued 25 row(s): {', '.join(map(str, ids))}"]
    assert "Traceback" not in done.stderr
    assert await count(db, outbox_events, outbox_events.c.dead_at.is_not(None)) == 0
    assert await count(db, outbox_events, outbox_events.c.attempts == 0) == 25


def _run_in_a_terminal(args: Sequence[str], env: dict[str, str]) -> tuple[int, str]:
    """Run `nmc ARGS` with a pseudo-terminal as stdout and stderr (rich draws its bar)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [NMC, *args], stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, env=env
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return process.wait(timeout=60), b"".join(chunks).decode(errors="replace")


async def test_the_progress_bar_on_a_terminal_does_not_break_the_output(db) -> None:
    ids = [await add_row(db, state="dead", attempts=8, error=SMS_503) for _ in range(25)]
    env = db.env | {"TERM": "xterm-256color", "COLUMNS": "120"}
    env.pop("NO_COLOR", None)

    code, output = await asyncio.to_thread(
        _run_in_a_terminal, ["replay", "requeue", "--all-dead"], env
    )

    assert code == 0, output
    assert "requeueing" in output  # the bar was drawn on the terminal...
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output).replace("\r", "\n")
    final = [line for line in plain.splitlines() if line.strip()][-1]
    # ...and erased: the report is a whole line of its own, the last thing written.
    assert final == f"requeued 25 row(s): {', '.join(map(str, ids))}"
    assert "Traceback" not in output
    assert await count(db, outbox_events, outbox_events.c.dead_at.is_not(None)) == 0


# --- requeued texts: sent once, never twice ----------------------------------------------


class NeverWakes:
    async def wait(self, seconds: float) -> bool:
        await asyncio.sleep(seconds)
        return False


def dispatcher(db: Db, sender: FakeSmsSender, policies: RetryPolicies) -> Dispatcher:
    """The worker's dispatcher as nmc_worker.bootstrap builds it, on a fake provider."""
    return Dispatcher(
        PgOutboxQueue(db.engine),
        NeverWakes(),
        build_handlers(db.new_uow, sender),
        policies,
        random.Random(11),
        DispatcherOptions(),
        dead_letters=build_dead_letter_handlers(db.new_uow),
    )


async def drain(db: Db, sender: FakeSmsSender, policies: RetryPolicies) -> None:
    """Run every due row once it is due now (one worker pass per batch, until none is)."""
    worker = dispatcher(db, sender, policies)
    while await worker.run_once():
        pass


async def text_back(db: Db, number: str, caller: str) -> UUID:
    """A missed call through the real use case: the text-back is queued (row pending)."""
    report = CallStatusReport(
        call_sid(), number, caller, "no-answer", 0, status_callback(number, caller, call_sid())
    )
    result = await report_call_status(db.new_uow(), report)
    assert result.message_id is not None
    return result.message_id


async def message(db: Db, message_id: UUID):
    async with db.admin.connect() as conn:
        return (await conn.execute(select(messages).where(messages.c.id == message_id))).one()


async def row_of(db: Db, message_id: UUID):
    [found] = (
        await rows(
            db,
            outbox_events.c.topic == QUEUED_TOPIC,
            outbox_events.c.payload["message_id"].astext == str(message_id),
        )
    ).values()
    return found


async def test_a_given_up_text_is_queued_again_and_sent_once(db) -> None:
    _, number = await onboard(db.new_uow)
    caller = caller_number()
    sender = FakeSmsSender()
    message_id = await text_back(db, number, caller)
    sender.fail_next(SmsNotSent("provider answered 503 Service Unavailable"))
    await drain(db, sender, GIVE_UP_AT_ONCE)
    dead = await row_of(db, message_id)
    given_up = await message(db, message_id)
    assert dead.dead_at is not None
    assert (given_up.status, given_up.provider_sid, given_up.send_attempted_at) == (
        "failed",
        None,
        None,
    )
    assert given_up.error.startswith("gave up: SmsNotSent")
    assert sender.messages_to(caller) == []

    done = await replay(db, "requeue", str(dead.id))

    assert done.exit_code == 0, done.stderr
    assert done.stdout.splitlines() == [f"requeued 1 row(s): {dead.id}"]
    assert (await message(db, message_id)).status == "queued"

    await drain(db, sender, retry_policies())

    [sms] = sender.messages_to(caller)
    assert (sms.from_, sms.to, sms.reference) == (number, caller, message_id)
    sent = await message(db, message_id)
    assert sent.provider_sid == sender.sent[-1].receipt.provider_sid
    assert sent.status == "queued"  # the fake's answer; its status callbacks move it on
    assert (await row_of(db, message_id)).dispatched_at is not None


async def test_a_text_the_provider_accepted_is_not_resent_after_a_requeue(db) -> None:
    _, number = await onboard(db.new_uow)
    caller = caller_number()
    sender = FakeSmsSender(status="sent")
    message_id = await text_back(db, number, caller)
    await drain(db, sender, retry_policies())
    [original] = sender.messages_to(caller)
    accepted = await message(db, message_id)
    assert (accepted.status, accepted.provider_sid) == ("sent", sender.sent[0].receipt.provider_sid)
    # The row died all the same (its completion was lost, say): a dead letter to replay.
    row_id = (await row_of(db, message_id)).id
    async with db.admin.begin() as conn:
        await conn.execute(
            update(outbox_events)
            .where(outbox_events.c.id == row_id)
            .values(
                dispatched_at=None,
                dead_at=func.now(),
                attempts=5,
                last_error="gave up: the worker handling it stopped (lease lapsed)",
            )
        )

    done = await replay(db, "requeue", "--all-dead")

    assert done.exit_code == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == f"requeued 1 row(s): {row_id}"
    [note] = lines[:-1]
    assert note.startswith(f"{row_id}: ")
    assert "not sent again" in note
    assert await message(db, message_id) == accepted  # status, sid, everything kept
    assert await due_now(db, row_id)

    await drain(db, sender, retry_policies())

    assert sender.messages_to(caller) == [original]
    assert (await message(db, message_id)).status == "sent"
    assert (await row_of(db, message_id)).dispatched_at is not None


async def test_a_given_up_text_the_provider_has_is_reconciled_not_sent_twice(db) -> None:
    _, number = await onboard(db.new_uow)
    caller = caller_number()
    sender = FakeSmsSender()
    message_id = await text_back(db, number, caller)
    sender.hang_next(1)  # the provider keeps the text; the answer never arrives
    await drain(db, sender, GIVE_UP_AT_ONCE)
    dead = await row_of(db, message_id)
    given_up = await message(db, message_id)
    assert dead.dead_at is not None
    assert given_up.status == "failed"
    assert given_up.error.startswith("gave up: SmsOutcomeUnknown")
    assert given_up.send_attempted_at is not None
    assert given_up.provider_sid is None
    [held] = sender.sent

    done = await replay(db, "requeue", str(dead.id))

    assert done.exit_code == 0, done.stderr
    assert done.stdout.splitlines() == [f"requeued 1 row(s): {dead.id}"]
    assert (await message(db, message_id)).status == "queued"

    await drain(db, sender, retry_policies())

    assert sender.sent == [held]  # asked the provider, sent nothing new
    assert sender.lookups, "the provider was not asked"
    reconciled = await message(db, message_id)
    assert reconciled.provider_sid == held.receipt.provider_sid
    assert (await row_of(db, message_id)).dispatched_at is not None


async def test_a_requeued_text_older_than_the_budget_survives_one_more_transient_failure(
    db,
) -> None:
    # The usual dead letter: six hours of outage, then `requeue --all-dead` once the provider
    # is back. Its first try after the requeue meets one last 503: it should be retried (the
    # requeue reset the attempts; a fresh budget), not buried again on the spot.
    _, number = await onboard(db.new_uow)
    caller = caller_number()
    sender = FakeSmsSender()
    message_id = await text_back(db, number, caller)
    sender.fail_next(SmsNotSent("provider answered 503 Service Unavailable"))
    await drain(db, sender, GIVE_UP_AT_ONCE)
    row_id = (await row_of(db, message_id)).id
    async with db.admin.begin() as conn:
        await conn.execute(
            update(outbox_events)
            .where(outbox_events.c.id == row_id)
            .values(created_at=func.now() - text("interval '7 hours'"))
        )
    assert (await replay(db, "requeue", "--all-dead")).exit_code == 0
    fast = retry_policies(base_seconds=0.001, cap_seconds=0.001)
    sender.fail_next(SmsNotSent("provider answered 503 Service Unavailable"))

    await drain(db, sender, fast)

    after = await row(db, row_id)
    assert after.dead_at is None, f"dead again after one try: {after.last_error}"
    assert after.attempts == 1
    await asyncio.sleep(0.05)
    await drain(db, sender, fast)
    assert len(sender.messages_to(caller)) == 1


async def test_a_set_aside_text_is_queued_again_and_sent_once_when_the_provider_has_none(
    db,
) -> None:
    tenant, number = await onboard(db.new_uow)
    caller = caller_number()
    sender = FakeSmsSender()
    message_id = await text_back(db, number, caller)
    async with db.admin.begin() as conn:
        await conn.execute(
            update(messages)
            .where(messages.c.id == message_id)
            .values(
                status="needs_review",
                error=REVIEW,
                send_attempted_at=func.now() - text("interval '10 minutes'"),
            )
        )
        await conn.execute(
            update(outbox_events)
            .where(outbox_events.c.payload["message_id"].astext == str(message_id))
            .values(needs_review_at=func.now(), attempts=2, last_error=REVIEW)
        )
    row_id = (await row_of(db, message_id)).id
    listed = await replay(db, "list", "--needs-review", "--tenant", str(tenant.id), "--json")
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == [row_id]

    done = await replay(db, "requeue", str(row_id))

    assert done.exit_code == 0, done.stderr
    assert done.stdout.splitlines() == [f"requeued 1 row(s): {row_id}"]
    assert (await message(db, message_id)).status == "queued"
    assert (await row(db, row_id)).needs_review_at is None

    await drain(db, sender, retry_policies())

    assert len(sender.messages_to(caller)) == 1
    assert (await message(db, message_id)).provider_sid == sender.sent[0].receipt.provider_sid


# --- replay webhook ----------------------------------------------------------------------

VOICE_STATUS = "/webhooks/twilio/voice/status"
SMS = "/webhooks/twilio/sms"


async def post_signed(client, path: str, params: dict[str, str]) -> None:
    signature = sign(PUBLIC_BASE_URL + path, params)
    response = await client.post(path, data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200, response.text


async def counts(db: Db) -> dict[str, int]:
    return {
        "messages": await count(db, messages),
        "outbox": await count(db, outbox_events),
        "calls": await count(db, calls),
        "inbound": await count(db, messages, messages.c.direction == "inbound"),
        "webhooks": await count(db, webhook_events),
    }


async def test_replaying_a_processed_missed_call_is_a_duplicate(db) -> None:
    _, number = await onboard(db.new_uow)
    caller, sid = caller_number(), call_sid()
    async with api_client(api_settings(db.url)) as client:
        await post_signed(client, VOICE_STATUS, status_callback(number, caller, sid))
    assert await count(db, webhook_events, webhook_events.c.provider == "twilio.voice") == 1
    assert await count(db, messages, messages.c.to_number == caller) == 1
    before = await counts(db)

    done = await replay(db, "webhook", "twilio", sid)

    assert done.exit_code == 0, done.stderr
    assert done.stdout.splitlines() == [f"twilio.voice {sid}: duplicate"]
    assert await counts(db) == before


async def test_replaying_a_processed_inbound_text_is_a_duplicate(db) -> None:
    _, number = await onboard(db.new_uow)
    caller, sid = caller_number(), "SM" + uuid.uuid4().hex
    params = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": sid,
        "From": caller,
        "To": number,
        "Body": "Is the water heater flush still $189?",
        "NumMedia": "0",
    }
    async with api_client(api_settings(db.url)) as client:
        await post_signed(client, SMS, params)
    assert await count(db, webhook_events, webhook_events.c.event_key == sid) == 1
    before = await counts(db)

    done = await replay(db, "webhook", "twilio", sid)

    assert done.exit_code == 0, done.stderr
    assert done.stdout.splitlines() == [f"twilio.sms {sid}: duplicate"]
    assert await counts(db) == before


async def test_replaying_an_unknown_webhook_is_exit_2(db) -> None:
    _, number = await onboard(db.new_uow)
    await text_back(db, number, caller_number())
    before = await counts(db)
    missing = call_sid()

    unknown_key = await replay(db, "webhook", "twilio", missing)
    unknown_provider = await replay(db, "webhook", "plivo", missing)

    assert unknown_key.exit_code == 2
    assert "no stored twilio webhook" in unknown_key.stderr
    assert missing in unknown_key.stderr
    assert unknown_provider.exit_code == 2
    assert "'plivo'" in unknown_provider.stderr
    for done in (unknown_key, unknown_provider):
        assert len(done.stderr.strip().splitlines()) == 1
        assert "Traceback" not in done.stderr
    assert await counts(db) == before
