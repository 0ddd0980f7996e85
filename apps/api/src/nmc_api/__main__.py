"""`python -m nmc_api --host H --port P [--workers N]`: serve the API with uvicorn."""

from __future__ import annotations

import argparse
import os

import uvicorn
from litestar import Litestar

from nmc_api.bootstrap import build_app, settings_or_exit


def app_from_environment() -> Litestar:
    """The app as each worker process builds it (the settings were checked before they start)."""
    return build_app(settings_or_exit(os.environ))


def _workers(value: str) -> int:
    try:
        workers = int(value)
    except ValueError:
        workers = 0
    if not 1 <= workers <= 64:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 64, got {value!r}")
    return workers


def main(argv: list[str] | None = None) -> None:
    """Parse options, read settings (exit 2 on a bad one), serve until interrupted."""
    parser = argparse.ArgumentParser(prog="nmc api", description="Serve the NeverMissCall API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="processes serving the port (one per core is a good start); default 1",
    )
    args = parser.parse_args(argv)
    settings = settings_or_exit(os.environ)
    options = {"host": args.host, "port": args.port, "log_config": None, "access_log": False}
    if args.workers == 1:
        uvicorn.run(build_app(settings), **options)
    else:  # each worker process imports the app's factory and builds its own
        uvicorn.run(
            "nmc_api.__main__:app_from_environment", factory=True, workers=args.workers, **options
        )


if __name__ == "__main__":
    main()
