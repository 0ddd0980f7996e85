"""The `nmc` command as a user runs it: real processes against real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from nmc_adapters.postgres import (
    contexts,  # noqa: F401 - declares every table
    sqlalchemy_url,
)
from nmc_adapters.postgres.schema import metadata
from nmc_adapters.postgres.shared.tables import outbox_events
from nmc_adapters.postgres.tenancy.tables import phone_numbers, tenants
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
        # Every table the contexts declare (the migrations test holds the two to each other).
        assert scalar(url, count_tables) == len(metadata.tables)
        assert len(metadata.tables) >= 19
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


@pytest.mark.parametrize("workers", ["0", "65", "two"])
def test_a_bad_worker_count_for_the_api_names_the_value(workers: str, capsys) -> None:
    from nmc_api.__main__ import main as serve

    with pytest.raises(SystemExit) as stopped:
        serve(["--workers", workers])

    assert stopped.value.code == 2
    expected = f"argument --workers: expected a whole number from 1 to 64, got '{workers}'"
    assert expected in capsys.readouterr().err


def _onboarded(env) -> str:
    done = nmc_inline(*onboard_args(fresh_number()), "--json", env=env)
    assert done.exit_code == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])["tenant_id"]


def test_user_add_defaults_the_subject_to_the_email_and_refuses_duplicates(env) -> None:
    tenant_id = _onboarded(env)

    added = nmc_inline(
        "user", "add", tenant_id, "--email", "Tech@ACME-plumbing.example", "--role", "tech",
        "--json", env=env,
    )  # fmt: skip
    again = nmc_inline(
        "user", "add", tenant_id, "--email", "tech@acme-plumbing.example", "--role", "TECH",
        env=env,
    )  # fmt: skip
    bad_role = nmc_inline(
        "user", "add", tenant_id, "--email", "boss@acme.example", "--role", "BOSS", env=env
    )

    user = json.loads(added.stdout.splitlines()[-1])
    assert (user["email"], user["subject"], user["role"]) == (
        "tech@acme-plumbing.example",
        "tech@acme-plumbing.example",
        "TECH",
    )
    assert again.exit_code == 2
    assert "email" in again.stderr
    assert bad_role.exit_code == 2
    assert "BOSS" in bad_role.stderr


def test_minted_token_opens_the_api_until_the_user_is_deactivated(env, database_url) -> None:
    from litestar.testing import TestClient

    from nmc_adapters.settings import Settings
    from nmc_api.bootstrap import build_app

    secret = "cli-test-jwt-secret-of-at-least-32-bytes"
    env = {**env, "NMC_JWT_SECRET": secret}
    tenant_id = _onboarded(env)
    nmc_inline(
        "user", "add", tenant_id, "--email", "tech@acme-plumbing.example", "--role", "TECH",
        env=env,
    )  # fmt: skip
    minted = nmc_inline(
        "token", "mint", tenant_id, "tech@acme-plumbing.example", "--ttl", "600", "--json",
        env=env,
    )  # fmt: skip
    token = json.loads(minted.stdout.splitlines()[-1])["token"]
    settings = Settings(
        database_url=database_url,
        public_base_url="https://nmc.example.com",
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token="unused-here",
        jwt_secret=secret,
    )
    headers = {"Authorization": f"Bearer {token}"}

    with TestClient(build_app(settings)) as client:
        before = client.get("/v1/me", headers=headers)
        off = nmc_inline("user", "deactivate", tenant_id, "tech@acme-plumbing.example", env=env)
        after = client.get("/v1/me", headers=headers)

    assert before.status_code == 200
    assert before.json()["user"]["role"] == "TECH"
    assert off.exit_code == 0, off.stderr
    assert after.status_code == 403


def test_token_mint_for_an_unknown_user_or_without_a_secret_is_exit_2(env, tmp_path) -> None:
    tenant_id = _onboarded(env)

    no_secret = nmc_inline(
        "token", "mint", tenant_id, "owner@acme-plumbing.example", env=env, cwd=tmp_path
    )
    unknown = nmc_inline(
        "token", "mint", tenant_id, "ghost@acme.example",
        env={**env, "NMC_JWT_SECRET": "cli-test-jwt-secret-of-at-least-32-bytes"},
    )  # fmt: skip

    assert no_secret.exit_code == 2
    assert "NMC_JWT_SECRET" in no_secret.stderr
    assert unknown.exit_code == 2
    assert "ghost@acme.example" in unknown.stderr


def test_the_last_owner_cannot_be_deactivated(env) -> None:
    tenant_id = _onboarded(env)

    done = nmc_inline("user", "deactivate", tenant_id, "owner@acme-plumbing.example", env=env)

    assert done.exit_code == 2
    assert "last active OWNER" in done.stderr
