"""Composition root of the API: the only module of nmc_api that knows the adapters."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from functools import partial

from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.auth import JwtSettings, JwtVerifier
from nmc_adapters.google import GoogleCalendarClient
from nmc_adapters.jobber import JobberClient, JobberWebhookVerifier
from nmc_adapters.logs import configure_logging
from nmc_adapters.metrics import Metrics
from nmc_adapters.postgres import PgUnitOfWork, create_engine, is_reachable
from nmc_adapters.postgres.shared.outbox_stats import outbox_stats
from nmc_adapters.providers import google_client, jobber_client, stripe_gateway
from nmc_adapters.providers import sealer as build_sealer
from nmc_adapters.settings import (
    Settings,
    SettingsError,
    load_settings,
    require,
    require_jwt_key,
)
from nmc_adapters.stripe import (
    StripeNotices,
    StripePaymentGateway,
    StripeWebhookVerifier,
)
from nmc_adapters.twilio.signature import TwilioSignature
from nmc_api.app import create_app
from nmc_api.deps import ApiDeps, SignatureVerifier, TokenVerifier
from nmc_api.metrics import ApiMetrics
from nmc_api.web_config import WebConfig, csrf_secret
from nmc_domain.billing.ports import PaymentGateway
from nmc_domain.billing.use_cases import BillingLinks
from nmc_domain.scheduling.google_ports import GoogleCalendarApi
from nmc_domain.scheduling.jobber_connect import JobberSetup
from nmc_domain.scheduling.jobber_ports import JobberApi
from nmc_domain.shared.secrets import Sealer
from nmc_domain.unit_of_work import UnitOfWorkFactory

__all__ = [
    "REQUIRED",
    "build_app",
    "build_deps",
    "build_metrics",
    "settings_or_exit",
    "token_verifier",
]

REQUIRED = ("NMC_DATABASE_URL", "NMC_PUBLIC_BASE_URL", "NMC_TWILIO_AUTH_TOKEN")


def settings_or_exit(environ: Mapping[str, str]) -> Settings:
    """The settings, or exit 2 with one line naming the variable at fault."""
    try:
        settings = require_jwt_key(load_settings(environ, required=REQUIRED))
        token_verifier(settings)  # a malformed key stops the process now, not at the first call
        if settings.stripe_configured:  # Checkout and the Portal send the owner back there
            require(settings.app_base_url, "NMC_APP_BASE_URL")
    except (SettingsError, ValueError) as exc:
        print(f"nmc api: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    return settings


def token_verifier(settings: Settings) -> TokenVerifier:
    """The bearer-token verifier for the configured key source."""
    return JwtVerifier(
        JwtSettings(
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            secret=settings.jwt_secret,
            public_key=settings.jwt_public_key,
            jwks_url=settings.jwt_jwks_url,
        )
    )


def _engine(settings: Settings) -> AsyncEngine:
    return create_engine(require(settings.database_url, "NMC_DATABASE_URL"))


def build_deps(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    new_uow: UnitOfWorkFactory | None = None,
    signature: SignatureVerifier | None = None,
    tokens: TokenVerifier | None = None,
    payments: PaymentGateway | None = None,
    google: GoogleCalendarApi | None = None,
    sealer: Sealer | None = None,
    jobber: JobberApi | None = None,
) -> ApiDeps:
    """Real adapters by default; tests pass their own ports. `deps.close` disposes `engine`."""
    if engine is None:
        engine = _engine(settings)
    terms = settings.billing_terms()
    links = stripe_events = None
    if settings.stripe_configured:
        app = require(settings.app_base_url, "NMC_APP_BASE_URL")
        links = BillingLinks(
            success_url=f"{app}/app/billing?checkout=success",
            cancel_url=f"{app}/app/billing?checkout=canceled",
            return_url=f"{app}/app/billing",
        )
        secret = require(settings.stripe_webhook_secret, "NMC_STRIPE_WEBHOOK_SECRET")
        stripe_events = StripeNotices(StripeWebhookVerifier(secret))
        payments = payments or stripe_gateway(settings)
    sealer = sealer or build_sealer(settings)
    google = google or google_client(settings)
    jobber = jobber or jobber_client(settings)
    jobber_setup = jobber_events = None
    if jobber is not None and sealer is not None and settings.jobber_client_secret is not None:
        jobber_setup = JobberSetup(jobber, sealer)
        jobber_events = JobberWebhookVerifier(settings.jobber_client_secret)

    web = None
    if sealer is not None and settings.secret_key is not None:
        base = settings.app_base_url or settings.public_base_url or ""
        web = WebConfig(sealer, csrf_secret(settings.secret_key), base.startswith("https://"))

    async def ready() -> bool:
        return await is_reachable(engine)

    async def close() -> None:
        if isinstance(payments, StripePaymentGateway):
            await payments.aclose()
        if isinstance(google, GoogleCalendarClient):
            await google.aclose()
        if isinstance(jobber, JobberClient):
            await jobber.aclose()
        await engine.dispose()

    return ApiDeps(
        new_uow=new_uow or (lambda: PgUnitOfWork(engine, billing_terms=terms)),
        twilio_signature=signature
        or TwilioSignature(require(settings.twilio_auth_token, "NMC_TWILIO_AUTH_TOKEN")),
        tokens=tokens or token_verifier(settings),
        public_base_url=require(settings.public_base_url, "NMC_PUBLIC_BASE_URL"),
        ready=ready,
        close=close,
        payments=payments if settings.stripe_configured else None,
        billing_links=links,
        stripe_events=stripe_events,
        sealer=sealer,
        google=google,
        jobber=jobber_setup,
        jobber_events=jobber_events,
        web=web,
    )


def build_metrics(engine: AsyncEngine) -> Metrics:
    """This process's metrics; the outbox gauges are read through `engine` at each scrape."""
    return Metrics(read_backlog=partial(outbox_stats, engine))


def build_app(
    settings: Settings, *, metrics: ApiMetrics | None = None, **overrides: object
) -> Litestar:
    """Logging configured and the app assembled, with its own metrics unless `metrics` is given."""
    configure_logging(settings.log_format, settings.log_level)
    engine = _engine(settings)
    deps = build_deps(settings, engine=engine, **overrides)  # type: ignore[arg-type]
    return create_app(deps, metrics=metrics or build_metrics(engine))
