"""`python -m nmc_api --host H --port P`: serve the API with uvicorn."""

from __future__ import annotations

import argparse
import os

import uvicorn

from nmc_api.bootstrap import build_app, settings_or_exit


def main(argv: list[str] | None = None) -> None:
    """Parse options, read settings (exit 2 on a bad one), serve until interrupted."""
    parser = argparse.ArgumentParser(prog="nmc api", description="Serve the NeverMissCall API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    settings = settings_or_exit(os.environ)
    app = build_app(settings)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
