"""The worker program as a real process, started ahead: its imports done, waiting for its
options on standard input. A test that kills and restarts it many times then pays the
interpreter's start-up (seconds on a busy 2-core machine) off the clock, and the restarted
worker is running its real `main` within a fraction of a second."""

from __future__ import annotations

import subprocess
import sys
import threading

from tests.support.processes import Running

__all__ = ["StandbyWorker"]

# The same entry point as `python -m nmc_worker`, called once the options arrive.
_PROGRAM = """
import sys
from nmc_worker.__main__ import main
print("standby.imported", flush=True)
options = sys.stdin.readline().split()
sys.stdin.close()
main(options)
"""


class StandbyWorker(Running):
    """`python -m nmc_worker OPTIONS` whose start is split in two: `__init__` starts the
    interpreter and imports the worker; `go` hands it its options and waits until it runs."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _PROGRAM],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def imported(self, within: float = 60.0) -> StandbyWorker:
        """Wait until the worker's modules are loaded (a benchmark starts its clock then)."""
        self.wait_for(lambda line: line == "standby.imported", within)
        return self

    def launch(self, *options: str) -> None:
        """Hand the worker its options (`nmc worker OPTIONS`); returns at once."""
        assert self.process.stdin is not None
        self.process.stdin.write(" ".join(options) + "\n")
        self.process.stdin.close()

    def started(self, within: float = 30.0) -> StandbyWorker:
        """Wait until the worker says it runs (LISTEN in place, claiming)."""
        self.wait_for(lambda line: "worker.started" in line, within)
        return self

    def go(self, *options: str, within: float = 30.0) -> StandbyWorker:
        """`launch`, then `started`."""
        self.launch(*options)
        return self.started(within)
