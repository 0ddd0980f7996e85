"""`nmc db upgrade|downgrade [REVISION]`: schema migrations."""

from __future__ import annotations

import typer

from nmc_cli.bootstrap import migrate_down, migrate_up
from nmc_cli.devstate import database_url
from nmc_cli.output import reported

app = typer.Typer(help="Database schema migrations (Alembic).", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="target revision")) -> None:
    """Migrate up to REVISION (default: head)."""
    with reported():
        migrate_up(database_url(), revision)
    print(f"database upgraded to {revision}")


@app.command()
def downgrade(
    revision: str = typer.Argument("-1", help='target ("-1", a revision, "base")'),
) -> None:
    """Migrate down to REVISION (default: one step back)."""
    with reported():
        migrate_down(database_url(), revision)
    print(f"database downgraded to {revision}")
