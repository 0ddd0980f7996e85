"""Least privilege: the apps log in as a role that owns nothing and is not the migration role.

`nmc db grant-app-role` (run as the migration role, the test server's superuser) makes a fresh
LOGIN role a member of nmc_app. Logged in as it, the app works, and no way out of row-level
security opens: RESET ROLE leaves the login bound by the same policies, SET ROLE to the tables'
owner is refused, and so is every statement that would switch the policies off.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from nmc_adapters.postgres import PgUnitOfWork, create_engine, libpq_url
from nmc_adapters.postgres.uow import APP_ROLE
from tests.support.cli import clean_env, nmc_inline
from tests.support.tenants import onboard

LOGIN_PASSWORD = "ACME-PLUMBING-app-login-password"  # pragma: allowlist secret
# What the unit of work runs when it binds a tenant (sql._BIND): the setting the policies read.
BIND = "SELECT set_config('app.tenant_id', %s, true)"


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def as_user(database_url: str, user: str, password: str) -> str:
    """The same server and database, logged in as `user`."""
    url = make_url(libpq_url(database_url)).set(username=user, password=password)
    return libpq_url(url.render_as_string(hide_password=False))


@contextmanager
def role(database_url: str, *attributes: str, setup: str | None = None) -> Iterator[str]:
    """A uniquely named role of the shared test cluster, dropped afterwards."""
    name = _unique("nmc_login")
    ident = sql.Identifier(name)
    options = sql.SQL(" ".join(attributes))
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} {}").format(ident, options))
        if setup is not None:
            me = conn.execute("SELECT current_user").fetchone()
            assert me is not None
            table, owner = sql.Identifier(_unique("t")), sql.Identifier(me[0])
            conn.execute(sql.SQL(setup).format(role=ident, table=table, owner=owner))
    try:
        yield name
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            # DROP OWNED also revokes its grants here and on shared objects (the database).
            conn.execute(sql.SQL("DROP OWNED BY {}").format(ident))
            conn.execute(sql.SQL("DROP ROLE {}").format(ident))


def grant(role_name: str, *, app_url: str, migration_url: str) -> Any:
    """`nmc db grant-app-role ROLE`, configured as in production: two URLs."""
    env = clean_env(NMC_DATABASE_URL=app_url, NMC_MIGRATION_DATABASE_URL=migration_url)
    return nmc_inline("db", "grant-app-role", role_name, env=env)


def member_of_app_role(database_url: str, role_name: str) -> bool:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT EXISTS (SELECT FROM pg_auth_members m"
            " JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member"
            " WHERE g.rolname = %s AND r.rolname = %s)",
            [APP_ROLE, role_name],
        ).fetchone()
    return bool(row and row[0])


@pytest.fixture(scope="module")
def login(database_url: str) -> Iterator[str]:
    """A plain LOGIN role with a password, as a DBA would create for the apps."""
    with role(database_url, "LOGIN", f"PASSWORD '{LOGIN_PASSWORD}'") as name:
        yield name


@pytest.fixture(scope="module")
def login_url(database_url: str, login: str) -> str:
    """The apps' NMC_DATABASE_URL, once grant-app-role has run (twice: it is idempotent)."""
    url = as_user(database_url, login, LOGIN_PASSWORD)
    first = grant(login, app_url=url, migration_url=database_url)
    assert first.exit_code == 0, first.stderr
    assert f'GRANT "{APP_ROLE}" TO "{login}"' in first.stdout
    again = grant(login, app_url=url, migration_url=database_url)
    assert again.exit_code == 0, again.stderr
    assert f"{login} was already a member of {APP_ROLE}" in again.stdout
    return url


@pytest.fixture(scope="module")
async def tenants(login_url: str) -> tuple[UUID, UUID]:
    """ACME and BRIGHT-SPARK, onboarded through the app's own engine logged in as the login."""
    engine = create_engine(login_url, pool_size=2)
    try:
        acme, _ = await onboard(lambda: PgUnitOfWork(engine), name="ACME-PLUMBING")
        bright, _ = await onboard(lambda: PgUnitOfWork(engine), name="BRIGHT-SPARK")
    finally:
        await engine.dispose()
    return acme.id, bright.id


def test_grant_prints_what_it_granted(login: str, login_url: str, database_url: str) -> None:
    database = make_url(database_url).database

    done = grant(login, app_url=login_url, migration_url=database_url)

    assert f'granted: GRANT CONNECT ON DATABASE "{database}" TO "{login}"' in done.stdout
    assert f"{login} has {APP_ROLE}'s rights (INHERIT) and no others" in done.stdout
    assert member_of_app_role(database_url, login)


async def test_the_app_engine_reads_its_own_tenant_only(
    login_url: str, tenants: tuple[UUID, UUID]
) -> None:
    acme, bright = tenants
    engine = create_engine(login_url, pool_size=1)
    try:
        async with PgUnitOfWork(engine) as uow:
            await uow.bind_tenant(acme)
            own = await uow.tenants.get(acme)
            other = await uow.tenants.get(bright)
    finally:
        await engine.dispose()

    assert own is not None
    assert own.name == "ACME-PLUMBING"
    assert other is None


def _bound_to(conn: psycopg.Connection[Any], tenant: UUID) -> None:
    """The session the app would have: SET ROLE nmc_app, then the tenant bound."""
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(APP_ROLE)))
    conn.execute(BIND, [str(tenant)])


def test_reset_role_still_sees_only_the_bound_tenant(
    login: str, login_url: str, tenants: tuple[UUID, UUID]
) -> None:
    acme, bright = tenants
    with psycopg.connect(login_url) as conn:
        _bound_to(conn, acme)

        conn.execute("RESET ROLE")
        who = conn.execute("SELECT current_user").fetchone()
        rows = conn.execute("SELECT id FROM tenants WHERE id = ANY(%s)", [[acme, bright]])
        seen = {row[0] for row in rows.fetchall()}

    assert who == (login,)
    assert seen == {acme}  # ACME's row, so the query did run; never BRIGHT-SPARK's


def test_set_role_to_the_owner_is_refused(login_url: str) -> None:
    with psycopg.connect(login_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'tenants'"
        ).fetchone()
        assert row is not None
        owner = sql.Identifier(row[0])

        conn.execute("RESET ROLE")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(sql.SQL("SET ROLE {}").format(owner))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(sql.SQL("SET SESSION AUTHORIZATION {}").format(owner))


ESCAPES = {
    "disable RLS": ["ALTER TABLE tenants DISABLE ROW LEVEL SECURITY"],
    "no force RLS": ["ALTER TABLE tenants NO FORCE ROW LEVEL SECURITY"],
    "drop the policy": ["DROP POLICY tenant_isolation ON tenants"],
    "drop the table": ["DROP TABLE tenants CASCADE"],
    "take the table": ["ALTER TABLE tenants OWNER TO CURRENT_USER"],
    "truncate (skips RLS)": ["TRUNCATE tenants CASCADE"],
    "create an owned table": ["CREATE TABLE escape_hatch (id int)"],
    "row_security off": ["SET row_security = off", "SELECT count(*) FROM tenants"],
}


@pytest.mark.parametrize("reset", [False, True], ids=["as nmc_app", "after RESET ROLE"])
@pytest.mark.parametrize("statements", ESCAPES.values(), ids=ESCAPES.keys())
def test_the_login_cannot_switch_row_level_security_off(
    login_url: str, tenants: tuple[UUID, UUID], statements: list[str], reset: bool
) -> None:
    acme, _ = tenants
    with psycopg.connect(login_url) as conn:
        _bound_to(conn, acme)
        if reset:
            conn.execute("RESET ROLE")
        *before, last = statements
        for statement in before:
            conn.execute(statement)

        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(last)


REFUSED: dict[str, tuple[tuple[str, ...], str | None, str]] = {
    "superuser": (("LOGIN", "SUPERUSER"), None, "is a superuser"),
    "bypassrls": (("LOGIN", "BYPASSRLS"), None, "has BYPASSRLS"),
    "createrole": (("LOGIN", "CREATEROLE"), None, "has CREATEROLE"),
    "nologin": (("NOLOGIN",), None, "cannot log in"),
    "owns a table": (
        ("LOGIN",),
        "CREATE TABLE {table} (); ALTER TABLE {table} OWNER TO {role}",
        "owns table",
    ),
    "member of the owner": (("LOGIN",), "GRANT {owner} TO {role}", "is a member of"),
    "own privileges": (("LOGIN",), "GRANT TRUNCATE ON tenants TO {role}", "privileges of its own"),
}


def assert_refused(done: Any, *words: str) -> None:
    assert done.exit_code == 2, done.stdout
    assert done.stderr.startswith("nmc: error: "), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    for word in words:
        assert word in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize(("attributes", "setup", "why"), REFUSED.values(), ids=REFUSED.keys())
def test_grant_refuses_a_role_that_could_escape(
    database_url: str, attributes: tuple[str, ...], setup: str | None, why: str
) -> None:
    with role(database_url, *attributes, setup=setup) as name:
        done = grant(name, app_url=database_url, migration_url=database_url)

        assert_refused(done, repr(name), why)
        assert not member_of_app_role(database_url, name)


def test_grant_refuses_the_migration_role_itself(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT current_user").fetchone()
    assert row is not None

    done = grant(row[0], app_url=database_url, migration_url=database_url)

    assert_refused(done, repr(row[0]), "runs this command")


@pytest.mark.parametrize(
    ("name", "why"), [("nmc_nobody_7f3a9c", "does not exist"), (APP_ROLE, "the group itself")]
)
def test_grant_refuses_an_unknown_role_or_the_group(database_url: str, name: str, why: str) -> None:
    assert_refused(grant(name, app_url=database_url, migration_url=database_url), repr(name), why)


def test_nmc_db_runs_as_the_migration_role(login_url: str, database_url: str) -> None:
    # The apps' login may not touch alembic_version: `nmc db` must not use NMC_DATABASE_URL
    # when NMC_MIGRATION_DATABASE_URL is set, and says what is wrong when it is not.
    split = clean_env(NMC_DATABASE_URL=login_url, NMC_MIGRATION_DATABASE_URL=database_url)
    alone = clean_env(NMC_DATABASE_URL=login_url)

    done = nmc_inline("db", "upgrade", env=split)
    refused = nmc_inline("db", "upgrade", env=alone)

    assert done.exit_code == 0, done.stderr
    assert "database upgraded to head" in done.stdout
    assert_refused(refused, "lacks a privilege", "NMC_MIGRATION_DATABASE_URL")
    assert LOGIN_PASSWORD not in refused.stderr


def test_a_noinherit_login_has_rights_only_as_nmc_app(
    database_url: str, tenants: tuple[UUID, UUID]
) -> None:
    acme, _ = tenants
    with role(database_url, "LOGIN", "NOINHERIT", f"PASSWORD '{LOGIN_PASSWORD}'") as name:
        url = as_user(database_url, name, LOGIN_PASSWORD)

        done = grant(name, app_url=url, migration_url=database_url)

        assert done.exit_code == 0, done.stderr
        assert f"{name} has {APP_ROLE}'s rights after SET ROLE {APP_ROLE}" in done.stdout
        with psycopg.connect(url) as conn:
            _bound_to(conn, acme)
            rows = conn.execute("SELECT id FROM tenants").fetchall()
            conn.execute("RESET ROLE")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("SELECT id FROM tenants")
        assert rows == [(acme,)]


def test_grant_says_when_the_database_cannot_be_reached() -> None:
    unreachable = "postgresql://nmc_owner@127.0.0.1:1/nmc"

    done = grant("nmc_app_login", app_url=unreachable, migration_url=unreachable)

    assert done.exit_code == 2
    assert done.stderr.startswith("nmc: error: cannot reach the database")
    assert "Traceback" not in done.stderr
