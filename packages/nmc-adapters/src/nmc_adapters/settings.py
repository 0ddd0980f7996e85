"""Settings from the environment; a missing or malformed one stops the process with one line."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import attrs
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy.engine import make_url

from nmc_adapters.masking import mask_url
from nmc_adapters.postgres.url import libpq_url, sqlalchemy_url
from nmc_domain.billing.model import BillingTerms

__all__ = [
    "JWT_KEY_SOURCES",
    "Settings",
    "SettingsError",
    "load_settings",
    "require",
    "require_jwt_key",
]

JWT_KEY_SOURCES = ("NMC_JWT_SECRET", "NMC_JWT_PUBLIC_KEY", "NMC_JWT_JWKS_URL")

_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_SPACE = re.compile(r"\s")
_DIGITS = re.compile(r"[0-9]+")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """One line naming the variable at fault and what is expected (never its secret value)."""


def _url_repr(value: str | None) -> str:
    return repr(None if value is None else mask_url(value))


@attrs.frozen
class Settings:
    """Everything the apps read from the environment (names are the public contract).

    A variable that is not set reads as None; each app requires the ones it needs. The repr
    (and so str() and any log line showing the object) holds no secret: tokens are left out
    and every URL's password is masked.
    """

    database_url: str | None = attrs.field(default=None, repr=_url_repr)
    # `nmc db` (migrations, grants) runs as this role when set; see migration_url().
    migration_database_url: str | None = attrs.field(default=None, repr=_url_repr)
    public_base_url: str | None = attrs.field(default=None, repr=_url_repr)
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = attrs.field(default=None, repr=False)
    twilio_api_base: str = attrs.field(default="https://api.twilio.com", repr=_url_repr)
    log_format: str = "json"
    log_level: str = "info"
    # `nmc dev` without Twilio credentials: print outbound SMS instead of sending them.
    sms_console: bool = False
    # The tenant API's bearer tokens: exactly one key source (see JWT_KEY_SOURCES).
    jwt_secret: str | None = attrs.field(default=None, repr=False)
    jwt_public_key: str | None = None
    jwt_jwks_url: str | None = attrs.field(default=None, repr=_url_repr)
    jwt_issuer: str = "nevermisscall"
    jwt_audience: str = "nmc-api"
    # The worker purges stored webhooks and finished outbox rows older than this many days.
    retention_days: float = 30.0
    # A Twilio request taking longer is an unknown outcome (reconciled before any resend).
    twilio_timeout_seconds: float = 10.0
    # Stripe: billing is enforced only when the key, the webhook secret and the price are all
    # set (see stripe_configured); load_settings refuses a partial set.
    stripe_secret_key: str | None = attrs.field(default=None, repr=False)
    stripe_webhook_secret: str | None = attrs.field(default=None, repr=False)
    stripe_price_id: str | None = None
    stripe_api_base: str = attrs.field(default="https://api.stripe.com", repr=_url_repr)
    # The web app Stripe sends the owner back to (Checkout success/cancel, Portal return).
    app_base_url: str | None = attrs.field(default=None, repr=_url_repr)
    # A past_due subscription stays entitled this many days (with a banner for the owner).
    billing_grace_days: int = 7
    # A Fernet key: provider tokens at rest (and OAuth states, web sessions) are sealed with it.
    secret_key: str | None = attrs.field(default=None, repr=False)
    # Google Calendar (per technician) and Jobber (per tenant): both id and secret, or neither.
    google_client_id: str | None = None
    google_client_secret: str | None = attrs.field(default=None, repr=False)
    google_api_base: str = attrs.field(default="https://www.googleapis.com", repr=_url_repr)
    google_oauth_base: str = attrs.field(default="https://accounts.google.com", repr=_url_repr)
    jobber_client_id: str | None = None
    jobber_client_secret: str | None = attrs.field(default=None, repr=False)
    jobber_api_base: str = attrs.field(default="https://api.getjobber.com", repr=_url_repr)
    jobber_oauth_base: str = attrs.field(default="https://api.getjobber.com", repr=_url_repr)

    @property
    def google_configured(self) -> bool:
        """True when Google's client id and secret are set (NMC_SECRET_KEY then is too)."""
        return self.google_client_id is not None and self.google_client_secret is not None

    @property
    def jobber_configured(self) -> bool:
        """True when Jobber's client id and secret are set (NMC_SECRET_KEY then is too)."""
        return self.jobber_client_id is not None and self.jobber_client_secret is not None

    @property
    def stripe_configured(self) -> bool:
        """True when Stripe's secret key, webhook secret and price id are all set."""
        return all(getattr(self, field) is not None for _, field in _STRIPE_GROUP)

    def billing_terms(self) -> BillingTerms:
        """Billing is enforced when Stripe is configured, with NMC_BILLING_GRACE_DAYS."""
        if not self.stripe_configured:
            return BillingTerms()
        return BillingTerms(enforced=True, grace=timedelta(days=self.billing_grace_days))

    def migration_url(self) -> str | None:
        """NMC_MIGRATION_DATABASE_URL, else NMC_DATABASE_URL (one URL serves both)."""
        return self.migration_database_url or self.database_url


def _url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise SettingsError(f"{name} is malformed: expected an http(s) URL like https://host/path")
    return value.rstrip("/")


def _database_url(name: str, value: str) -> str:
    if not _is_postgres_url(value):
        raise SettingsError(
            f"{name} is malformed: expected postgresql://user:password@host:5432/database"
        )
    return value


def _is_postgres_url(value: str) -> bool:
    # libpq's own parser and SQLAlchemy's must both take it. Their messages quote the URL,
    # password included, so none of them is passed on.
    try:
        params = conninfo_to_dict(libpq_url(value))
        make_url(sqlalchemy_url(value))
        ports = [int(port) for port in str(params.get("port") or 5432).split(",") if port]
    except Exception:
        return False
    return all(0 < port < 65536 for port in ports)


def _sid(name: str, value: str) -> str:
    if not _SID.match(value):
        raise SettingsError(f"{name} is malformed: expected AC followed by 32 hex digits")
    return value


def _token(name: str, value: str) -> str:
    if not value.strip() or value != value.strip():
        raise SettingsError(f"{name} is malformed: expected a non-empty token without spaces")
    return value


def _pem(name: str, value: str) -> str:
    # A PEM in the variable itself, or the path of a file holding one.
    if "-----BEGIN" in value:
        return value
    try:
        text = Path(value).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        raise SettingsError(
            f"{name} is malformed: expected a PEM public key or a file holding one"
        ) from None
    if "-----BEGIN" not in text:
        raise SettingsError(f"{name} is malformed: the file it names holds no PEM public key")
    return text


def _text(name: str, value: str) -> str:
    if not value.strip():
        raise SettingsError(f"{name} is malformed: must not be blank")
    return value.strip()


def _positive(limit: float):  # type: ignore[no-untyped-def]
    def check(name: str, value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise SettingsError(f"{name} is malformed: expected a number") from None
        if not 0 < number <= limit:  # also refuses NaN
            raise SettingsError(
                f"{name} is malformed: expected a number above 0, at most {limit:g}"
            )
        return number

    return check


def _prefixed(what: str, *prefixes: str):  # type: ignore[no-untyped-def]
    shapes = " or ".join(f"{prefix}..." for prefix in prefixes)

    def check(name: str, value: str) -> str:
        known = any(value.startswith(p) and len(value) > len(p) for p in prefixes)
        if not known or _SPACE.search(value):
            raise SettingsError(f"{name} is malformed: expected {what} ({shapes})")
        return value

    return check


def _fernet_key(name: str, value: str) -> str:
    # Fernet.generate_key(): 32 bytes, URL-safe base64 (44 characters with the padding).
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raw = b""
    if len(raw) != 32 or len(value.strip()) != 44:
        raise SettingsError(
            f"{name} is malformed: expected a Fernet key (32 bytes, URL-safe base64, 44 "
            'characters), e.g. from python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"'
        )
    return value.strip()


def _integer(low: int, high: int):  # type: ignore[no-untyped-def]
    def check(name: str, value: str) -> int:
        if not _DIGITS.fullmatch(value.strip()):  # int() would also take "1_0" or "+7"
            raise SettingsError(f"{name} is malformed: expected a whole number")
        number = int(value)
        if not low <= number <= high:
            raise SettingsError(f"{name} is malformed: expected {low} to {high}")
        return number

    return check


def _choice(*allowed: str):  # type: ignore[no-untyped-def]
    def check(name: str, value: str) -> str:
        if value.lower() not in allowed:
            raise SettingsError(f"{name} is malformed: expected one of {', '.join(allowed)}")
        return value.lower()

    return check


_CHECKS = {
    "NMC_DATABASE_URL": ("database_url", _database_url),
    "NMC_MIGRATION_DATABASE_URL": ("migration_database_url", _database_url),
    "NMC_PUBLIC_BASE_URL": ("public_base_url", _url),
    "NMC_TWILIO_ACCOUNT_SID": ("twilio_account_sid", _sid),
    "NMC_TWILIO_AUTH_TOKEN": ("twilio_auth_token", _token),
    "NMC_TWILIO_API_BASE": ("twilio_api_base", _url),
    "NMC_JWT_SECRET": ("jwt_secret", _token),
    "NMC_JWT_PUBLIC_KEY": ("jwt_public_key", _pem),
    "NMC_JWT_JWKS_URL": ("jwt_jwks_url", _url),
    "NMC_JWT_ISSUER": ("jwt_issuer", _text),
    "NMC_JWT_AUDIENCE": ("jwt_audience", _text),
    "NMC_LOG_FORMAT": ("log_format", _choice("json", "console")),
    "NMC_LOG_LEVEL": ("log_level", _choice("debug", "info", "warning", "error")),
    "NMC_RETENTION_DAYS": ("retention_days", _positive(3650)),
    "NMC_TWILIO_TIMEOUT_SECONDS": ("twilio_timeout_seconds", _positive(120)),
    # A restricted key (rk_) is the least-privilege choice; a publishable key (pk_) cannot work.
    "NMC_STRIPE_SECRET_KEY": ("stripe_secret_key", _prefixed("a Stripe secret key", "sk_", "rk_")),
    "NMC_STRIPE_WEBHOOK_SECRET": (
        "stripe_webhook_secret",
        _prefixed("a Stripe webhook signing secret", "whsec_"),
    ),
    "NMC_STRIPE_PRICE_ID": ("stripe_price_id", _prefixed("a Stripe price id", "price_")),
    "NMC_STRIPE_API_BASE": ("stripe_api_base", _url),
    "NMC_APP_BASE_URL": ("app_base_url", _url),
    "NMC_BILLING_GRACE_DAYS": ("billing_grace_days", _integer(0, 60)),
    "NMC_SECRET_KEY": ("secret_key", _fernet_key),
    "NMC_GOOGLE_CLIENT_ID": ("google_client_id", _token),
    "NMC_GOOGLE_CLIENT_SECRET": ("google_client_secret", _token),
    "NMC_GOOGLE_API_BASE": ("google_api_base", _url),
    "NMC_GOOGLE_OAUTH_BASE": ("google_oauth_base", _url),
    "NMC_JOBBER_CLIENT_ID": ("jobber_client_id", _token),
    "NMC_JOBBER_CLIENT_SECRET": ("jobber_client_secret", _token),
    "NMC_JOBBER_API_BASE": ("jobber_api_base", _url),
    "NMC_JOBBER_OAUTH_BASE": ("jobber_oauth_base", _url),
}
# Billing needs all three or none: half a Stripe setup would take money without a mirror (no
# webhook secret) or fail every checkout (no price).
_STRIPE_GROUP = (
    ("NMC_STRIPE_SECRET_KEY", "stripe_secret_key"),
    ("NMC_STRIPE_WEBHOOK_SECRET", "stripe_webhook_secret"),
    ("NMC_STRIPE_PRICE_ID", "stripe_price_id"),
)
_SECRET_KEY = (("NMC_SECRET_KEY", "secret_key"),)
_GOOGLE_CLIENT = (
    ("NMC_GOOGLE_CLIENT_ID", "google_client_id"),
    ("NMC_GOOGLE_CLIENT_SECRET", "google_client_secret"),
)
_JOBBER_CLIENT = (
    ("NMC_JOBBER_CLIENT_ID", "jobber_client_id"),
    ("NMC_JOBBER_CLIENT_SECRET", "jobber_client_secret"),
)
# (what starts a group, all it then needs). A calendar provider's client needs its secret, and
# the tokens it gets need NMC_SECRET_KEY; that key alone (the web inbox's) starts nothing.
_GROUPS = (
    (_STRIPE_GROUP, _STRIPE_GROUP),
    (_GOOGLE_CLIENT, _GOOGLE_CLIENT + _SECRET_KEY),
    (_JOBBER_CLIENT, _JOBBER_CLIENT + _SECRET_KEY),
)


def load_settings(environ: Mapping[str, str], *, required: Iterable[str]) -> Settings:
    """Read and check every known variable; those in `required` must be present."""
    values: dict[str, object] = {}
    for name, (field, check) in _CHECKS.items():
        raw = environ.get(name)
        if raw is None or raw == "":
            if name in required:
                raise SettingsError(f"{name} is not set")
            continue
        values[field] = check(name, raw)
    console = environ.get("NMC_SMS_CONSOLE", "").strip().lower()
    if console not in _TRUE | _FALSE:
        raise SettingsError("NMC_SMS_CONSOLE is malformed: expected 1 or 0")
    values["sms_console"] = console in _TRUE
    for starts, needs in _GROUPS:
        _check_group(values, starts, needs)
    return Settings(**values)  # type: ignore[arg-type]


Group = Sequence[tuple[str, str]]


def _check_group(values: Mapping[str, object], starts: Group, needs: Group) -> None:
    """Once any of `starts` is set, every one of `needs` must be."""
    given = [name for name, field in starts if field in values]
    missing = [name for name, field in needs if field not in values]
    if given and missing:
        verb = "is" if len(missing) == 1 else "are"
        raise SettingsError(
            f"{' and '.join(missing)} {verb} not set (needed with {' and '.join(given)})"
        )


def require(value: str | None, name: str) -> str:
    """A setting a composition root cannot do without, or SettingsError naming its variable."""
    if value is None:
        raise SettingsError(f"{name} is not set")
    return value


def require_jwt_key(settings: Settings) -> Settings:
    """The settings, if exactly one JWT key source is set (the API cannot start otherwise)."""
    given = [settings.jwt_secret, settings.jwt_public_key, settings.jwt_jwks_url]
    count = sum(value is not None for value in given)
    if count == 0:
        raise SettingsError(f"{' or '.join(JWT_KEY_SOURCES)} is not set")
    if count > 1:
        raise SettingsError(f"set only one of {', '.join(JWT_KEY_SOURCES)}")
    return settings
