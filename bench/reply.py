"""The assistant's first offer: signed inbound job description -> the offer at the fake Twilio.

Starts (unless --database-url is given) a throwaway PostgreSQL, the real API and worker as
separate processes, and a local fake Twilio. The tenant has 20 technicians and 10,000
appointments in the calendar. Each conversation is a new caller texting "my water heater is
leaking"; the clock runs from the signed webhook leaving to the fake provider receiving the
reply with the numbered offers (three held times). Open loop at a fixed rate.

    uv run python bench/reply.py --rate 20 --duration 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from first_sms import machine_busy_seconds, percentile, start, tree_cpu_seconds, wait_ready
from loadgen import Pool, render_post

# The fake Twilio is a test double: it lives with the tests, which the bench shares.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nmc_adapters.phone import LibPhoneNumbers
from nmc_adapters.postgres import EmbeddedPostgres, PgUnitOfWork, create_engine
from nmc_adapters.postgres.migrate import upgrade
from nmc_adapters.twilio.signature import TwilioSignature
from nmc_domain.catalog.use_cases import NewItem, create_item
from nmc_domain.compliance.gate import approve_compliance
from nmc_domain.identity.model import Principal
from nmc_domain.tenancy.onboarding import OnboardTenant, onboard_tenant
from tests.support.fake_twilio import FakeTwilio

SID = "AC" + "be" * 16
TOKEN = "bench-auth-token"
NUMBER = "+15005550006"
OWNER = "owner@bench-plumbing.example"
PATH = "/webhooks/twilio/sms"
TECHNICIANS = 20
APPOINTMENTS = 10_000
ZONE = ZoneInfo("America/Chicago")


async def setup(database_url: str) -> tuple[uuid.UUID, uuid.UUID]:
    engine = create_engine(database_url, pool_size=2)
    command = OnboardTenant("Bench Plumbing", NUMBER, "+15005550001", "America/Chicago", OWNER)
    tenant = (await onboard_tenant(PgUnitOfWork(engine), LibPhoneNumbers(), command)).tenant
    await approve_compliance(PgUnitOfWork(engine), tenant.id)
    item = await create_item(
        PgUnitOfWork(engine),
        Principal(OWNER, tenant.id),
        NewItem("Water heater flush", 18_900, 60, aliases=("water heater", "leak")),
    )
    await engine.dispose()
    return tenant.id, item.id


def fill(database_url: str, tenant_id: uuid.UUID, item_id: uuid.UUID) -> None:
    """Technicians on Mon-Sat 07:00-19:00, a 60-day horizon, and 10,000 appointments: one
    every 12 hours per technician from ~200 days ago into the coming weeks."""
    per_tech = APPOINTMENTS // TECHNICIANS
    first = datetime.now(ZONE).replace(minute=0, second=0, microsecond=0) - timedelta(
        hours=12 * per_tech - 24 * 50
    )
    hours = [[day, 420, 1140] for day in range(6)]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO business_hours (tenant_id, periods) VALUES (%s, %s::jsonb)",
            [tenant_id, json.dumps(hours)],
        )
        conn.execute(
            "INSERT INTO scheduling_settings (tenant_id, horizon_days) VALUES (%s, 60)",
            [tenant_id],
        )
        for n in range(TECHNICIANS):
            tech = uuid.uuid4()
            conn.execute(
                "INSERT INTO technicians (tenant_id, id, name) VALUES (%s, %s, %s)",
                [tenant_id, tech, f"Technician {n:02d}"],
            )
            conn.execute(
                """
                INSERT INTO bookings (tenant_id, id, technician_id, item_id, contact_phone,
                    start_at, end_at, blocked_until, status, active, price_cents, currency)
                SELECT %(tenant)s, gen_random_uuid(), %(tech)s, %(item)s, '+15555550100',
                    s, s + interval '60 minutes', s + interval '60 minutes', 'booked', true,
                    18900, 'USD'
                FROM (SELECT %(first)s::timestamptz + (k * interval '12 hours')
                        + ((k %% 4) * interval '1 hour') AS s
                      FROM generate_series(0, %(count)s - 1) AS k) AS slots
                """,
                {"tenant": tenant_id, "tech": tech, "item": item_id, "first": first,
                 "count": per_tech},
            )  # fmt: skip
        conn.execute("ANALYZE")


async def fire(
    base_url: str, count: int, rate: float, first: int = 0
) -> tuple[dict[str, int], int]:
    """Send one job description per new caller on schedule; caller -> send time (ns), errors."""
    signer = TwilioSignature(TOKEN)
    prepared = []
    for i in range(first, first + count):
        caller = f"+1555{i:07d}"
        params = {
            "AccountSid": SID,
            "ApiVersion": "2010-04-01",
            "Body": "Hi, my water heater is leaking",
            "From": caller,
            "MessageSid": "SM" + uuid.uuid4().hex,
            "NumMedia": "0",
            "To": NUMBER,
        }
        signature = signer.compute(base_url + PATH, list(params.items()))
        prepared.append(
            (caller, render_post(base_url + PATH, params, {"X-Twilio-Signature": signature}))
        )
    sent: dict[str, int] = {}
    errors = 0
    pool = Pool(base_url)

    async def one(caller: str, request: bytes) -> None:
        nonlocal errors
        sent[caller] = time.time_ns()
        try:
            status = await pool.send(request)
        except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
            errors += 1
            print(f"webhook for {caller} failed: {exc!r}", file=sys.stderr)
            return
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
    return sent, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=20.0, help="conversations per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--warmup", type=int, default=40, help="conversations not measured")
    parser.add_argument("--database-url", default=os.environ.get("NMC_BENCH_DATABASE_URL"))
    parser.add_argument("--grace", type=float, default=20.0, help="seconds to wait for stragglers")
    parser.add_argument(
        "--api-workers", type=int, default=1, help="API processes (nmc api --workers)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    count = int(args.rate * args.duration)

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
        tenant_id, item_id = asyncio.run(setup(database_url))
        fill(database_url, tenant_id, item_id)
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
                NMC_LOG_LEVEL="warning",
            )
            api = ["-m", "nmc_api", "--port", str(port), "--workers", str(args.api_workers)]
            procs.append(start(api, env, home / "api.log"))
            procs.append(start(["-m", "nmc_worker"], env, home / "worker.log"))
            wait_ready(base_url)
            time.sleep(1.0)  # let the worker LISTEN
            if args.warmup:
                asyncio.run(fire(base_url, args.warmup, 10.0, first=9_000_000))
                time.sleep(2.0)
            cpu_before = [tree_cpu_seconds(p.pid) for p in procs]
            busy_before = machine_busy_seconds()
            began = time.perf_counter()
            sent, errors = asyncio.run(fire(base_url, count, args.rate))
            elapsed = time.perf_counter() - began

            def offers_to(caller: str) -> list[int]:
                return [
                    m.received_ns for m in fake.messages if m.to == caller and "Reply 1" in m.body
                ]

            deadline = time.monotonic() + args.grace
            while time.monotonic() < deadline and not all(offers_to(c) for c in sent):
                time.sleep(0.2)
            cpu_used = [tree_cpu_seconds(p.pid) - b for p, b in zip(procs, cpu_before, strict=True)]
            busy = machine_busy_seconds() - busy_before
            window = time.perf_counter() - began
            received = {c: offers_to(c) for c in sent}
            other = sum(1 for m in fake.messages if m.to in sent and "Reply 1" not in m.body)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
        print(f"(process logs in {home})", file=sys.stderr)
        if cluster is not None:
            cluster.destroy()

    latencies = [(min(r) - sent[c]) / 1e6 for c, r in received.items() if r]
    report = {
        "conversations": count,
        "rate_per_s": args.rate,
        "achieved_rate_per_s": round(count / elapsed, 1),
        "offer_ms": {
            "p50": round(percentile(latencies, 50), 2),
            "p95": round(percentile(latencies, 95), 2),
            "p99": round(percentile(latencies, 99), 2),
            "max": round(max(latencies), 2),
        }
        if latencies
        else None,
        "without_offer": sum(1 for r in received.values() if not r),
        "other_replies": other,
        "webhook_errors": errors,
        "api_workers": args.api_workers,
        "cpu_ms_per_conversation": {
            "api": round(cpu_used[0] * 1000 / count, 2),
            "worker": round(cpu_used[1] * 1000 / count, 2),
        },
        "machine_busy_pct": round(100 * busy / window / (os.cpu_count() or 1), 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "calendar": {"technicians": TECHNICIANS, "appointments": APPOINTMENTS},
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"assistant's first offer, {count} conversations at {args.rate}/s")
    for key, value in report.items():
        print(f"  {key:24} {value}")


if __name__ == "__main__":
    main()
