"""Composition root of the worker: the only module of nmc_worker that knows the adapters."""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Mapping

import attrs
import httpx

from nmc_adapters.console import ConsoleSmsSender
from nmc_adapters.google import GoogleCalendarClient
from nmc_adapters.jobber import JobberClient
from nmc_adapters.logs import configure_logging
from nmc_adapters.metrics import Metrics
from nmc_adapters.postgres import (
    PgOutboxAdmin,
    PgOutboxQueue,
    PgUnitOfWork,
    PgWakeups,
    create_engine,
    libpq_url,
)
from nmc_adapters.postgres.shared.outbox_stats import outbox_stats
from nmc_adapters.providers import google_client, jobber_client, stripe_gateway
from nmc_adapters.providers import sealer as build_sealer
from nmc_adapters.settings import Settings, SettingsError, load_settings, require
from nmc_adapters.stripe import StripePaymentGateway
from nmc_adapters.twilio.sms import TwilioSmsSender
from nmc_domain.billing.ports import PaymentGateway
from nmc_domain.messaging.model import Author, OutboundMessage
from nmc_domain.messaging.ports import SmsSender
from nmc_domain.scheduling.google_ports import GoogleCalendarApi
from nmc_domain.scheduling.jobber_connect import JobberSetup
from nmc_domain.scheduling.jobber_ports import JobberApi
from nmc_domain.shared.retry import RetryPolicies, UniformSource
from nmc_domain.shared.secrets import Sealer
from nmc_domain.unit_of_work import UnitOfWorkFactory
from nmc_worker.dispatcher import Dispatcher, DispatcherOptions
from nmc_worker.google_calendar import GooglePoll
from nmc_worker.handlers import build_dead_letter_handlers, build_handlers, retry_policies
from nmc_worker.jobber import JobberPoll
from nmc_worker.ops_server import OpsServer
from nmc_worker.reports import Reports
from nmc_worker.retention import Retention
from nmc_worker.worker import Job, Worker

__all__ = ["OpsOptions", "build_worker", "settings_or_exit"]

_TWILIO = ("NMC_PUBLIC_BASE_URL", "NMC_TWILIO_ACCOUNT_SID", "NMC_TWILIO_AUTH_TOKEN")


def settings_or_exit(environ: Mapping[str, str]) -> Settings:
    """The settings (Twilio's required unless NMC_SMS_CONSOLE=1), or exit 2 with one line."""
    try:
        settings = load_settings(environ, required=("NMC_DATABASE_URL",))
        if not settings.sms_console:
            settings = load_settings(environ, required=("NMC_DATABASE_URL", *_TWILIO))
        if settings.google_configured:  # Google's push notifications are sent there
            require(settings.public_base_url, "NMC_PUBLIC_BASE_URL")
    except SettingsError as exc:
        print(f"nmc worker: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.log_format, settings.log_level)
    return settings


@attrs.frozen
class OpsOptions:
    """Where the worker serves /metrics, /healthz and /readyz (no port: not served), and how
    often it purges what is past retention."""

    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    retention_every_seconds: float = 3600.0
    reports_every_seconds: float = 3600.0
    google_poll_every_seconds: float = 900.0
    jobber_poll_every_seconds: float = 900.0


def build_worker(
    settings: Settings,
    *,
    options: DispatcherOptions = DispatcherOptions(),
    policies: RetryPolicies | None = None,
    rng: UniformSource | None = None,
    sender: SmsSender | None = None,
    new_uow: UnitOfWorkFactory | None = None,
    ops: OpsOptions = OpsOptions(),
    metrics: Metrics | None = None,
    payments: PaymentGateway | None = None,
    google: GoogleCalendarApi | None = None,
    sealer: Sealer | None = None,
    jobber: JobberApi | None = None,
) -> Worker:
    """Real adapters by default; tests pass their own sender, RNG, units of work or metrics."""
    database_url = require(settings.database_url, "NMC_DATABASE_URL")
    # The handlers, the ops server's scrape and the retention purge share the pool.
    engine = create_engine(database_url, pool_size=options.concurrency + 3)
    metrics = metrics or Metrics(read_backlog=lambda: outbox_stats(engine))
    wakeups = PgWakeups(libpq_url(database_url))
    client: httpx.AsyncClient | None = None
    if sender is None and settings.sms_console:
        sender = ConsoleSmsSender()
    elif sender is None:
        timeout = settings.twilio_timeout_seconds
        client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)))
        sender = TwilioSmsSender(
            client,
            account_sid=require(settings.twilio_account_sid, "NMC_TWILIO_ACCOUNT_SID"),
            auth_token=require(settings.twilio_auth_token, "NMC_TWILIO_AUTH_TOKEN"),
            api_base=settings.twilio_api_base,
            public_base_url=require(settings.public_base_url, "NMC_PUBLIC_BASE_URL"),
        )
    terms = settings.billing_terms()
    units = new_uow or (lambda: PgUnitOfWork(engine, billing_terms=terms))
    payments = payments or stripe_gateway(settings)
    # Google Calendar, when configured (tests pass a client pointed at their fake).
    google = google or google_client(settings)
    sealer = sealer or build_sealer(settings)
    # Jobber, when configured (tests pass a client pointed at their fake).
    jobber = jobber or jobber_client(settings)
    jobber_setup = None if jobber is None or sealer is None else JobberSetup(jobber, sealer)

    def sent(message: OutboundMessage, seconds: float) -> None:
        if message.author is Author.TEXT_BACK:
            metrics.observe_textback(seconds)

    dispatcher = Dispatcher(
        PgOutboxQueue(engine),
        wakeups,
        build_handlers(
            units,
            sender,
            sms_outcome=metrics.count_sms,
            sent=sent,
            payments=payments,
            google=google,
            sealer=sealer,
            calendar_drift=metrics.count_calendar_drift,
            jobber=jobber_setup,
        ),
        policies or retry_policies(),
        rng or random.Random(),
        options,
        dead_letters=build_dead_letter_handlers(units),
        observe=metrics.count_dispatch,
    )
    retention = Retention(
        PgOutboxAdmin(engine),
        keep_days=settings.retention_days,
        every_seconds=ops.retention_every_seconds,
    )
    jobs: list[Job] = [retention.run]
    jobs.append(Reports(units, every_seconds=ops.reports_every_seconds).run)
    if google is not None and sealer is not None:
        poll = GooglePoll(units, google, sealer, every_seconds=ops.google_poll_every_seconds)
        jobs.append(poll.run)
    if jobber_setup is not None:
        every_seconds = ops.jobber_poll_every_seconds
        jobber_poll = JobberPoll(
            units, jobber_setup, every_seconds, drift=metrics.count_calendar_drift
        )
        jobs.append(jobber_poll.run)
    if ops.metrics_port is not None:
        server = OpsServer(
            metrics,
            ready=lambda: dispatcher.claiming,
            host=ops.metrics_host,
            port=ops.metrics_port,
        )
        jobs.append(_serving(server))

    async def close() -> None:
        await wakeups.close()
        if client is not None:
            await client.aclose()
        if isinstance(payments, StripePaymentGateway):
            await payments.aclose()
        if isinstance(google, GoogleCalendarClient):
            await google.aclose()
        if isinstance(jobber, JobberClient):
            await jobber.aclose()
        await engine.dispose()

    return Worker(dispatcher=dispatcher, start=wakeups.start, close=close, jobs=jobs)


def _serving(server: OpsServer) -> Job:
    async def serve(stop: asyncio.Event) -> None:
        await server.start()
        try:
            await stop.wait()
        finally:
            await server.close()

    return serve
