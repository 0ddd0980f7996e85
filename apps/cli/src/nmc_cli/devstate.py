"""What a running `nmc dev` tells the other commands (in .nmc/dev.json of the current folder)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import attrs

from nmc_cli.bootstrap import CliError, settings_database_url, settings_migration_database_url

__all__ = ["DEV_HOME", "DevState", "database_url", "migration_database_url"]

DEV_HOME = Path(".nmc")
_FILE = DEV_HOME / "dev.json"


@attrs.frozen
class DevState:
    """The dev database, the API's URL, the Twilio account and the demo number.

    `auth_token` is only ever the public dev token: a real one is never written to disk
    (`nmc simulate` then reads NMC_TWILIO_AUTH_TOKEN from the environment).
    """

    database_url: str
    base_url: str
    account_sid: str
    auth_token: str | None
    demo_number: str
    # Like auth_token: only the public dev secret, never a real one.
    jwt_secret: str | None = None
    # The key `nmc dev` made for itself (never one from the environment): login links.
    secret_key: str | None = None

    def save(self) -> None:
        DEV_HOME.mkdir(exist_ok=True)
        _FILE.write_text(json.dumps(attrs.asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls) -> DevState | None:
        try:
            return cls(**json.loads(_FILE.read_text()))
        except (OSError, ValueError, TypeError):
            return None


def database_url(environ: Mapping[str, str] = os.environ) -> str:
    """NMC_DATABASE_URL, else the database of `nmc dev` in this folder."""
    return _or_dev_state(settings_database_url(environ), "NMC_DATABASE_URL")


def migration_database_url(environ: Mapping[str, str] = os.environ) -> str:
    """`nmc db`'s URL: NMC_MIGRATION_DATABASE_URL, else whatever `database_url` finds."""
    return _or_dev_state(
        settings_migration_database_url(environ),
        "NMC_MIGRATION_DATABASE_URL or NMC_DATABASE_URL",
    )


def _or_dev_state(url: str | None, names: str) -> str:
    if url:
        return url
    state = DevState.load()
    if state is not None:
        return state.database_url
    raise CliError(f"{names} is not set (and no `nmc dev` database in ./.nmc)")
