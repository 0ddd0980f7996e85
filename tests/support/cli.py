"""Running `nmc`: as a real process, or in-process through Click's runner (same code, faster)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from typer.testing import CliRunner

from nmc_cli.main import app

NMC = str(Path(sys.executable).parent / "nmc")
_OURS = ("NMC_",)


def clean_env(**values: str) -> dict[str, str]:
    """The test runner's environment without any NMC_* setting, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    return env | values


def nmc(*args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 60):
    """Run `nmc ARGS…` and return the finished process (text mode)."""
    return subprocess.run(
        [NMC, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


@contextmanager
def _environ(env: dict[str, str], cwd: Path | None) -> Iterator[None]:
    saved, saved_cwd = dict(os.environ), Path.cwd()
    os.environ.clear()
    os.environ.update(env)
    if cwd is not None:
        os.chdir(cwd)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        os.chdir(saved_cwd)


def nmc_inline(*args: str, env: dict[str, str], cwd: Path | None = None):
    """Run the `nmc` app in this process with exactly `env`; returns Click's Result."""
    with _environ(env, cwd):
        return CliRunner().invoke(app, list(args), catch_exceptions=False)
