"""The `nmc` command as a user runs it: real processes against real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from nmc_adapters.postgres import sqlalchemy_url
from nmc_adapters.postgres.tables import outbox_events, phone_numbers, tenants
from tests.support.cli import clean_env, nmc, nmc_inline
from tests.support.databases import create_database, drop_database, with_database
from tests.support.tenants import fresh_number


@pytest.fixture(scope="module")
def env(database_url: str) -> dict[str, str]:
    return clean_env(NMC_DATABASE_URL=database_url)


def scalar(database_url: str, query) -> object:
    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            return conn.execute(query).scalar()
    finally:
        engine.dispose()


def onboard_args(number: str, **overrides: str) -> list[str]:
    options = {
        "--name": "ACME-PLUMBING",
        "--number": number,
        "--forward-to": fresh_number(),
        "--timezone": "America/Chicago",
        "--owner-email": "owner@acme-plumbing.example",
    } | overrides
    return ["tenant", "onboard", *[x for pair in options.items() for x in pair]]


def tenant_count(database_url: str) -> int:
    return int(scalar(database_url, select(func.count()).select_from(tenants)))  # type: ignore[arg-type]


def test_onboard_json_prints_the_tenant_id_last(env, database_url) -> None:
    number = fresh_number()

    done = nmc(*onboard_args(number), "--json", env=env)

    assert done.returncode == 0, done.stderr
    last = json.loads(done.stdout.strip().splitlines()[-1])
    assert last["compliance_status"] == "pending"
    owner = scalar(
        database_url, select(phone_numbers.c.tenant_id).where(phone_numbers.c.e164 == number)
    )
    assert str(owner) == last["tenant_id"]


def test_onboard_accepts_a_national_number_and_stores_e164(env, database_url) -> None:
    e164 = fresh_number()
    national = f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"

    done = nmc_inline(*onboard_args(national), "--json", env=env)

    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["number"] == e164


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"--number": "12"}, "'12'"),
        ({"--number": "not-a-number"}, "not-a-number"),
        ({"--forward-to": "+1555"}, "+1555"),
        ({"--timezone": "Mars/Olympus_Mons"}, "Mars/Olympus_Mons"),
        ({"--owner-email": "owner-at-acme"}, "owner-at-acme"),
        ({"--name": "  "}, "name"),
        ({"--text-back-template": "Hi {first_name}"}, "{first_name}"),
    ],
)
def test_bad_onboarding_input_is_one_line_exit_2_nothing_stored(
    env, database_url, overrides, named
) -> None:
    before = tenant_count(database_url)

    done = nmc_inline(*onboard_args(fresh_number(), **overrides), env=env)

    assert done.exit_code == 2
    assert named in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert tenant_count(database_url) == before


def test_a_taken_number_is_refused_and_nothing_is_stored(env, database_url) -> None:
    number = fresh_number()
    assert nmc_inline(*onboard_args(number), env=env).exit_code == 0
    before = tenant_count(database_url)

    done = nmc_inline(*onboard_args(number, **{"--name": "Rival Rooter"}), env=env)

    assert done.exit_code == 2
    assert number in done.stderr
    assert "already" in done.stderr
    assert tenant_count(database_url) == before


def test_compliance_approve_and_reject(env, database_url) -> None:
    onboarded = nmc_inline(*onboard_args(fresh_number()), "--json", env=env)
    tenant_id = json.loads(onboarded.stdout.splitlines()[-1])["tenant_id"]

    approved = nmc_inline("compliance", "approve", tenant_id, "--json", env=env)
    rejected = nmc_inline(
        "compliance", "reject", tenant_id, "--reason", "brand mismatch", "--json", env=env
    )

    assert json.loads(approved.stdout.splitlines()[-1])["compliance_status"] == "approved"
    last = json.loads(rejected.stdout.splitlines()[-1])
    assert (last["compliance_status"], last["compliance_reason"]) == ("rejected", "brand mismatch")
    events = (
        select(func.count())
        .select_from(outbox_events)
        .where(
            outbox_events.c.tenant_id == tenant_id,
            outbox_events.c.topic == "compliance.status_changed.v1",
        )
    )
    assert scalar(database_url, events) == 2


@pytest.mark.parametrize("tenant_id", ["not-a-uuid", "00000000-0000-4000-8000-000000000000"])
def test_compliance_for_a_bad_or_unknown_tenant_is_exit_2(env, tenant_id) -> None:
    done = nmc_inline("compliance", "approve", tenant_id, env=env)

    assert done.exit_code == 2
    assert tenant_id in done.stderr


def test_db_upgrade_and_downgrade_on_a_fresh_database(pg_admin_url) -> None:
    name = create_database(pg_admin_url, prefix="nmc_cli")
    url = with_database(pg_admin_url, name)
    env = clean_env(NMC_DATABASE_URL=url)
    count_tables = text(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_name <> 'alembic_version'"
    )
    try:
        assert nmc_inline("db", "upgrade", env=env).exit_code == 0
        assert scalar(url, count_tables) == 10
        assert nmc_inline("db", "downgrade", "base", env=env).exit_code == 0
        assert scalar(url, count_tables) == 0
        bad = nmc_inline("db", "upgrade", "nosuchrevision", env=env)
        assert bad.exit_code == 2
        assert "nosuchrevision" in bad.stderr
    finally:
        drop_database(pg_admin_url, name)


def test_without_a_database_url_the_error_names_it(tmp_path: Path) -> None:
    done = nmc_inline(
        "compliance",
        "approve",
        "00000000-0000-4000-8000-000000000000",
        env=clean_env(),
        cwd=tmp_path,
    )

    assert done.exit_code == 2
    assert "NMC_DATABASE_URL" in done.stderr


@pytest.mark.parametrize(
    ("command", "env_values", "named"),
    [
        (["api"], {"NMC_DATABASE_URL": "postgresql://x@127.0.0.1/x"}, "NMC_PUBLIC_BASE_URL"),
        (["api"], {"NMC_DATABASE_URL": "mysql://x@127.0.0.1/x"}, "NMC_DATABASE_URL"),
        (
            ["worker"],
            {
                "NMC_DATABASE_URL": "postgresql://x@127.0.0.1/x",
                "NMC_PUBLIC_BASE_URL": "https://nmc.example.com",
                "NMC_TWILIO_ACCOUNT_SID": "ACnot-a-sid",
                "NMC_TWILIO_AUTH_TOKEN": "secret-value-123",
            },
            "NMC_TWILIO_ACCOUNT_SID",
        ),
    ],
)
def test_a_bad_setting_stops_the_process_with_one_line(command, env_values, named) -> None:
    done = nmc(*command, env=clean_env(**env_values))

    assert done.returncode == 2
    assert named in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "secret-value-123" not in done.stderr
