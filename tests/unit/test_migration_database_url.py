"""NMC_MIGRATION_DATABASE_URL: `nmc db`'s URL, else NMC_DATABASE_URL, else `nmc dev`'s."""

from __future__ import annotations

from pathlib import Path

import pytest

from nmc_adapters.settings import SettingsError, load_settings
from nmc_cli.bootstrap import CliError
from nmc_cli.devstate import DevState, database_url, migration_database_url

OWNER_PASSWORD = "ACME-PLUMBING-owner-password"  # pragma: allowlist secret
LOGIN_PASSWORD = "ACME-PLUMBING-login-password"  # pragma: allowlist secret
APP_URL = f"postgresql://nmc_app_login:{LOGIN_PASSWORD}@db.acme.example:5432/nmc"
OWNER_URL = f"postgresql://nmc_owner:{OWNER_PASSWORD}@db.acme.example:5432/nmc"
DEV_URL = "postgresql://postgres@127.0.0.1:54329/nmc_dev"


@pytest.fixture
def no_dev_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder where no `nmc dev` has run (the commands read ./.nmc/dev.json)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def dev_state(no_dev_state: Path) -> DevState:
    state = DevState(
        database_url=DEV_URL,
        base_url="http://127.0.0.1:8000",
        account_sid="AC" + "0" * 32,
        auth_token=None,
        demo_number="+15005550006",
    )
    state.save()
    return state


def test_settings_read_the_migration_url_apart_from_the_apps_url() -> None:
    settings = load_settings(
        {"NMC_DATABASE_URL": APP_URL, "NMC_MIGRATION_DATABASE_URL": OWNER_URL}, required=()
    )

    assert settings.database_url == APP_URL
    assert settings.migration_database_url == OWNER_URL
    assert settings.migration_url() == OWNER_URL


@pytest.mark.parametrize("unset", [{}, {"NMC_MIGRATION_DATABASE_URL": ""}], ids=["absent", "empty"])
def test_the_migration_url_falls_back_to_the_apps_url(unset: dict[str, str]) -> None:
    settings = load_settings({"NMC_DATABASE_URL": APP_URL} | unset, required=())

    assert settings.migration_database_url is None
    assert settings.migration_url() == APP_URL


def test_neither_url_reads_as_none() -> None:
    assert load_settings({}, required=()).migration_url() is None


def test_a_malformed_migration_url_is_named_without_its_password() -> None:
    bad = f"mysql://nmc_owner:{OWNER_PASSWORD}@db.acme.example/nmc"

    with pytest.raises(SettingsError) as caught:
        load_settings({"NMC_MIGRATION_DATABASE_URL": bad}, required=())

    assert str(caught.value).startswith("NMC_MIGRATION_DATABASE_URL is malformed")
    assert OWNER_PASSWORD not in str(caught.value)


def test_the_repr_masks_the_migration_url_password() -> None:
    settings = load_settings({"NMC_MIGRATION_DATABASE_URL": OWNER_URL}, required=())

    assert OWNER_PASSWORD not in repr(settings)
    assert "nmc_owner:***@db.acme.example" in repr(settings)


def test_nmc_db_prefers_the_migration_url_and_the_apps_keep_theirs(dev_state: DevState) -> None:
    environ = {"NMC_DATABASE_URL": APP_URL, "NMC_MIGRATION_DATABASE_URL": OWNER_URL}

    assert migration_database_url(environ) == OWNER_URL
    assert database_url(environ) == APP_URL


def test_nmc_db_falls_back_to_the_apps_url(dev_state: DevState) -> None:
    assert migration_database_url({"NMC_DATABASE_URL": APP_URL}) == APP_URL


def test_with_one_url_nmc_dev_serves_both(dev_state: DevState) -> None:
    assert migration_database_url({}) == DEV_URL
    assert database_url({}) == DEV_URL


def test_without_any_url_the_error_names_both_variables(no_dev_state: Path) -> None:
    with pytest.raises(CliError, match="NMC_MIGRATION_DATABASE_URL or NMC_DATABASE_URL is not set"):
        migration_database_url({})


def test_a_malformed_migration_url_stops_nmc_db(dev_state: DevState) -> None:
    with pytest.raises(CliError, match="NMC_MIGRATION_DATABASE_URL is malformed"):
        migration_database_url({"NMC_MIGRATION_DATABASE_URL": "not a url"})
