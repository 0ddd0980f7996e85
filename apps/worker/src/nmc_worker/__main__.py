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

from nmc_worker.bootstrap import OpsOptions, build_worker, settings_or_exit
from nmc_worker.dispatcher import DispatcherOptions
from nmc_worker.handlers import retry_policies

log = structlog.get_logger("nmc.worker")


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nmc worker", description="Run the outbox worker.")
    parser.add_argument("--concurrency", type=int, default=8, help="handlers running at once")
    parser.add_argument("--batch-size", type=int, default=16, help="rows claimed per query")
    parser.add_argument("--poll-interval", type=float, default=1.0, help="seconds between polls")
    parser.add_argument(
        "--lease-seconds", type=_positive, default=60.0, help="a claim's lease (seconds)"
    )
    parser.add_argument(
        "--handler-timeout",
        type=_positive,
        default=30.0,
        help="a handler's time limit (seconds), well under the lease",
    )
    parser.add_argument(
        "--shutdown-grace",
        type=_positive,
        default=10.0,
        help="seconds running handlers get to finish on SIGTERM before their rows are handed back",
    )
    parser.add_argument(
        "--retry-base", type=_positive, default=None, help="first backoff ceiling (seconds, 1)"
    )
    parser.add_argument(
        "--retry-cap", type=_positive, default=None, help="largest backoff (seconds, 300)"
    )
    parser.add_argument("--seed", type=int, default=None, help="seed the backoff jitter")
    parser.add_argument(
        "--metrics-port",
        type=_port,
        default=None,
        help="serve /metrics, /healthz and /readyz on this port (default: not served)",
    )
    parser.add_argument(
        "--metrics-host", default="127.0.0.1", help="address of the metrics port (127.0.0.1)"
    )
    parser.add_argument(
        "--retention-every",
        type=_positive,
        default=3600.0,
        help="seconds between retention purges (NMC_RETENTION_DAYS says what is old)",
    )
    parser.add_argument(
        "--calendar-poll-every",
        type=_positive,
        default=900.0,
        help="seconds between the external calendars' safety polls (900: every 15 minutes)",
    )
    args = parser.parse_args(argv)
    if args.handler_timeout >= args.lease_seconds:
        parser.error(
            f"--handler-timeout {args.handler_timeout:g} must be under --lease-seconds "
            f"{args.lease_seconds:g}"
        )
    base = 1.0 if args.retry_base is None else args.retry_base
    cap = 300.0 if args.retry_cap is None else args.retry_cap
    if base > cap:
        parser.error(f"--retry-base {base:g} must not exceed --retry-cap {cap:g}")
    if args.concurrency < 1 or args.batch_size < 1:
        parser.error("--concurrency and --batch-size must be at least 1")
    return args


def _port(value: str) -> int:
    if not value.isascii() or not value.isdigit() or not 0 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number (0-65535)")
    return int(value)


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 < number < float("inf"):
        raise argparse.ArgumentTypeError(f"{value!r} must be a positive number of seconds")
    return number


async def _serve(args: argparse.Namespace) -> None:
    settings = settings_or_exit(os.environ)
    worker = build_worker(
        settings,
        options=DispatcherOptions(
            concurrency=args.concurrency,
            batch_size=args.batch_size,
            poll_seconds=args.poll_interval,
            lease_seconds=args.lease_seconds,
            handler_timeout_seconds=args.handler_timeout,
            shutdown_grace_seconds=args.shutdown_grace,
        ),
        policies=retry_policies(base_seconds=args.retry_base, cap_seconds=args.retry_cap),
        ops=OpsOptions(
            metrics_port=args.metrics_port,
            metrics_host=args.metrics_host,
            retention_every_seconds=args.retention_every,
            google_poll_every_seconds=args.calendar_poll_every,
        ),
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
