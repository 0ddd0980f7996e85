"""Outbox: backlog drain, the queue's own ceiling, idle claim latency, and the seed's load test.

Starts (unless --database-url is given: a URL whose user may create databases) a throwaway
PostgreSQL with durable defaults (fsync on), the real worker (and, for the load test, the API)
as separate processes, and a local fake Twilio. Each part runs on a fresh database cloned from
a template, so runs do not see each other's rows.

  drain    a backlog of --backlog text-backs (missed calls written through the real use case)
           drained to the fake provider by 1 and 2 worker processes: texts per second.
  noop     the same number of rows of a topic whose handler does nothing (CatalogUpdated is
           acknowledged without work) with logging at warning: the queue's own ceiling.
  latency  one idle worker; --inserts single-row inserts, each its own transaction, spaced
           --gap-ms apart. Per row: commit -> claim (the claim statement's now(), read back
           from available_at - lease) and commit -> handler start (the no-op handler's log line
           timestamp); commit = the moment the INSERT's autocommit round trip returned to the
           bench. One machine, one clock (CLOCK_REALTIME) for all three processes.
  load     the API and one worker: 50 missed calls a minute for --load-minutes, then 100 a
           second for --burst-seconds (signed webhooks, open loop). Outbox lag = dispatched_at
           - created_at of the text rows written in each phase (from the table); PostgreSQL's
           CPU = its processes' CPU time (/proc) over the phase.

The workers are started ahead (modules imported, waiting for their options) so the clock does
not include the interpreter's start-up.

    uv run python bench/outbox.py                          # everything, a short load test
    uv run python bench/outbox.py --only drain --workers 1 2 --concurrency 16
    uv run python bench/outbox.py --only load --load-minutes 10 --burst-seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from first_sms import (
    NUMBER,
    SID,
    TOKEN,
    cpu_seconds,
    fire,
    machine_busy_seconds,
    onboard,
    percentile,
    start,
    wait_ready,
)

# The fake Twilio and the process helpers are test doubles: they live with the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from psycopg.types.json import Jsonb

from nmc_adapters.postgres import EmbeddedPostgres, PgUnitOfWork, create_engine
from nmc_adapters.postgres.migrate import upgrade
from nmc_adapters.wire import encode_event
from nmc_domain.catalog.events import CatalogUpdated
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.telephony.missed_call import CallStatusReport, ReportOutcome, report_call_status
from tests.support.databases import create_database, drop_database, with_database
from tests.support.fake_twilio import FakeTwilio
from tests.support.worker_process import StandbyWorker

TEXTS = encode_event(MessageQueued(uuid.uuid4(), uuid.uuid4()))[0]
NOOP = encode_event(CatalogUpdated(uuid.uuid4(), uuid.uuid4(), "updated"))[0]
LEASE = 60.0  # seconds, given to the workers: claim time = available_at - LEASE
PARTS = ("drain", "noop", "latency", "load")


# -- measuring ----------------------------------------------------------------------------------


def stat_ticks(pid: int) -> tuple[int, int, int]:
    """(ppid, own CPU ticks, reaped children's CPU ticks) of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def pg_cpu_seconds(postmaster: int | None) -> float | None:
    """CPU time of the whole server so far: the postmaster, its live children (backends,
    walwriter, checkpointer…) and the children it has reaped (backends that ended)."""
    if postmaster is None:
        return None
    _, own, reaped = stat_ticks(postmaster)
    total = own + reaped
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid, ticks, _ = stat_ticks(int(stat.parent.name))
        except (OSError, ValueError, IndexError):  # gone meanwhile
            continue
        if ppid == postmaster:
            total += ticks
    return total / os.sysconf("SC_CLK_TCK")


def postmaster_pid(cluster: EmbeddedPostgres | None) -> int | None:
    if cluster is None:
        return None
    state = json.loads((cluster.home / "state.json").read_text())
    return int((Path(state["data"]) / "postmaster.pid").read_text().split()[0])


def spread(values: list[float], digits: int = 2) -> dict[str, float] | None:
    if not values:
        return None
    return {
        "p50": round(percentile(values, 50), digits),
        "p95": round(percentile(values, 95), digits),
        "p99": round(percentile(values, 99), digits),
        "max": round(max(values), digits),
        "mean": round(statistics.fmean(values), digits),
    }


class Meter:
    """CPU seconds used by the given processes, PostgreSQL, this process (bench and fake
    Twilio) and the whole machine between `__init__` and `read`."""

    def __init__(self, pids: Iterable[int], postmaster: int | None) -> None:
        self.pids, self.postmaster = list(pids), postmaster
        self.before = self._sample()

    def _sample(self) -> tuple[list[float], float | None, float, float, float]:
        return (
            [cpu_seconds(p) for p in self.pids],
            pg_cpu_seconds(self.postmaster),
            time.process_time(),
            machine_busy_seconds(),
            time.perf_counter(),
        )

    def read(self) -> dict[str, Any]:
        procs, pg, _, busy, wall = self._sample()
        p0, pg0, own0, busy0, wall0 = self.before
        window = wall - wall0
        used = sum(a - b for a, b in zip(procs, p0, strict=True))
        pg_used = None if pg is None or pg0 is None else pg - pg0
        machine = busy - busy0
        return {
            "window_s": round(window, 2),
            "app_cpu_s": round(used, 2),
            "postgres_cpu_s": None if pg_used is None else round(pg_used, 2),
            "bench_and_fake_cpu_s": round(time.process_time() - own0, 2),
            "machine_busy_cpu_s": round(machine, 2),
            # Whatever else ran meanwhile (another job on a shared machine skews the figures).
            "other_cpu_s": round(machine - used - (pg_used or 0) - (time.process_time() - own0), 2),
            "machine_busy_pct": round(100 * machine / window / (os.cpu_count() or 1), 1),
            "postgres_pct_of_one_core": None
            if pg_used is None
            else round(100 * pg_used / window, 1),
            "postgres_pct_of_machine_busy": None
            if pg_used is None or machine <= 0
            else round(100 * pg_used / machine, 1),
        }


def conditions() -> dict[str, Any]:
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        model = platform.processor()
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


# -- setting up -------------------------------------------------------------------------------


def worker_env(database_url: str, fake_url: str, log_level: str) -> dict[str, str]:
    return dict(
        os.environ,
        NMC_DATABASE_URL=database_url,
        NMC_PUBLIC_BASE_URL="http://127.0.0.1:9",  # StatusCallback only: never called here
        NMC_TWILIO_ACCOUNT_SID=SID,
        NMC_TWILIO_AUTH_TOKEN=TOKEN,
        NMC_TWILIO_API_BASE=fake_url,
        NMC_LOG_LEVEL=log_level,
    )


async def missed_calls(database_url: str, count: int, first: int = 0) -> None:
    """`count` missed calls from distinct callers through the real use case (8 at a time):
    each opens a conversation and queues one text-back."""
    engine = create_engine(database_url, pool_size=8)
    gate = asyncio.Semaphore(8)

    async def one(i: int) -> ReportOutcome:
        async with gate:
            report = CallStatusReport(
                "CA" + uuid.uuid4().hex, NUMBER, f"+1555{i:07d}", "no-answer", 0
            )
            return (await report_call_status(PgUnitOfWork(engine), report)).outcome

    try:
        outcomes = await asyncio.gather(*(one(i) for i in range(first, first + count)))
    finally:
        await engine.dispose()
    wrong = [o for o in outcomes if o is not ReportOutcome.TEXT_BACK_QUEUED]
    if wrong:
        raise SystemExit(f"{len(wrong)} missed calls queued no text: {set(wrong)}")


def tenant_id_of(database_url: str) -> uuid.UUID:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT id FROM tenants").fetchone()
    assert row is not None
    return row[0]


def pending(database_url: str, topic: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM outbox_events WHERE topic = %s AND dispatched_at IS NULL"
            " AND dead_at IS NULL AND needs_review_at IS NULL AND available_at < now() + '1h'",
            (topic,),
        ).fetchone()
    return int(row[0]) if row else 0


def wait(probe: Callable[[], bool], what: str, within: float, step: float = 0.05) -> None:
    deadline = time.monotonic() + within
    while not probe():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: not within {within} s")
        time.sleep(step)


def worker_options(args: argparse.Namespace) -> list[str]:
    return [
        "--concurrency", str(args.concurrency), "--batch-size", str(args.batch_size),
        "--lease-seconds", str(LEASE), "--seed", "1",
    ]  # fmt: skip


def standbys(env: dict[str, str], n: int) -> list[StandbyWorker]:
    workers = [StandbyWorker(env) for _ in range(n)]
    for worker in workers:
        worker.imported()
    return workers


def stop_all(workers: Iterable[StandbyWorker], logs: Path, label: str) -> None:
    for n, worker in enumerate(workers):
        worker.stop()
        (logs / f"{label}-worker{n}.log").write_text(worker.output)


# -- the parts ----------------------------------------------------------------------------------


def run_drain(bench: Bench, template: str, workers: int, count: int) -> dict[str, Any]:
    args = bench.args
    with bench.database(template) as url, FakeTwilio(account_sid=SID, auth_token=TOKEN) as fake:
        procs = standbys(worker_env(url, fake.base_url, args.log_level), workers)
        meter = Meter([w.process.pid for w in procs], bench.postmaster)
        began = time.time_ns()
        try:
            for worker in procs:
                worker.launch(*worker_options(args))
            wait(lambda: len(fake.messages) >= count, "the texts reach the provider", 600)
            wait(lambda: pending(url, TEXTS) == 0, "the outbox drains", 60)
            used = meter.read()
            time.sleep(0.5)  # a late duplicate would show now
        finally:
            stop_all(procs, bench.logs, f"drain{workers}")
        received = sorted(m.received_ns for m in fake.messages)
        by_to: dict[str, int] = {}
        for message in fake.messages:
            by_to[message.to] = by_to.get(message.to, 0) + 1
    first, last = received[0], received[-1]
    return {
        "workers": workers,
        "texts": count,
        "seconds_start_to_last_text": round((last - began) / 1e9, 2),
        "texts_per_s": round(count / ((last - began) / 1e9), 1),
        "texts_per_s_first_to_last": round((count - 1) / ((last - first) / 1e9), 1),
        "lost": count - len(by_to),
        "duplicates": sum(n - 1 for n in by_to.values()),
        "cpu": used,
        "cpu_ms_per_text": {
            "workers": round(1000 * used["app_cpu_s"] / count, 3),
            "postgres": None
            if used["postgres_cpu_s"] is None
            else round(1000 * used["postgres_cpu_s"] / count, 3),
        },
    }


def noop_rows(database_url: str, count: int) -> None:
    tenant = tenant_id_of(database_url)
    rows = []
    for _ in range(count):
        topic, version, payload = encode_event(CatalogUpdated(tenant, uuid.uuid4(), "updated"))
        rows.append((tenant, topic, Jsonb(payload), version))
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO outbox_events (tenant_id, topic, payload, schema_version)"
            " VALUES (%s, %s, %s, %s)",
            rows,
        )


def run_noop(bench: Bench, template: str, workers: int, count: int) -> dict[str, Any]:
    args = bench.args
    with bench.database(template) as url:
        noop_rows(url, count)
        procs = standbys(worker_env(url, "http://127.0.0.1:9", "warning"), workers)
        meter = Meter([w.process.pid for w in procs], bench.postmaster)
        began = time.time()
        try:
            for worker in procs:
                worker.launch(*worker_options(args))
            wait(lambda: pending(url, NOOP) == 0, "the no-op rows are done", 600)
            used = meter.read()
        finally:
            stop_all(procs, bench.logs, f"noop{workers}")
        with psycopg.connect(url) as conn:
            first, last, done = conn.execute(
                "SELECT extract(epoch FROM min(available_at)) - %s,"
                " extract(epoch FROM max(dispatched_at)), count(dispatched_at)"
                " FROM outbox_events WHERE topic = %s",
                (LEASE, NOOP),
            ).fetchone()
    return {
        "workers": workers,
        "rows": count,
        "done": done,
        "seconds_start_to_last_row": round(float(last) - began, 2),
        "rows_per_s": round(count / (float(last) - began), 1),
        "rows_per_s_first_claim_to_last": round(count / (float(last) - float(first)), 1),
        "cpu": used,
    }


def run_latency(bench: Bench, template: str) -> dict[str, Any]:
    args = bench.args
    with bench.database(template) as url:
        tenant = tenant_id_of(url)
        [worker] = standbys(worker_env(url, "http://127.0.0.1:9", "info"), 1)
        try:
            worker.go(*worker_options(args))
            time.sleep(1.0)  # idle
            committed: dict[int, float] = {}
            with psycopg.connect(url, autocommit=True) as conn:
                for _ in range(args.inserts):
                    topic, version, payload = encode_event(
                        CatalogUpdated(tenant, uuid.uuid4(), "updated")
                    )
                    row = conn.execute(
                        "INSERT INTO outbox_events (tenant_id, topic, payload, schema_version)"
                        " VALUES (%s, %s, %s, %s) RETURNING id",
                        (tenant, topic, Jsonb(payload), version),
                    ).fetchone()
                    committed[row[0]] = time.time()
                    time.sleep(args.gap_ms / 1000)
            wait(lambda: pending(url, NOOP) == 0, "the inserted rows are done", 60)
            time.sleep(0.3)  # the last log lines
        finally:
            stop_all([worker], bench.logs, "latency")
        with psycopg.connect(url) as conn:
            rows = conn.execute(
                "SELECT id, extract(epoch FROM available_at) - %s, extract(epoch FROM created_at),"
                " attempts FROM outbox_events WHERE topic = %s",
                (LEASE, NOOP),
            ).fetchall()
    started: dict[int, float] = {}
    for line in worker.lines:
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        if entry.get("event") == "event.acknowledged" and "outbox_id" in entry:
            started[int(entry["outbox_id"])] = datetime.fromisoformat(
                entry["timestamp"]
            ).timestamp()
    to_claim = [(float(claim) - committed[i]) * 1000 for i, claim, _, _ in rows if i in committed]
    written_to_claim = [(float(claim) - float(created)) * 1000 for _, claim, created, _ in rows]
    to_handler = [(started[i] - committed[i]) * 1000 for i in committed if i in started]
    return {
        "inserts": args.inserts,
        "gap_ms": args.gap_ms,
        "claimed_more_than_once": sum(1 for *_, attempts in rows if attempts),
        "handler_starts_seen": len(to_handler),
        "commit_to_handler_start_ms": spread(to_handler, 3),
        "commit_to_claim_ms": spread(to_claim, 3),
        "insert_start_to_claim_ms": spread(written_to_claim, 3),
    }


def lag_of(database_url: str, since: float, until: float) -> dict[str, Any]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT extract(epoch FROM dispatched_at - created_at) * 1000"
            " FROM outbox_events WHERE topic = %s"
            " AND created_at >= to_timestamp(%s) AND created_at < to_timestamp(%s)",
            (TEXTS, since, until),
        ).fetchall()
    lags = [float(r[0]) for r in rows if r[0] is not None]
    return {"rows": len(rows), "undispatched": len(rows) - len(lags), "lag_ms": spread(lags)}


def run_load(bench: Bench, template: str) -> dict[str, Any]:
    args = bench.args
    phases = [
        ("50_per_minute", args.load_per_minute / 60, int(args.load_per_minute * args.load_minutes)),
        ("100_per_second", args.burst_rate, int(args.burst_rate * args.burst_seconds)),
    ]
    results: dict[str, Any] = {}
    with bench.database(template) as url, FakeTwilio(account_sid=SID, auth_token=TOKEN) as fake:
        port = 18000 + os.getpid() % 1000
        base_url = f"http://127.0.0.1:{port}"
        env = worker_env(url, fake.base_url, args.log_level) | {
            "NMC_PUBLIC_BASE_URL": base_url,
            "NMC_JWT_SECRET": "bench-jwt-secret-of-at-least-32-bytes",  # pragma: allowlist secret
        }
        api = start(["-m", "nmc_api", "--port", str(port)], env, bench.logs / "load-api.log")
        worker = start(
            ["-m", "nmc_worker", *worker_options(args)], env, bench.logs / "load-worker.log"
        )
        try:
            wait_ready(base_url)
            time.sleep(1.0)
            asyncio.run(fire(base_url, 20, 10.0, first=9_000_000))  # warm pools and caches
            wait(lambda: pending(url, TEXTS) == 0, "the warm-up drains", 60)
            for n, (name, rate, calls) in enumerate(phases):
                meter = Meter([api.pid, worker.pid], bench.postmaster)
                texts_before = len(fake.messages)
                since = time.time()
                print(f"  load: {name}: {calls} calls at {rate:g}/s…", file=sys.stderr)
                _, answered, errors = asyncio.run(
                    fire(base_url, calls, rate, first=1_000_000 * (n + 1))
                )
                fired = time.time()
                wait(lambda: pending(url, TEXTS) == 0, f"{name} drains", 120)
                drained = time.time()
                used = meter.read()
                results[name] = {
                    "calls": calls,
                    "rate_per_s": round(rate, 3),
                    "webhook_errors": errors,
                    "webhook_response_ms": spread(answered),
                    "texts_at_provider": len(fake.messages) - texts_before,
                    "drained_s_after_last_call": round(drained - fired, 2),
                    "outbox": lag_of(url, since, drained),
                    "cpu": used,
                }
        finally:
            for proc in (api, worker):
                proc.terminate()
            for proc in (api, worker):
                proc.wait(timeout=30)
    return results


class Bench:
    """The server, the template databases, the options and where the logs go."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.home = Path(tempfile.mkdtemp(prefix="nmc-bench-outbox-"))
        self.logs = self.home / "logs"
        self.logs.mkdir()
        self.cluster: EmbeddedPostgres | None = None
        if args.database_url:
            self.admin_url = args.database_url
        else:  # durable defaults (fsync on): the figures include real commits
            self.cluster = EmbeddedPostgres(self.home / "pg")
            self.admin_url = self.cluster.start()
        self.postmaster = postmaster_pid(self.cluster)
        self.templates: list[str] = []

    def template(self, build: Callable[[str], None], source: str | None = None) -> str:
        name = create_database(self.admin_url, template=source, prefix="nmc_bench_tpl")
        self.templates.append(name)
        build(with_database(self.admin_url, name))
        return name

    def database(self, template: str) -> _Database:
        return _Database(self.admin_url, template)

    def close(self) -> None:
        for name in self.templates:
            drop_database(self.admin_url, name)
        if self.cluster is not None:
            self.cluster.destroy()


class _Database:
    def __init__(self, admin_url: str, template: str) -> None:
        self.admin_url, self.template = admin_url, template

    def __enter__(self) -> str:
        self.name = create_database(self.admin_url, template=self.template, prefix="nmc_bench")
        url = with_database(self.admin_url, self.name)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE")
        return url

    def __exit__(self, *_: object) -> None:
        drop_database(self.admin_url, self.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--backlog", type=int, default=10_000, help="texts (and no-op rows)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="processes")
    parser.add_argument("--concurrency", type=int, default=8, help="nmc worker --concurrency")
    parser.add_argument("--batch-size", type=int, default=16, help="nmc worker --batch-size")
    parser.add_argument("--inserts", type=int, default=1_000, help="latency: single inserts")
    parser.add_argument("--gap-ms", type=float, default=20.0, help="latency: pause after each")
    parser.add_argument("--load-minutes", type=float, default=1.0, help="load: first phase")
    parser.add_argument("--load-per-minute", type=float, default=50.0)
    parser.add_argument("--burst-seconds", type=float, default=20.0, help="load: second phase")
    parser.add_argument("--burst-rate", type=float, default=100.0, help="calls per second")
    parser.add_argument("--log-level", default="info", help="the workers' (and API's) log level")
    parser.add_argument("--database-url", default=os.environ.get("NMC_BENCH_DATABASE_URL"))
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    report: dict[str, Any] = {"conditions_before": conditions()}
    bench = Bench(args)
    try:
        say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
        say(f"outbox bench: logs in {bench.logs}")

        def base(url: str) -> None:
            upgrade(url)
            asyncio.run(onboard(url))

        base_template = bench.template(base)
        with psycopg.connect(with_database(bench.admin_url, base_template)) as conn:
            report["postgres"] = conn.execute("SHOW server_version").fetchone()[0]
        if "drain" in args.only:
            say(f"writing {args.backlog} missed calls (the backlog)…")
            began = time.perf_counter()
            backlog = bench.template(
                lambda url: asyncio.run(missed_calls(url, args.backlog)), source=base_template
            )
            report["backlog_written_s"] = round(time.perf_counter() - began, 1)
            report["drain"] = []
            for n in args.workers:
                say(f"drain: {n} worker(s)…")
                report["drain"].append(run_drain(bench, backlog, n, args.backlog))
        if "noop" in args.only:
            report["noop"] = []
            for n in args.workers:
                say(f"no-op: {n} worker(s)…")
                report["noop"].append(run_noop(bench, base_template, n, args.backlog))
        if "latency" in args.only:
            say("latency…")
            report["latency"] = run_latency(bench, base_template)
        if "load" in args.only:
            say("load…")
            report["load"] = run_load(bench, base_template)
        report["conditions_after"] = conditions()
        report["worker_options"] = " ".join(worker_options(args))
    finally:
        bench.close()
    if args.json:
        print(json.dumps(report, indent=2))
        return
    show(report)


def show(report: dict[str, Any]) -> None:
    before, after = report["conditions_before"], report["conditions_after"]
    print(
        f"outbox bench: {before['nproc']} cores ({before['cpu']}), Python {before['python']}, "
        f"PostgreSQL {report['postgres']}; load average {before['loadavg']} before, "
        f"{after['loadavg']} after; worker options: {report['worker_options']}"
    )
    for run in report.get("drain", []):
        cpu = run["cpu"]
        print(
            f"  drain {run['texts']} texts, {run['workers']} worker(s): "
            f"{run['texts_per_s']}/s from start ({run['texts_per_s_first_to_last']}/s first to "
            f"last text), lost {run['lost']}, duplicates {run['duplicates']}; CPU/text: workers "
            f"{run['cpu_ms_per_text']['workers']} ms, PostgreSQL "
            f"{run['cpu_ms_per_text']['postgres']} ms; machine busy {cpu['machine_busy_pct']}%"
        )
    for run in report.get("noop", []):
        print(
            f"  no-op {run['rows']} rows, {run['workers']} worker(s): {run['rows_per_s']}/s from "
            f"start ({run['rows_per_s_first_claim_to_last']}/s first claim to last); machine "
            f"busy {run['cpu']['machine_busy_pct']}%"
        )
    if "latency" in report:
        latency = report["latency"]
        print(f"  idle latency, {latency['inserts']} single inserts {latency['gap_ms']} ms apart:")
        for key in ("commit_to_claim_ms", "commit_to_handler_start_ms", "insert_start_to_claim_ms"):
            print(f"    {key:28} {latency[key]}")
    for name, phase in report.get("load", {}).items():
        cpu = phase["cpu"]
        print(
            f"  load {name}: {phase['calls']} calls, {phase['texts_at_provider']} texts; outbox "
            f"lag ms {phase['outbox']['lag_ms']}; PostgreSQL {cpu['postgres_pct_of_one_core']}% "
            f"of a core, {cpu['postgres_pct_of_machine_busy']}% of the machine's busy time "
            f"(machine busy {cpu['machine_busy_pct']}%)"
        )


if __name__ == "__main__":
    main()
