"""A local PostgreSQL cluster run from the machine's own binaries (for `nmc dev` and tests)."""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

__all__ = ["EmbeddedPostgres", "PostgresUnavailable", "find_pg_bin"]

_OWNER = "postgres"
_FAST_UNSAFE = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


class PostgresUnavailable(RuntimeError):
    """The local PostgreSQL binaries are missing or the cluster would not start."""


def find_pg_bin() -> Path:
    """The bin directory holding initdb and pg_ctl: PATH first, then Debian's layout."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
    )
    for candidate in reversed(candidates):
        if (Path(candidate) / "pg_ctl").exists() and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl) found: install them "
        "(apt-get install postgresql) or set NMC_DATABASE_URL to a running server"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class EmbeddedPostgres:
    """A cluster in `home` (data, log and state file). Reused when it is already running.

    PostgreSQL refuses to run as root, so as root the binaries run as the `postgres` user; if
    that user cannot reach `home` (a checkout under /root, say) the data lives in a private
    directory under the system temp dir, recorded in `home/state.json`.
    """

    def __init__(self, home: Path, *, fast_unsafe: bool = False) -> None:
        self.home = home.resolve()
        self.fast_unsafe = fast_unsafe
        self._bin = find_pg_bin()
        self._as_root = os.geteuid() == 0
        self.port = 0

    @property
    def url(self) -> str:
        """libpq URL of the `postgres` database (superuser, trust auth on 127.0.0.1)."""
        return f"postgresql://{_OWNER}@127.0.0.1:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        """libpq URL of another database on this cluster."""
        return self.url.rsplit("/", 1)[0] + "/" + database

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> str:
        """Initialise if needed, start unless running, and return the URL."""
        self.home.mkdir(parents=True, exist_ok=True)
        recorded, self.port = self._read_state()
        data = recorded or self._choose_data_dir()
        if not (data / "PG_VERSION").exists():
            self._initdb(data)
        if self._running(data) and self.port:
            self._write_state(data)
            return self.url
        if not self.port or not _port_is_free(self.port):
            self.port = _free_port()
        self._write_state(data)
        options = [
            f"-p {self.port}",
            "-c listen_addresses=127.0.0.1",
            "-c unix_socket_directories=",
        ]
        options += [f"-c {o}" for o in _FAST_UNSAFE] if self.fast_unsafe else []
        log = str(data / "server.log")
        start = ["-D", str(data), "-l", log, "-w", "-t", "60", "-o", " ".join(options), "start"]
        self._pg_ctl(start, what="start")
        return self.url

    def stop(self) -> None:
        """Stop the cluster (fast shutdown); nothing happens when it is not running."""
        data, _ = self._read_state()
        if data is not None and self._running(data):
            self._pg_ctl(["-D", str(data), "-m", "fast", "-w", "stop"], what="stop")

    def destroy(self) -> None:
        """Stop and delete everything (throwaway clusters in tests)."""
        self.stop()
        data, _ = self._read_state()
        if data is not None:
            shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(self.home, ignore_errors=True)

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """CREATE DATABASE (from a template when given) and return its URL."""
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(statement)
        return self.url_for(name)

    def ensure_database(self, name: str) -> str:
        """Create the database unless it exists; return its URL."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if found is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    # -- internals ------------------------------------------------------------------------------

    def _state_file(self) -> Path:
        return self.home / "state.json"

    def _read_state(self) -> tuple[Path | None, int]:
        """(data directory, port) recorded by an earlier start, if any."""
        try:
            state = json.loads(self._state_file().read_text())
            return Path(state["data"]), int(state["port"])
        except (OSError, ValueError, KeyError, TypeError):
            return None, 0

    def _write_state(self, data: Path) -> None:
        self._state_file().write_text(json.dumps({"data": str(data), "port": self.port}))

    def _choose_data_dir(self) -> Path:
        data = self.home / "data"
        if self._as_root and not self._owner_can_reach(self.home):
            data = Path(tempfile.mkdtemp(prefix="nmc-pg-")) / "data"
        return data

    def _owner_can_reach(self, path: Path) -> bool:
        probe = ["runuser", "-u", _OWNER, "--", "test", "-w", str(path), "-a", "-x", str(path)]
        return subprocess.run(probe, check=False, capture_output=True).returncode == 0

    def _initdb(self, data: Path) -> None:
        data.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            shutil.chown(data.parent, _OWNER) if data.parent != self.home else None
            shutil.chown(data, _OWNER)
        cmd = [str(self._bin / "initdb"), "-D", str(data), "-U", _OWNER, "--auth=trust"]
        self._run([*cmd, "-E", "UTF8", "--no-locale", "--no-sync"], what="initdb")

    def _running(self, data: Path) -> bool:
        if not (data / "postmaster.pid").exists():
            return False
        status = self._command([str(self._bin / "pg_ctl"), "-D", str(data), "status"])
        return subprocess.run(status, check=False, capture_output=True).returncode == 0

    def _pg_ctl(self, args: list[str], *, what: str) -> None:
        self._run([str(self._bin / "pg_ctl"), *args], what=what)

    def _command(self, cmd: list[str]) -> list[str]:
        return ["runuser", "-u", _OWNER, "--", *cmd] if self._as_root else cmd

    def _run(self, cmd: list[str], *, what: str) -> None:
        # A new session: Ctrl-C in `nmc dev` must not reach the server before the apps stop.
        done = subprocess.run(
            self._command(cmd), check=False, capture_output=True, text=True, start_new_session=True
        )
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise PostgresUnavailable(f"PostgreSQL {what} failed: {' '.join(detail)}")
