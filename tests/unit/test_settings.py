"""Settings: unset values are None, and no secret reaches a repr, an error message or a log line."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
import structlog

from nmc_adapters.logs import configure_logging
from nmc_adapters.masking import mask_url
from nmc_adapters.settings import Settings, SettingsError, load_settings, require
from nmc_api.bootstrap import build_deps
from nmc_api.bootstrap import settings_or_exit as api_settings_or_exit
from nmc_worker.bootstrap import settings_or_exit as worker_settings_or_exit

DB_PASSWORD = "hunter2-ACME-PLUMBING-db-password"
SSL_PASSWORD = "ACME-PLUMBING-sslkey-passphrase"
TWILIO_TOKEN = "twilio-auth-token-ACME-PLUMBING-0xDEADBEEF"
JWT_SECRET = "jwt-secret-ACME-PLUMBING-do-not-print-me-ever"
SECRETS = (DB_PASSWORD, SSL_PASSWORD, TWILIO_TOKEN, JWT_SECRET)
DATABASE_URL = (
    f"postgresql://nmc_app:{DB_PASSWORD}@db.acme-plumbing.example:5432/nmc"
    f"?sslmode=require&sslpassword={SSL_PASSWORD}"
)
ENVIRON = {
    "NMC_DATABASE_URL": DATABASE_URL,
    "NMC_PUBLIC_BASE_URL": "https://nmc.acme-plumbing.example",
    "NMC_TWILIO_ACCOUNT_SID": "AC" + "a1" * 16,
    "NMC_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
    "NMC_JWT_SECRET": JWT_SECRET,
}


@pytest.fixture
def settings() -> Settings:
    return load_settings(ENVIRON, required=tuple(ENVIRON))


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, text


def test_the_secrets_are_read(settings: Settings) -> None:
    # The masking below must not come from losing the values.
    assert settings.database_url == DATABASE_URL
    assert settings.twilio_auth_token == TWILIO_TOKEN
    assert settings.jwt_secret == JWT_SECRET


@pytest.mark.parametrize("show", [repr, str], ids=["repr", "str"])
def test_repr_and_str_hold_no_secret_but_still_say_where(settings: Settings, show) -> None:
    text = show(settings)

    assert_no_secret(text)
    assert "postgresql://nmc_app:***@db.acme-plumbing.example:5432/nmc" in text
    assert "sslpassword=***" in text
    assert "https://nmc.acme-plumbing.example" in text


def test_unset_values_are_none_not_empty_strings() -> None:
    settings = load_settings({}, required=())

    assert settings.database_url is None
    assert settings.public_base_url is None
    assert settings.twilio_account_sid is None
    assert settings.twilio_auth_token is None
    assert settings.jwt_secret is None


def test_an_empty_variable_counts_as_unset() -> None:
    assert load_settings({"NMC_PUBLIC_BASE_URL": ""}, required=()).public_base_url is None
    with pytest.raises(SettingsError, match=r"^NMC_DATABASE_URL is not set$"):
        load_settings({"NMC_DATABASE_URL": ""}, required=("NMC_DATABASE_URL",))


def test_require_names_the_missing_variable() -> None:
    assert require("https://nmc.acme-plumbing.example", "NMC_PUBLIC_BASE_URL")
    with pytest.raises(SettingsError, match=r"^NMC_PUBLIC_BASE_URL is not set$"):
        require(None, "NMC_PUBLIC_BASE_URL")


@pytest.mark.parametrize(
    "url",
    [
        f"mysql://nmc_app:{DB_PASSWORD}@db.acme-plumbing.example/nmc",
        f"postgresql://nmc_app:{DB_PASSWORD}@db.acme-plumbing.example:fivefourthreetwo/nmc",
        f"postgresql://nmc_app:{DB_PASSWORD}@db.acme-plumbing.example:99999/nmc",
        f"postgresql://nmc_app:{DB_PASSWORD}@db.acme-plumbing.example/nmc?bogus=1",
        f"postgresql://nmc_app:{DB_PASSWORD} x@db.acme-plumbing.example/nmc",
        f"postgresql://nmc_app:{DB_PASSWORD}@[::1/nmc",
    ],
    ids=["scheme", "port-word", "port-range", "unknown-param", "space", "ipv6"],
)
def test_a_malformed_database_url_is_named_but_never_echoed(url: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({"NMC_DATABASE_URL": url}, required=())

    message = str(raised.value)
    assert message.startswith("NMC_DATABASE_URL is malformed")
    assert DB_PASSWORD not in message
    assert "acme-plumbing" not in message  # nothing of the value at all
    # Nor is the parser's own error (which quotes the URL) chained on to a traceback.
    assert raised.value.__cause__ is None
    assert raised.value.__context__ is None


MARK = "VIVID-SECRET-VALUE-4242"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NMC_PUBLIC_BASE_URL", f"ftp://{MARK}.example"),
        ("NMC_TWILIO_ACCOUNT_SID", f"AC{MARK}"),
        ("NMC_TWILIO_AUTH_TOKEN", f" {MARK} "),
        ("NMC_TWILIO_API_BASE", f"https://api.example/?k={MARK}"),
        ("NMC_JWT_SECRET", f"{MARK}\n"),
        ("NMC_JWT_PUBLIC_KEY", f"/nonexistent/{MARK}.pem"),
        ("NMC_JWT_JWKS_URL", MARK),
        ("NMC_JWT_ISSUER", "   "),
        ("NMC_LOG_FORMAT", MARK),
        ("NMC_LOG_LEVEL", MARK),
    ],
)
def test_no_settings_error_echoes_the_value(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({name: value}, required=())

    assert str(raised.value).startswith(f"{name} is malformed")
    assert MARK not in str(raised.value)


def test_a_key_file_without_a_pem_is_refused_without_its_path(tmp_path: Path) -> None:
    holder = tmp_path / f"{MARK}.pem"
    holder.write_text("not a key\n")
    with pytest.raises(SettingsError) as raised:
        load_settings({"NMC_JWT_PUBLIC_KEY": str(holder)}, required=())
    assert MARK not in str(raised.value)


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_a_log_line_with_the_settings_or_a_url_holds_no_secret(settings: Settings, fmt) -> None:
    out = io.StringIO()
    configure_logging(fmt, "info", stream=out)
    log = structlog.get_logger("nmc.test.settings")

    log.info("settings.loaded", settings=settings)
    log.warning("db.unreachable", error=f"could not connect to {settings.database_url}")
    log.info("settings.fields", db=settings.database_url, twilio_auth_token=TWILIO_TOKEN)

    text = out.getvalue()
    assert "settings.loaded" in text
    assert "db.unreachable" in text
    assert "db.acme-plumbing.example" in text  # the lines say where, without the password
    assert "settings.fields" in text
    assert_no_secret(text)


def test_mask_url_keeps_what_is_not_secret() -> None:
    assert mask_url("postgresql:///nmc?host=/var/run/postgresql") == (
        "postgresql:///nmc?host=/var/run/postgresql"
    )
    assert mask_url("postgresql://nmc@127.0.0.1:5432/nmc") == "postgresql://nmc@127.0.0.1:5432/nmc"
    assert mask_url("https://[::1") == "***"


def test_the_api_exits_2_with_one_line_naming_a_missing_setting(capsys) -> None:
    environ = {k: v for k, v in ENVIRON.items() if k != "NMC_PUBLIC_BASE_URL"}
    with pytest.raises(SystemExit) as raised:
        api_settings_or_exit(environ)

    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert err == "nmc api: NMC_PUBLIC_BASE_URL is not set\n"


def test_the_worker_needs_twilio_unless_sms_go_to_the_console(capsys) -> None:
    environ = {"NMC_DATABASE_URL": DATABASE_URL}
    with pytest.raises(SystemExit) as raised:
        worker_settings_or_exit(environ)
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert err == "nmc worker: NMC_PUBLIC_BASE_URL is not set\n"

    console = worker_settings_or_exit({**environ, "NMC_SMS_CONSOLE": "1"})
    assert console.sms_console
    assert console.twilio_auth_token is None


def test_building_the_api_without_a_required_setting_names_it() -> None:
    with pytest.raises(SettingsError, match=r"^NMC_DATABASE_URL is not set$"):
        build_deps(Settings(public_base_url="https://nmc.acme-plumbing.example"))


# --- Stripe and billing ----------------------------------------------------------------------

STRIPE_KEY = "sk_test_ACMEPLUMBINGstripeKEYdoNotPrint4242"  # pragma: allowlist secret
STRIPE_WEBHOOK_SECRET = "whsec_ACMEPLUMBINGwebhookSECRETdoNotPrint"  # pragma: allowlist secret
STRIPE = {
    "NMC_STRIPE_SECRET_KEY": STRIPE_KEY,
    "NMC_STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
    "NMC_STRIPE_PRICE_ID": "price_1AcmePlumbingMonthly",
}


def test_stripe_settings_are_read() -> None:
    settings = load_settings(
        {
            **STRIPE,
            "NMC_STRIPE_API_BASE": "http://127.0.0.1:12111/",
            "NMC_APP_BASE_URL": "https://app.acme-plumbing.example",
            "NMC_BILLING_GRACE_DAYS": "14",
        },
        required=(),
    )

    assert settings.stripe_secret_key == STRIPE_KEY
    assert settings.stripe_webhook_secret == STRIPE_WEBHOOK_SECRET
    assert settings.stripe_price_id == "price_1AcmePlumbingMonthly"
    assert settings.stripe_api_base == "http://127.0.0.1:12111"  # no trailing slash
    assert settings.app_base_url == "https://app.acme-plumbing.example"
    assert settings.billing_grace_days == 14
    assert settings.stripe_configured


def test_without_stripe_billing_is_off_and_the_defaults_hold() -> None:
    settings = load_settings({}, required=())

    assert not settings.stripe_configured
    assert settings.stripe_secret_key is None
    assert settings.stripe_webhook_secret is None
    assert settings.stripe_price_id is None
    assert settings.stripe_api_base == "https://api.stripe.com"
    assert settings.app_base_url is None
    assert settings.billing_grace_days == 7


def test_a_restricted_stripe_key_is_accepted() -> None:
    restricted = "rk_live_AcmeRestricted"  # pragma: allowlist secret
    settings = load_settings({**STRIPE, "NMC_STRIPE_SECRET_KEY": restricted}, required=())
    assert settings.stripe_secret_key == restricted


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            ("NMC_STRIPE_SECRET_KEY",),
            "NMC_STRIPE_WEBHOOK_SECRET and NMC_STRIPE_PRICE_ID are not set "
            "(needed with NMC_STRIPE_SECRET_KEY)",
        ),
        (
            ("NMC_STRIPE_SECRET_KEY", "NMC_STRIPE_WEBHOOK_SECRET"),
            "NMC_STRIPE_PRICE_ID is not set "
            "(needed with NMC_STRIPE_SECRET_KEY and NMC_STRIPE_WEBHOOK_SECRET)",
        ),
        (
            ("NMC_STRIPE_PRICE_ID",),
            "NMC_STRIPE_SECRET_KEY and NMC_STRIPE_WEBHOOK_SECRET are not set "
            "(needed with NMC_STRIPE_PRICE_ID)",
        ),
        (
            ("NMC_STRIPE_WEBHOOK_SECRET", "NMC_STRIPE_PRICE_ID"),
            "NMC_STRIPE_SECRET_KEY is not set "
            "(needed with NMC_STRIPE_WEBHOOK_SECRET and NMC_STRIPE_PRICE_ID)",
        ),
    ],
)
def test_half_a_stripe_setup_names_what_is_missing(given: tuple[str, ...], message: str) -> None:
    environ = {name: STRIPE[name] for name in given}

    with pytest.raises(SettingsError) as raised:
        load_settings(environ, required=())

    assert str(raised.value) == message
    assert STRIPE_KEY not in str(raised.value)
    assert STRIPE_WEBHOOK_SECRET not in str(raised.value)


def test_an_empty_stripe_variable_counts_as_unset_in_the_group() -> None:
    with pytest.raises(SettingsError, match=r"^NMC_STRIPE_PRICE_ID is not set \(needed with "):
        load_settings({**STRIPE, "NMC_STRIPE_PRICE_ID": ""}, required=())


@pytest.mark.parametrize("show", [repr, str], ids=["repr", "str"])
def test_stripe_secrets_stay_out_of_the_repr(show: Callable[[object], str]) -> None:
    settings = load_settings(
        {**STRIPE, "NMC_APP_BASE_URL": "https://app.acme-plumbing.example"}, required=()
    )

    text = show(settings)

    assert STRIPE_KEY not in text
    assert STRIPE_WEBHOOK_SECRET not in text
    assert "price_1AcmePlumbingMonthly" in text  # not a secret: says which plan
    assert "https://app.acme-plumbing.example" in text


@pytest.mark.parametrize("days", ["0", "60", " 30 "])
def test_grace_days_within_bounds_are_read(days: str) -> None:
    settings = load_settings({"NMC_BILLING_GRACE_DAYS": days}, required=())
    assert settings.billing_grace_days == int(days)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NMC_STRIPE_SECRET_KEY", f"pk_test_{MARK}"),  # a publishable key cannot call the API
        ("NMC_STRIPE_SECRET_KEY", f"sk_test_{MARK} "),
        ("NMC_STRIPE_SECRET_KEY", "sk_"),
        ("NMC_STRIPE_WEBHOOK_SECRET", f"{MARK}"),
        ("NMC_STRIPE_WEBHOOK_SECRET", f"whsec_{MARK}\n"),
        ("NMC_STRIPE_PRICE_ID", f"prod_{MARK}"),
        ("NMC_STRIPE_API_BASE", f"ftp://{MARK}.example"),
        ("NMC_APP_BASE_URL", f"https://app.example/?next={MARK}"),
        ("NMC_BILLING_GRACE_DAYS", "61"),
        ("NMC_BILLING_GRACE_DAYS", "-1"),
        ("NMC_BILLING_GRACE_DAYS", "7.5"),
        ("NMC_BILLING_GRACE_DAYS", "1_0"),
        ("NMC_BILLING_GRACE_DAYS", MARK),
    ],
)
def test_a_malformed_stripe_setting_is_named_but_never_echoed(name: str, value: str) -> None:
    # Each alone: the group check must not hide the malformed value behind "is not set".
    with pytest.raises(SettingsError) as raised:
        load_settings({**STRIPE, name: value}, required=())

    assert str(raised.value).startswith(f"{name} is malformed")
    assert MARK not in str(raised.value)
    assert STRIPE_KEY not in str(raised.value)


SECRET = "k" * 43 + "="  # 44 URL-safe base64 characters: 32 bytes, a Fernet key's shape
GOOGLE = {"NMC_GOOGLE_CLIENT_ID": "nmc-app.apps.example", "NMC_GOOGLE_CLIENT_SECRET": "g-secret"}
JOBBER = {"NMC_JOBBER_CLIENT_ID": "jobber-app", "NMC_JOBBER_CLIENT_SECRET": "j-secret"}


def test_a_calendar_provider_needs_its_secret_and_the_secret_key() -> None:
    assert load_settings({"NMC_SECRET_KEY": SECRET}, required=()).secret_key == SECRET
    both = load_settings({**GOOGLE, **JOBBER, "NMC_SECRET_KEY": SECRET}, required=())
    assert (both.google_configured, both.jobber_configured) == (True, True)
    alone = load_settings({"NMC_SECRET_KEY": SECRET}, required=())
    assert (alone.google_configured, alone.jobber_configured) == (False, False)

    cases = {
        ("NMC_GOOGLE_CLIENT_ID",): "NMC_GOOGLE_CLIENT_SECRET and NMC_SECRET_KEY are not set "
        "(needed with NMC_GOOGLE_CLIENT_ID)",
        ("NMC_GOOGLE_CLIENT_ID", "NMC_GOOGLE_CLIENT_SECRET"): "NMC_SECRET_KEY is not set "
        "(needed with NMC_GOOGLE_CLIENT_ID and NMC_GOOGLE_CLIENT_SECRET)",
        ("NMC_JOBBER_CLIENT_SECRET",): "NMC_JOBBER_CLIENT_ID and NMC_SECRET_KEY are not set "
        "(needed with NMC_JOBBER_CLIENT_SECRET)",
    }
    for given, message in cases.items():
        environ = {name: {**GOOGLE, **JOBBER}[name] for name in given}
        with pytest.raises(SettingsError) as caught:
            load_settings(environ, required=())
        assert str(caught.value) == message


@pytest.mark.parametrize("value", ["not-a-key", "k" * 44, "k" * 42 + "==", SECRET + "A"])
def test_a_malformed_secret_key_is_named_never_shown(value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"NMC_SECRET_KEY": value}, required=())
    assert str(caught.value).startswith("NMC_SECRET_KEY is malformed: expected a Fernet key")
    assert value not in str(caught.value)
