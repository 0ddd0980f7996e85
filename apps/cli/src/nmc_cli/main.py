"""The `nmc` command: run, operate and try NeverMissCall."""

from __future__ import annotations

import os
import sys

import typer

from nmc_cli import billing, db, replay, simulate, web
from nmc_cli.bootstrap import quiet_logging
from nmc_cli.chat import chat
from nmc_cli.dev import dev
from nmc_cli.report import report
from nmc_cli.tenants import compliance_app, tenant_app
from nmc_cli.users import token_app, user_app

app = typer.Typer(
    name="nmc",
    help="NeverMissCall: missed calls texted back within seconds.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(tenant_app, name="tenant")
app.add_typer(compliance_app, name="compliance")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(simulate.app, name="simulate")
app.add_typer(replay.app, name="replay")
app.add_typer(billing.app, name="billing")
app.add_typer(web.app, name="web")
app.command()(dev)
app.command()(chat)
app.command()(report)

_PASSTHROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


# The apps are independent packages: the CLI starts them as their own programs (exec), so
# `nmc api` IS the API process and signals reach it directly.
@app.command(context_settings=_PASSTHROUGH, add_help_option=False)
def api(ctx: typer.Context) -> None:
    """Serve the API: nmc api [--host H] [--port P]."""
    os.execv(sys.executable, [sys.executable, "-m", "nmc_api", *ctx.args])


@app.command(context_settings=_PASSTHROUGH, add_help_option=False)
def worker(ctx: typer.Context) -> None:
    """Run the outbox worker: nmc worker [--concurrency N] [--seed S] …"""
    os.execv(sys.executable, [sys.executable, "-m", "nmc_worker", *ctx.args])


def main() -> None:
    """Console script entry point."""
    quiet_logging()
    app()
