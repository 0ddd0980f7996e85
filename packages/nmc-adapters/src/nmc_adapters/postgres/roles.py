"""Least privilege: let a login role run the apps as `nmc_app`, and gain nothing else."""

from __future__ import annotations

from typing import Any

import attrs
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from nmc_adapters.postgres.uow import APP_ROLE
from nmc_adapters.postgres.url import libpq_url

__all__ = ["AppRoleGrant", "GrantRefused", "grant_app_role"]

Row = dict[str, Any]

_ROLE = """
SELECT r.oid, r.rolcanlogin, r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolreplication,
       r.rolname = current_user AS running, d.oid AS db_oid, d.datname,
       d.datdba = r.oid AS owns_database
FROM pg_roles r, pg_database d
WHERE r.rolname = %(role)s AND d.datname = current_database()
"""
# Objects of this database the role owns ('o') or holds privileges on of its own ('a').
_DEPENDENCIES = """
SELECT pg_describe_object(classid, objid, objsubid) AS object
FROM pg_shdepend
WHERE refclassid = 'pg_authid'::regclass AND refobjid = %(oid)s::oid
  AND deptype = %(kind)s::"char" AND dbid = %(db_oid)s::oid
ORDER BY 1
"""
# Every role whose rights it has or can take (SET ROLE), but itself and nmc_app.
_MEMBERSHIPS = """
SELECT r.rolname FROM pg_roles r
WHERE pg_has_role(%(oid)s::oid, r.oid, 'MEMBER') AND r.oid <> %(oid)s::oid AND r.rolname <> %(app)s
ORDER BY 1
"""
_IS_MEMBER = """
SELECT EXISTS (
    SELECT FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
    WHERE m.member = %(oid)s::oid AND g.rolname = %(app)s
) AS member
"""
_ATTRIBUTES = {
    "rolsuper": "is a superuser: row-level security does not hold it",
    "rolbypassrls": "has BYPASSRLS: row-level security does not hold it",
    "rolcreaterole": "has CREATEROLE: it could grant itself the tables' owner",
    "rolreplication": "has REPLICATION: it could stream every tenant's rows",
}


class GrantRefused(ValueError):
    """The role cannot be the apps' login (one line naming it and why), or the grant failed."""


@attrs.frozen
class AppRoleGrant:
    """What `grant_app_role` did: the statements run, and whether the login inherits nmc_app."""

    role: str
    app_role: str
    database: str
    statements: tuple[str, ...]
    already_member: bool
    inherits: bool


def grant_app_role(database_url: str, role: str) -> AppRoleGrant:
    """Make `role` (a LOGIN owning nothing) able to run the apps: CONNECT on this database and
    membership of nmc_app, nothing more. Run as the migration role; running it again is harmless.
    """
    with psycopg.connect(libpq_url(database_url), row_factory=dict_row) as conn:
        try:
            found = _checked(conn, role)
            return _grant(conn, role, found)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise GrantRefused(
                f"cannot grant {APP_ROLE} to {role!r} as the migration role: {exc}"
            ) from None


def _checked(conn: psycopg.Connection[Row], role: str) -> Row:
    if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE]).fetchone():
        raise GrantRefused(f"role {APP_ROLE} does not exist: run `nmc db upgrade` first")
    found = conn.execute(_ROLE, {"role": role}).fetchone()
    if found is None:
        raise GrantRefused(f"role {role!r} does not exist (CREATE ROLE {role} LOGIN PASSWORD …)")
    if role == APP_ROLE:
        raise GrantRefused(f"role {role!r} is the group itself: name the apps' login role")
    if not found["rolcanlogin"]:
        raise GrantRefused(f"role {role!r} cannot log in: the apps need a LOGIN role")
    if found["running"]:
        raise GrantRefused(
            f"role {role!r} runs this command (the migration role): the apps need their own login"
        )
    for attribute, why in _ATTRIBUTES.items():
        if found[attribute]:
            raise GrantRefused(f"role {role!r} {why}")
    owned = _dependencies(conn, found, "o")
    if found["owns_database"]:
        owned.insert(0, f"database {found['datname']}")
    if owned:
        raise GrantRefused(f"role {role!r} owns {_listed(owned)}: the apps' login must own nothing")
    memberships = [
        row["rolname"]
        for row in conn.execute(_MEMBERSHIPS, {"oid": found["oid"], "app": APP_ROLE}).fetchall()
    ]
    if memberships:
        raise GrantRefused(
            f"role {role!r} is a member of {_listed(memberships)}: "
            f"the apps' login must have {APP_ROLE}'s rights only"
        )
    privileges = _dependencies(conn, found, "a")
    if privileges:
        raise GrantRefused(
            f"role {role!r} holds privileges of its own on {_listed(privileges)}: "
            f"the apps' login must have {APP_ROLE}'s rights only"
        )
    return found


def _grant(conn: psycopg.Connection[Row], role: str, found: Row) -> AppRoleGrant:
    login, database = sql.Identifier(role), sql.Identifier(found["datname"])
    statements = [sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, login)]
    member = conn.execute(_IS_MEMBER, {"oid": found["oid"], "app": APP_ROLE}).fetchone()
    already = bool(member and member["member"])
    if not already:  # skipped rather than repeated: a repeat only earns a NOTICE
        statements.append(sql.SQL("GRANT {} TO {}").format(sql.Identifier(APP_ROLE), login))
    for statement in statements:
        conn.execute(statement)
    # USAGE: nmc_app's rights hold without SET ROLE too (INHERIT), the same rights either way.
    inherits = conn.execute(
        "SELECT pg_has_role(%s::oid, %s, 'USAGE') AS inherits", [found["oid"], APP_ROLE]
    ).fetchone()
    conn.commit()
    return AppRoleGrant(
        role=role,
        app_role=APP_ROLE,
        database=found["datname"],
        statements=tuple(statement.as_string(conn) for statement in statements),
        already_member=already,
        inherits=bool(inherits and inherits["inherits"]),
    )


def _dependencies(conn: psycopg.Connection[Row], found: Row, kind: str) -> list[str]:
    params = {"oid": found["oid"], "kind": kind, "db_oid": found["db_oid"]}
    return [row["object"] for row in conn.execute(_DEPENDENCIES, params).fetchall()]


def _listed(names: list[str], most: int = 3) -> str:
    shown = ", ".join(names[:most])
    return shown if len(names) <= most else f"{shown} and {len(names) - most} more"
