"""How the CLI talks: plain lines for people, one JSON line for scripts, errors on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer

from nmc_cli.bootstrap import CliError
from nmc_domain.shared.errors import DomainError

__all__ = ["emit", "fail", "reported"]

EXIT_BAD_INPUT = 2


def fail(message: str) -> NoReturn:
    """One line on stderr, exit code 2, no traceback."""
    print(f"nmc: error: {message}", file=sys.stderr)
    raise typer.Exit(EXIT_BAD_INPUT)


@contextmanager
def reported() -> Iterator[None]:
    """Turn expected errors (bad input, unreachable database) into `fail`."""
    try:
        yield
    except (CliError, DomainError) as exc:
        fail(str(exc))


def emit(human: str, data: dict[str, Any], *, as_json: bool) -> None:
    """The human sentence, or with --json a single JSON object as the last line."""
    if as_json:
        print(json.dumps(data, sort_keys=True))
    else:
        print(human)
