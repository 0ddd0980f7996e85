"""`python -m nmc_worker`: run the outbox dispatcher until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal

import structlog

try:
    import uvloop
except ImportError:  # not on Windows
    uvloop = None  # type: ignore[assignment]

from nmc_domain.shared.retry import RetryPolicy
from nmc_worker.bootstrap import build_worker, settings_or_exit
from nmc_worker.dispatcher import DispatcherOptions

log = structlog.get_logger("nmc.worker")


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nmc worker", description="Run the outbox worker.")
    parser.add_argument("--concurrency", type=int, default=8, help="handlers running at once")
    parser.add_argument("--batch-size", type=int, default=16, help="rows claimed per query")
    parser.add_argument("--poll-interval", type=float, default=1.0, help="seconds between polls")
    parser.add_argument("--max-attempts", type=int, default=8, help="attempts before dead letter")
    parser.add_argument("--seed", type=int, default=None, help="seed the backoff jitter")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    settings = settings_or_exit(os.environ)
    worker = build_worker(
        settings,
        options=DispatcherOptions(
            concurrency=args.concurrency,
            batch_size=args.batch_size,
            poll_seconds=args.poll_interval,
        ),
        policy=RetryPolicy(max_attempts=args.max_attempts),
        rng=random.Random(args.seed),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "worker.started",
        concurrency=args.concurrency,
        sms="console" if settings.sms_console else "twilio",
    )
    await worker.run(stop)
    log.info("worker.stopped")


def main(argv: list[str] | None = None) -> None:
    """Entry point of `python -m nmc_worker` and `nmc worker`."""
    # uvloop spends far less CPU per socket wait than asyncio's loop (uvicorn uses it too).
    run = asyncio.run if uvloop is None else uvloop.run
    run(_serve(_options(argv)))


if __name__ == "__main__":
    main()
