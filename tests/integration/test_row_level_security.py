"""Row-level security, the second wall: every tenant table, operation and scope.

The app role (`nmc_app`) runs every statement here on a fresh session, so "unset" really is a
session that never set `app.tenant_id` (NULL), and "empty" one that set it to '' (what a pooled
connection reads after an earlier transaction's SET LOCAL). Rows belong to ACME; "own" binds the
session to ACME, "other" to BRIGHT-SPARK. Allowed writes are rolled back; refused ones are
committed, so that the superuser can then check that nothing changed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import attrs
import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from sqlalchemy import Text, insert, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres.schema import metadata, tenant_tables
from nmc_adapters.postgres.uow import APP_ROLE
from tests.support.rows import ordered_tenant_tables, sample_row, sample_value

OPS = ("select", "insert", "update", "delete")
SCOPES = ("own", "other", "unset", "empty")
# Read off the metadata: every table with a tenant column that is not a system table. A new
# tenant table joins the matrix by being declared; one without its policy fails it.
TENANT_TABLES = tenant_tables()
ORDER = ordered_tenant_tables()


def _row(table: str, tenant_id: UUID, row_id: UUID, parents: dict[str, Any]) -> dict[str, Any]:
    return sample_row(metadata.tables[table], tenant_id, row_id, parents)


def _pk(table: str) -> list[str]:
    return [column.name for column in metadata.tables[table].primary_key]


# Tables other tenant tables point at (they get a parent row besides the target row).
REFERENCED = {
    fk.referred_table.name
    for name in TENANT_TABLES
    for fk in metadata.tables[name].foreign_key_constraints
    if fk.referred_table.name in TENANT_TABLES
}


def _singleton(table: str) -> bool:
    """One row per tenant at most (its primary key is the tenant): settings and the like."""
    return _pk(table) == [TENANT_TABLES[table]]


def _where(table: str, identity: dict[str, Any]) -> tuple[sql.Composable, list[Any]]:
    parts = [sql.SQL("{} = %s").format(sql.Identifier(column)) for column in identity]
    return sql.SQL(" AND ").join(parts), list(identity.values())


def _change(table: str, snapshot: dict[str, Any]) -> tuple[str, Any]:
    """A column of the row and a different value it accepts (for the UPDATE cells)."""
    spec = metadata.tables[table]
    fixed = {c.name for c in spec.primary_key} | {TENANT_TABLES[table]}
    fixed |= {c.parent.name for c in spec.foreign_keys}
    # Text first: a new time could break a check between columns (start before end).
    ordered = sorted(spec.c, key=lambda column: not isinstance(column.type, Text))
    for column in ordered:
        if column.name in fixed or column.computed is not None:
            continue
        value = sample_value(spec, column, uuid.uuid4())
        if value != snapshot[column.name]:
            return column.name, value
    raise AssertionError(f"{table}: no column to change")


@attrs.frozen
class Fixture:
    """One tenant's rows: the row each cell acts on (by primary key), per table, and the rows
    others refer to."""

    tenant_id: UUID
    targets: dict[str, dict[str, Any]]
    parents: dict[str, dict[str, Any]]
    snapshots: dict[str, dict[str, Any]]


@attrs.frozen
class Dataset:
    acme: Fixture
    spark: Fixture
    # A tenant with only the parent rows: INSERT cells add its rows (a singleton table has
    # room for one there).
    fresh: Fixture


async def _admin_rows(admin: AsyncEngine, query: str, **params: Any) -> list[dict[str, Any]]:
    async with admin.connect() as conn:
        result = await conn.execute(text(query), params)
        return [dict(row._mapping) for row in result]


async def _build(admin: AsyncEngine, *, targets: bool = True) -> Fixture:
    tenant_id = uuid.uuid4()
    # Each table gets a target row (what the cells act on) and, if other tables refer to it, a
    # parent row, so targets have no dependants and the "own" DELETE succeeds.
    parents: dict[str, dict[str, Any]] = {}
    chosen: dict[str, dict[str, Any]] = {}
    async with admin.begin() as conn:
        for table in ORDER:
            rows = []
            if table == "tenants" or _singleton(table):
                if table == "tenants" or targets:
                    rows = [_row(table, tenant_id, tenant_id, parents)]
                    parents[table] = chosen[table] = rows[0]
            else:
                if table in REFERENCED:
                    parents[table] = _row(table, tenant_id, uuid.uuid4(), parents)
                    rows.append(parents[table])
                if targets:
                    chosen[table] = _row(table, tenant_id, uuid.uuid4(), parents)
                    rows.append(chosen[table])
            for values in rows:
                await conn.execute(insert(metadata.tables[table]).values(values))
    identities = {table: {c: row[c] for c in _pk(table)} for table, row in chosen.items()}
    snapshots = {}
    async with admin.connect() as conn:
        for table, identity in identities.items():
            where = " AND ".join(f"{column} = :{column}" for column in identity)
            result = await conn.execute(text(f"SELECT * FROM {table} WHERE {where}"), identity)
            (snapshots[table],) = [dict(row._mapping) for row in result]
    return Fixture(tenant_id, identities, parents, snapshots)


@pytest.fixture(scope="module")
async def dataset(admin_engine: AsyncEngine) -> Dataset:
    return Dataset(
        acme=await _build(admin_engine),
        spark=await _build(admin_engine),
        fresh=await _build(admin_engine, targets=False),
    )


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[psycopg.AsyncConnection[dict[str, Any]]]:
    """A fresh session as the app role; the test begins and ends its transaction itself."""
    conn = await psycopg.AsyncConnection.connect(
        database_url, autocommit=True, row_factory=dict_row
    )
    try:
        await conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(APP_ROLE)))
        yield conn
    finally:
        await conn.close()


async def _begin(conn: psycopg.AsyncConnection[Any], bound: UUID | str | None) -> None:
    await conn.execute("BEGIN")
    if bound is not None:
        await conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(bound)])


def _statement(template: str, table: str, **parts: str) -> sql.Composed:
    quoted = {name: sql.SQL(part) for name, part in parts.items()}
    return sql.SQL(template).format(table=sql.Identifier(table), **quoted)


MATRIX = [
    pytest.param(table, op, scope, id=f"{table}-{op}-{scope}")
    for table in TENANT_TABLES
    for op in OPS
    for scope in SCOPES
]


@pytest.mark.parametrize(("table", "op", "scope"), MATRIX)
async def test_tenant_isolation(
    app: psycopg.AsyncConnection[dict[str, Any]],
    admin_engine: AsyncEngine,
    dataset: Dataset,
    table: str,
    op: str,
    scope: str,
) -> None:
    acme, key, pk = dataset.acme, TENANT_TABLES[table], _pk(table)
    # INSERT cells write a row of the fresh tenant (a tenants row is its own new tenant);
    # the others act on ACME's target row.
    new_id = uuid.uuid4()
    owner = acme.tenant_id
    if op == "insert":
        owner = new_id if table == "tenants" else dataset.fresh.tenant_id
    bound = {"own": owner, "other": dataset.spark.tenant_id, "unset": None, "empty": ""}[scope]
    allowed = scope == "own"
    await _begin(app, bound)
    if scope == "unset":
        setting = await (
            await app.execute("SELECT current_setting('app.tenant_id', true) AS v")
        ).fetchone()
        assert setting == {"v": None}

    if op == "select":
        columns = sql.SQL(", ").join(map(sql.Identifier, pk))
        query = sql.SQL("SELECT {} AS owner, {} FROM {}").format(
            sql.Identifier(key), columns, sql.Identifier(table)
        )
        rows = await (await app.execute(query)).fetchall()
        visible = [{c: row[c] for c in pk} for row in rows]
        owners = {row["owner"] for row in rows}
        await app.execute("ROLLBACK")
        if allowed:
            assert acme.targets[table] in visible
            assert owners == {acme.tenant_id}
        elif scope == "other":
            assert acme.targets[table] not in visible
            assert owners == {dataset.spark.tenant_id}
        else:
            assert rows == []
        return

    if op == "insert":
        values = _row(table, owner, new_id, dataset.fresh.parents)
        identity = {c: values[c] for c in pk}
        for column in metadata.tables[table].c:  # psycopg sends JSON only when told
            if isinstance(column.type, JSONB) and column.name in values:
                values[column.name] = Jsonb(values[column.name])
        columns = sql.SQL(", ").join(map(sql.Identifier, values))
        placeholders = sql.SQL(", ").join(map(sql.Placeholder, values))
        query = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            sql.Identifier(table), columns, placeholders
        )
        where, params = _where(table, identity)
        found = sql.SQL("SELECT {} FROM {} WHERE {}").format(
            sql.Identifier(key), sql.Identifier(table), where
        )
        if allowed:
            await app.execute(query, values)
            assert await (await app.execute(found, params)).fetchall() == [{key: owner}]
            await app.execute("ROLLBACK")
            return
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            await app.execute(query, values)
        await app.execute("ROLLBACK")
        assert await _admin_select(admin_engine, table, identity) == []
        return

    where, params = _where(table, acme.targets[table])
    if op == "update":
        column, value = _change(table, acme.snapshots[table])
        query = sql.SQL("UPDATE {} SET {} = %s WHERE {}").format(
            sql.Identifier(table), sql.Identifier(column), where
        )
        params = [value, *params]
    else:
        query = sql.SQL("DELETE FROM {} WHERE {}").format(sql.Identifier(table), where)
    cursor = await app.execute(query, params)
    assert cursor.rowcount == (1 if allowed else 0)
    if allowed:
        await app.execute("ROLLBACK")
        return
    await app.execute("COMMIT")  # nothing may have changed: let the superuser look
    assert await _admin_select(admin_engine, table, acme.targets[table]) == [acme.snapshots[table]]


async def _admin_select(
    admin: AsyncEngine, table: str, identity: dict[str, Any]
) -> list[dict[str, Any]]:
    where = " AND ".join(f"{column} = :{column}" for column in identity)
    return await _admin_rows(admin, f"SELECT * FROM {table} WHERE {where}", **identity)


async def _owned_counts(conn: psycopg.AsyncConnection[Any], tenant_id: UUID) -> dict[str, int]:
    counts = {}
    for table, key in TENANT_TABLES.items():
        query = sql.SQL("SELECT count(*) FROM {} WHERE {} = %s").format(
            sql.Identifier(table), sql.Identifier(key)
        )
        row = await (await conn.execute(query, [tenant_id])).fetchone()
        assert row is not None
        counts[table] = row[0]
    return counts


async def test_deleting_a_tenant_deletes_every_row_it_owns(
    database_url: str, dataset: Dataset
) -> None:
    spark = dataset.spark.tenant_id
    async with await psycopg.AsyncConnection.connect(database_url) as admin:
        try:
            before = await _owned_counts(admin, spark)
            await admin.execute("DELETE FROM tenants WHERE id = %s", [spark])
            after = await _owned_counts(admin, spark)
        finally:
            await admin.rollback()
        kept = await _owned_counts(admin, spark)
    assert all(count >= 1 for count in before.values()), before
    assert after == dict.fromkeys(TENANT_TABLES, 0)
    assert kept == before  # rolled back: the dataset is intact for the other tests


@pytest.mark.parametrize("table", list(TENANT_TABLES))
async def test_a_row_cannot_be_moved_to_another_tenant(
    app: psycopg.AsyncConnection[dict[str, Any]], dataset: Dataset, table: str
) -> None:
    acme = dataset.acme
    # To another tenant (for tenants themselves: to an id nobody is bound to).
    to = uuid.uuid4() if table == "tenants" else dataset.spark.tenant_id
    where, params = _where(table, acme.targets[table])
    query = sql.SQL("UPDATE {} SET {} = %s WHERE {}").format(
        sql.Identifier(table), sql.Identifier(TENANT_TABLES[table]), where
    )
    await _begin(app, acme.tenant_id)
    try:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            await app.execute(query, [to, *params])
    finally:
        await app.execute("ROLLBACK")


@pytest.mark.parametrize("table", list(TENANT_TABLES))
async def test_a_malformed_tenant_setting_fails_closed(
    app: psycopg.AsyncConnection[dict[str, Any]], dataset: Dataset, table: str
) -> None:
    await _begin(app, "ACME-PLUMBING")
    try:
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            await app.execute(
                _statement("SELECT {key} FROM {table}", table, key=TENANT_TABLES[table])
            )
    finally:
        await app.execute("ROLLBACK")


async def test_tenants_are_invisible_to_the_app_role_without_a_tenant(
    app: psycopg.AsyncConnection[dict[str, Any]], dataset: Dataset
) -> None:
    cursor = await app.execute("SELECT id FROM tenants")  # autocommit: nothing was ever set
    assert await cursor.fetchall() == []


async def test_the_apps_engine_runs_as_the_app_role(engine: AsyncEngine, dataset: Dataset) -> None:
    async with engine.connect() as conn:
        user = (await conn.execute(text("SELECT current_user"))).scalar_one()
        tenants = (await conn.execute(text("SELECT count(*) FROM tenants"))).scalar_one()
    assert (user, tenants) == (APP_ROLE, 0)


async def test_the_app_role_is_no_superuser_and_owns_nothing(admin_engine: AsyncEngine) -> None:
    (role,) = await _admin_rows(
        admin_engine,
        "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = :role",
        role=APP_ROLE,
    )
    assert role == {"rolsuper": False, "rolbypassrls": False, "rolcanlogin": False}
    owned = await _admin_rows(
        admin_engine,
        "SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
        "WHERE r.rolname = :role",
        role=APP_ROLE,
    )
    assert owned == []


async def test_every_tenant_table_forces_its_policy(admin_engine: AsyncEngine) -> None:
    flags = await _admin_rows(
        admin_engine,
        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
        "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND relrowsecurity",
    )
    assert {row["relname"] for row in flags} == set(TENANT_TABLES)
    assert all(row["relforcerowsecurity"] for row in flags)
    policies = await _admin_rows(
        admin_engine,
        "SELECT tablename, policyname, permissive, roles, cmd, qual, with_check FROM pg_policies "
        "WHERE schemaname = 'public'",
    )
    assert {row["tablename"] for row in policies} == set(TENANT_TABLES)
    for policy in policies:
        column = TENANT_TABLES[policy["tablename"]]
        assert policy["policyname"] == "tenant_isolation"
        assert (policy["permissive"], policy["cmd"], policy["roles"]) == (
            "PERMISSIVE",
            "ALL",
            ["public"],
        )
        assert policy["qual"] == policy["with_check"]
        assert policy["qual"].startswith(f"({column} = ")
        assert "current_setting('app.tenant_id'::text, true)" in policy["qual"]


async def test_every_table_with_a_tenant_id_is_guarded_or_a_system_table(
    admin_engine: AsyncEngine,
) -> None:
    with_tenant = await _admin_rows(
        admin_engine,
        "SELECT table_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND column_name = 'tenant_id'",
    )
    system = {name for name, table in metadata.tables.items() if table.info.get("system")}
    assert system >= {"phone_numbers", "webhook_events", "outbox_events"}
    guarded = {name for name, key in TENANT_TABLES.items() if key == "tenant_id"}
    assert {row["table_name"] for row in with_tenant} == guarded | system
