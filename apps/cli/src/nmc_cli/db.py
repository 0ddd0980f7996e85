"""`nmc db upgrade|downgrade [REVISION]`, `nmc db grant-app-role ROLE`: schema and grants.

They run as the migration role: NMC_MIGRATION_DATABASE_URL, else NMC_DATABASE_URL (else the
database of `nmc dev`), so the apps may log in as a role that owns nothing.
"""

from __future__ import annotations

import typer

from nmc_cli.bootstrap import grant_app_role_to, migrate_down, migrate_up
from nmc_cli.devstate import migration_database_url
from nmc_cli.output import reported

app = typer.Typer(help="Database schema migrations (Alembic) and grants.", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="target revision")) -> None:
    """Migrate up to REVISION (default: head)."""
    with reported():
        migrate_up(migration_database_url(), revision)
    print(f"database upgraded to {revision}")


@app.command()
def downgrade(
    revision: str = typer.Argument("-1", help='target ("-1", a revision, "base")'),
) -> None:
    """Migrate down to REVISION (default: one step back)."""
    with reported():
        migrate_down(migration_database_url(), revision)
    print(f"database downgraded to {revision}")


@app.command("grant-app-role")
def grant_app_role(
    role: str = typer.Argument(..., help="the apps' login role (LOGIN, owning nothing)"),
) -> None:
    """Let the login ROLE run the apps: CONNECT on this database, membership of nmc_app.

    ROLE must exist, log in, own nothing here, and be neither a superuser, BYPASSRLS,
    CREATEROLE, REPLICATION, a member of another role, nor the migration role itself.
    """
    with reported():
        done = grant_app_role_to(migration_database_url(), role)
    for statement in done.statements:
        print(f"granted: {statement}")
    group = done.app_role
    if done.already_member:
        print(f"{role} was already a member of {group}")
    if done.inherits:
        print(f"{role} has {group}'s rights (INHERIT) and no others; row-level security holds it")
    else:
        print(f"{role} has {group}'s rights after SET ROLE {group} (the apps do it), none before")
