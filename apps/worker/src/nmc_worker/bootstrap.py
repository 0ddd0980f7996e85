"""Composition root of the worker: the only module of nmc_worker that knows the adapters."""

from __future__ import annotations

import random
import sys
from collections.abc import Mapping

import httpx

from nmc_adapters.console import ConsoleSmsSender
from nmc_adapters.logs import configure_logging
from nmc_adapters.postgres import (
    PgOutboxQueue,
    PgUnitOfWork,
    PgWakeups,
    create_engine,
    libpq_url,
)
from nmc_adapters.settings import Settings, SettingsError, load_settings, require
from nmc_adapters.twilio.sms import TwilioSmsSender
from nmc_domain.messaging.ports import SmsSender
from nmc_domain.shared.retry import RetryPolicy, UniformSource
from nmc_domain.unit_of_work import UnitOfWorkFactory
from nmc_worker.dispatcher import Dispatcher, DispatcherOptions
from nmc_worker.handlers import build_dead_letter_handlers, build_handlers
from nmc_worker.worker import Worker

__all__ = ["build_worker", "settings_or_exit"]

_TWILIO = ("NMC_PUBLIC_BASE_URL", "NMC_TWILIO_ACCOUNT_SID", "NMC_TWILIO_AUTH_TOKEN")


def settings_or_exit(environ: Mapping[str, str]) -> Settings:
    """The settings (Twilio's required unless NMC_SMS_CONSOLE=1), or exit 2 with one line."""
    try:
        settings = load_settings(environ, required=("NMC_DATABASE_URL",))
        if not settings.sms_console:
            settings = load_settings(environ, required=("NMC_DATABASE_URL", *_TWILIO))
    except SettingsError as exc:
        print(f"nmc worker: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.log_format, settings.log_level)
    return settings


def build_worker(
    settings: Settings,
    *,
    options: DispatcherOptions = DispatcherOptions(),
    policy: RetryPolicy = RetryPolicy(),
    rng: UniformSource | None = None,
    sender: SmsSender | None = None,
    new_uow: UnitOfWorkFactory | None = None,
) -> Worker:
    """Real adapters by default; tests pass their own sender, RNG or units of work."""
    database_url = require(settings.database_url, "NMC_DATABASE_URL")
    engine = create_engine(database_url, pool_size=options.concurrency + 2)
    wakeups = PgWakeups(libpq_url(database_url))
    client: httpx.AsyncClient | None = None
    if sender is None and settings.sms_console:
        sender = ConsoleSmsSender()
    elif sender is None:
        client = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
        sender = TwilioSmsSender(
            client,
            account_sid=require(settings.twilio_account_sid, "NMC_TWILIO_ACCOUNT_SID"),
            auth_token=require(settings.twilio_auth_token, "NMC_TWILIO_AUTH_TOKEN"),
            api_base=settings.twilio_api_base,
            public_base_url=require(settings.public_base_url, "NMC_PUBLIC_BASE_URL"),
        )
    units = new_uow or (lambda: PgUnitOfWork(engine))
    dispatcher = Dispatcher(
        PgOutboxQueue(engine),
        wakeups,
        build_handlers(units, sender),
        policy,
        rng or random.Random(),
        options,
        dead_letters=build_dead_letter_handlers(units),
    )

    async def close() -> None:
        await wakeups.close()
        if client is not None:
            await client.aclose()
        await engine.dispose()

    return Worker(dispatcher=dispatcher, start=wakeups.start, close=close)
