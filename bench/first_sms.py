"""First-SMS latency: signed missed-call webhook sent -> fake Twilio receives the text-back.

Starts (unless --database-url is given) a throwaway PostgreSQL from the local binaries, the real
API and worker as separate processes, and a local fake Twilio; then fires N missed calls at a
fixed rate (open loop: a call leaves on schedule whether or not earlier ones are done) and
prints p50/p95/p99 latency, lost and duplicate texts.

    uv run python bench/first_sms.py --rate 1 --calls 60
    uv run python bench/first_sms.py --rate 100 --duration 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from loadgen import Pool, render_post

# The fake Twilio is a test double: it lives with the tests, which the bench shares.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from nmc_adapters.phone import LibPhoneNumbers
from nmc_adapters.postgres import EmbeddedPostgres, PgUnitOfWork, create_engine
from nmc_adapters.postgres.migrate import upgrade
from nmc_adapters.twilio.signature import TwilioSignature
from nmc_domain.compliance.gate import approve_compliance
from nmc_domain.tenancy.onboarding import OnboardTenant, onboard_tenant
from tests.support.fake_twilio import FakeTwilio

SID = "AC" + "be" * 16
TOKEN = "bench-auth-token"
NUMBER = "+15005550006"
PATH = "/webhooks/twilio/voice/status"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children (the API's worker processes), so far."""
    total = cpu_seconds(pid)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid:
            total += tree_cpu_seconds(int(stat.parent.name))
    return total


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle, since boot (Linux /proc/stat)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


async def onboard(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=2)
    command = OnboardTenant("Bench Plumbing", NUMBER, "+15005550001", "America/Chicago", "b@x.io")
    done = await onboard_tenant(PgUnitOfWork(engine), LibPhoneNumbers(), command)
    await approve_compliance(PgUnitOfWork(engine), done.tenant.id)
    await engine.dispose()


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, *args], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )


def wait_ready(base_url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base_url + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("API did not become ready")


async def fire(
    base_url: str, calls: int, rate: float, first: int = 0
) -> tuple[dict[str, int], list[float], int]:
    """Send the calls on schedule; returns caller -> send time (ns), response latencies, errors."""
    signer = TwilioSignature(TOKEN)
    prepared = []
    for i in range(first, first + calls):
        caller = f"+1555{i:07d}"
        params = {
            "AccountSid": SID,
            "CallSid": "CA" + uuid.uuid4().hex,
            "CallStatus": "no-answer",
            "CallDuration": "0",
            "From": caller,
            "To": NUMBER,
        }
        signature = signer.compute(base_url + PATH, list(params.items()))
        request = render_post(base_url + PATH, params, {"X-Twilio-Signature": signature})
        prepared.append((caller, request))
    sent: dict[str, int] = {}
    answered: list[float] = []
    errors = 0
    pool = Pool(base_url)

    async def one(caller: str, request: bytes) -> None:
        nonlocal errors
        started = time.perf_counter()
        sent[caller] = time.time_ns()
        try:
            status = await pool.send(request)
        except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
            errors += 1
            print(f"webhook for {caller} failed: {exc!r}", file=sys.stderr)
            return
        answered.append((time.perf_counter() - started) * 1000)
        errors += status != 200

    t0 = time.perf_counter()
    tasks = []
    for i, item in enumerate(prepared):
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(*item)))
    await asyncio.gather(*tasks)
    await pool.close()
    return sent, answered, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=1.0, help="missed calls per second")
    parser.add_argument("--calls", type=int, default=None, help="number of calls")
    parser.add_argument("--duration", type=float, default=None, help="seconds (calls = rate*s)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument(
        "--api-workers", type=int, default=1, help="API processes (nmc api --workers)"
    )
    parser.add_argument("--database-url", default=os.environ.get("NMC_BENCH_DATABASE_URL"))
    parser.add_argument("--grace", type=float, default=15.0, help="seconds to wait for stragglers")
    parser.add_argument(
        "--warmup", type=int, default=100, help="calls sent first and not measured (cold pools)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--dump", type=Path, help="write send offset (s), latency (ms) per call")
    args = parser.parse_args()
    calls = args.calls or int(args.rate * (args.duration or 60))

    home = Path(tempfile.mkdtemp(prefix="nmc-bench-"))
    cluster = None
    if args.database_url:
        database_url = args.database_url
    else:  # durable defaults (fsync on): the figures include real commits
        cluster = EmbeddedPostgres(home / "pg")
        cluster.start()
        database_url = cluster.create_database("bench")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        upgrade(database_url)
        asyncio.run(onboard(database_url))
        with FakeTwilio(account_sid=SID, auth_token=TOKEN) as fake:
            port = 18000 + os.getpid() % 1000
            base_url = f"http://127.0.0.1:{port}"
            env = dict(
                os.environ,
                NMC_DATABASE_URL=database_url,
                NMC_PUBLIC_BASE_URL=base_url,
                NMC_TWILIO_ACCOUNT_SID=SID,
                NMC_TWILIO_AUTH_TOKEN=TOKEN,
                NMC_TWILIO_API_BASE=fake.base_url,
                NMC_JWT_SECRET="bench-jwt-secret-of-at-least-32-bytes",
            )
            api = ["-m", "nmc_api", "--port", str(port), "--workers", str(args.api_workers)]
            procs.append(start(api, env, home / "api.log"))
            for n in range(args.workers):
                procs.append(start(["-m", "nmc_worker"], env, home / f"worker{n}.log"))
            wait_ready(base_url)
            time.sleep(1.0)  # let the workers LISTEN
            if args.warmup:  # fill connection pools and statement caches, as in a running system
                asyncio.run(fire(base_url, args.warmup, 50.0, first=9_000_000))
                time.sleep(1.0)
            cpu_before = [tree_cpu_seconds(p.pid) for p in procs]
            own_before, busy_before = time.process_time(), machine_busy_seconds()
            began = time.perf_counter()
            sent, answered, errors = asyncio.run(fire(base_url, calls, args.rate))
            elapsed = time.perf_counter() - began
            deadline = time.monotonic() + args.grace
            while (
                time.monotonic() < deadline
                and len({m.to for m in fake.messages}) < calls + args.warmup
            ):
                time.sleep(0.1)
            time.sleep(0.5)  # a late duplicate would show up now
            cpu_used = [tree_cpu_seconds(p.pid) - b for p, b in zip(procs, cpu_before, strict=True)]
            own_used = time.process_time() - own_before
            busy = machine_busy_seconds() - busy_before
            window = time.perf_counter() - began
            received: dict[str, list[int]] = {}
            for message in fake.messages:
                if message.to in sent:  # warm-up calls are not measured
                    received.setdefault(message.to, []).append(message.received_ns)
    finally:
        for proc in procs:
            proc.terminate()
        print(f"(process logs in {home})", file=sys.stderr)
        for proc in procs:
            proc.wait(timeout=30)
        if cluster is not None:
            cluster.destroy()

    latencies = [(min(received[c]) - t) / 1e6 for c, t in sent.items() if c in received]
    if args.dump:
        first = min(sent.values())
        rows = sorted(
            ((t - first) / 1e9, (min(received[c]) - t) / 1e6)
            for c, t in sent.items()
            if c in received
        )
        args.dump.write_text("".join(f"{at:.3f},{ms:.2f}\n" for at, ms in rows))
    report = {
        "calls": calls,
        "rate_per_s": args.rate,
        "achieved_rate_per_s": round(calls / elapsed, 1),
        "workers": args.workers,
        "api_workers": args.api_workers,
        "first_sms_ms": {
            "p50": round(percentile(latencies, 50), 2),
            "p95": round(percentile(latencies, 95), 2),
            "p99": round(percentile(latencies, 99), 2),
            "max": round(max(latencies), 2),
            "mean": round(statistics.fmean(latencies), 2),
        }
        if latencies
        else None,
        "webhook_response_ms": {
            "p50": round(percentile(answered, 50), 2),
            "p95": round(percentile(answered, 95), 2),
            "p99": round(percentile(answered, 99), 2),
        },
        "lost": sum(1 for c in sent if c not in received),
        "duplicates": sum(len(v) - 1 for v in received.values()),
        "webhook_errors": errors,
        "cpu_ms_per_call": {
            "api": round(cpu_used[0] * 1000 / calls, 2),
            "workers": round(sum(cpu_used[1:]) * 1000 / calls, 2),
            "bench_and_fake_twilio": round(own_used * 1000 / calls, 2),
            "everything_else": round((busy - sum(cpu_used) - own_used) * 1000 / calls, 2),
        },
        "machine_busy_pct": round(100 * busy / window / (os.cpu_count() or 1), 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"first SMS, {calls} missed calls at {args.rate}/s ({report['machine']})")
    for key, value in report.items():
        print(f"  {key:22} {value}")


if __name__ == "__main__":
    main()
