"""Slot search and racing holds, through the real API process on PostgreSQL.

A tenant with 20 technicians on split-shift hours, 100,000 appointments and 5,000 busy blocks
in the tables (spread over ~4.5 years, so a 14-day window holds a realistic few hundred);
then:
  1. availability for a 14-day window (3 slots), requests one after another: p50/p95/p99;
  2. rounds of 32 concurrent holds on one slot: winners per round, p50/p95/p99 latency;
  3. the plan of the window's bookings query (it must use the GiST index).

    uv run python bench/slot_search.py --requests 1000 --rounds 20
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

import httpx
import psycopg

from nmc_adapters.auth import mint_token
from nmc_adapters.phone import LibPhoneNumbers
from nmc_adapters.postgres import EmbeddedPostgres, PgUnitOfWork, create_engine
from nmc_adapters.postgres.migrate import upgrade
from nmc_domain.catalog.use_cases import NewItem, create_item
from nmc_domain.identity.model import Principal
from nmc_domain.tenancy.onboarding import OnboardTenant, onboard_tenant

JWT_SECRET = "bench-jwt-secret-of-at-least-32-bytes"
ZONE = ZoneInfo("America/Chicago")
OWNER = "owner@bench-plumbing.example"
TECHNICIANS = 20
APPOINTMENTS = 100_000
BUSY_BLOCKS = 5_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def figures(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50), 2),
        "p95_ms": round(percentile(values, 95), 2),
        "p99_ms": round(percentile(values, 99), 2),
        "max_ms": round(max(values), 2),
    }


async def setup(database_url: str) -> tuple[uuid.UUID, uuid.UUID]:
    """The tenant (through the use cases) and its item; returns (tenant id, item id)."""
    engine = create_engine(database_url, pool_size=2)
    command = OnboardTenant(
        "Bench Plumbing", "+15005550006", "+15005550001", "America/Chicago", OWNER
    )
    tenant = (await onboard_tenant(PgUnitOfWork(engine), LibPhoneNumbers(), command)).tenant
    principal = Principal(OWNER, tenant.id)
    item = await create_item(
        PgUnitOfWork(engine), principal, NewItem("Water heater flush", 18_900, 90)
    )
    await engine.dispose()
    return tenant.id, item.id


def fill(database_url: str, tenant_id: uuid.UUID, item_id: uuid.UUID) -> list[uuid.UUID]:
    """Technicians, hours, and the bulk of appointments and busy blocks, straight in SQL."""
    techs = [uuid.uuid4() for _ in range(TECHNICIANS)]
    per_tech = APPOINTMENTS // TECHNICIANS
    blocks_per_tech = BUSY_BLOCKS // TECHNICIANS
    # Every 8 hours per technician (a 90-minute job never meets the next): 5,000 of them
    # span ~4.6 years, ending ~2 months from now.
    first = datetime.now(ZONE).replace(minute=0, second=0, microsecond=0) - timedelta(
        hours=8 * per_tech - 24 * 60
    )
    hours = [[day, start, end] for day in range(5) for start, end in ((480, 720), (780, 1020))]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO business_hours (tenant_id, periods) VALUES (%s, %s::jsonb)",
            [tenant_id, json.dumps(hours)],
        )
        for n, tech in enumerate(techs):
            conn.execute(
                "INSERT INTO technicians (tenant_id, id, name) VALUES (%s, %s, %s)",
                [tenant_id, tech, f"Technician {n:02d}"],
            )
            conn.execute(
                """
                INSERT INTO bookings (tenant_id, id, technician_id, item_id, contact_phone,
                    start_at, end_at, blocked_until, status, active, price_cents, currency)
                SELECT %(tenant)s, gen_random_uuid(), %(tech)s, %(item)s, '+15555550100',
                    s, s + interval '90 minutes', s + interval '90 minutes', 'booked', true,
                    18900, 'USD'
                FROM (SELECT %(first)s::timestamptz + (k * interval '8 hours')
                        + ((k %% 3) * interval '30 minutes') AS s
                      FROM generate_series(0, %(count)s - 1) AS k) AS slots
                """,
                {
                    "tenant": tenant_id,
                    "tech": tech,
                    "item": item_id,
                    "first": first,
                    "count": per_tech,
                },
            )
            conn.execute(
                """
                INSERT INTO busy_blocks (tenant_id, id, technician_id, start_at, end_at)
                SELECT %(tenant)s, gen_random_uuid(), %(tech)s, s, s + interval '2 hours'
                FROM (SELECT %(first)s::timestamptz + (k * interval '7 days')
                        + interval '4 hours' AS s
                      FROM generate_series(0, %(count)s - 1) AS k) AS slots
                """,
                {"tenant": tenant_id, "tech": tech, "first": first, "count": blocks_per_tech},
            )
        conn.execute("ANALYZE")
    return techs


def plans(database_url: str, tenant_id: uuid.UUID, technician_id: uuid.UUID) -> dict[str, str]:
    """EXPLAIN ANALYZE of the two hot queries, as the app runs them (app role, RLS on): the
    window read, and the claim's release of expired holds in its way (the statement before the
    insert that the exclusion constraint guards)."""
    now = datetime.now(ZONE)
    params = {
        "tenant_id": tenant_id,
        "technician_id": technician_id,
        "start": now,
        "end": now + timedelta(days=16),
    }
    queries = {
        "window read": "SELECT * FROM bookings WHERE tenant_id = %(tenant_id)s::uuid AND active "
        "AND start_at >= %(start)s::timestamptz - interval '2 days' "
        "AND start_at < %(end)s::timestamptz AND blocked_until > %(start)s::timestamptz",
        "claim: release expired holds": "UPDATE bookings SET status = 'expired', active = false "
        "WHERE tenant_id = %(tenant_id)s::uuid AND technician_id = %(technician_id)s::uuid "
        "AND active AND status = 'held' AND expires_at <= now() "
        "AND during && tstzrange(%(start)s::timestamptz, %(end)s::timestamptz, '[)')",
    }
    found = {}
    with psycopg.connect(database_url) as conn:
        conn.execute("SET ROLE nmc_app")
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
        for name, query in queries.items():
            rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + query, params)
            found[name] = "\n".join(row[0] for row in rows.fetchall())
        conn.rollback()
    return found


async def availability(base: str, token: str, item_id: uuid.UUID, requests: int) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    now = datetime.now(ZONE)
    params = {
        "item_id": str(item_id),
        "from": now.isoformat(),
        "to": (now + timedelta(days=14)).isoformat(),
        "limit": "3",
    }
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, headers=headers) as client:
        for _ in range(50):  # warm-up: pools, prepared statements
            (await client.get("/v1/availability", params=params)).raise_for_status()
        for _ in range(requests):
            started = time.perf_counter()
            response = await client.get("/v1/availability", params=params)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200 or len(response.json()["slots"]) != 3:
                raise SystemExit(f"unexpected answer: {response.status_code} {response.text}")
    return latencies


async def racing_holds(
    base: str, token: str, item_id: uuid.UUID, techs: list[uuid.UUID], rounds: int
) -> tuple[list[int], list[float], int]:
    headers = {"Authorization": f"Bearer {token}"}
    winners: list[int] = []
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as client:
        for n in range(rounds):
            # Each round its own slot: a technician's free slot found through the API itself.
            tech = techs[n % len(techs)]
            now = datetime.now(ZONE)
            params = {
                "item_id": str(item_id),
                "technician_id": str(tech),
                "from": (now + timedelta(days=1 + n // len(techs))).isoformat(),
                "to": (now + timedelta(days=13)).isoformat(),
                "limit": "1",
            }
            slot = (await client.get("/v1/availability", params=params)).json()["slots"][0]
            body = {
                "item_id": str(item_id),
                "technician_id": str(tech),
                "start": slot["start"],
                "contact_phone": "+14155550123",
            }

            async def one(body: dict[str, str] = body) -> int:
                started = time.perf_counter()
                response = await client.post("/v1/holds", json=body)
                latencies.append((time.perf_counter() - started) * 1000)
                return response.status_code

            codes = await asyncio.gather(*(one() for _ in range(32)))
            winners.append(codes.count(201))
            errors += sum(code not in (201, 409) for code in codes)
    return winners, latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="availability requests")
    parser.add_argument("--rounds", type=int, default=20, help="rounds of 32 racing holds")
    parser.add_argument("--database-url", default=os.environ.get("NMC_BENCH_DATABASE_URL"))
    parser.add_argument(
        "--api-workers", type=int, default=1, help="API processes (nmc api --workers)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="nmc-bench-"))
    cluster = None
    if args.database_url:
        database_url = args.database_url
    else:
        cluster = EmbeddedPostgres(home / "pg")
        cluster.start()
        database_url = cluster.create_database("bench")
    api = None
    try:
        upgrade(database_url)
        tenant_id, item_id = asyncio.run(setup(database_url))
        began = time.perf_counter()
        techs = fill(database_url, tenant_id, item_id)
        filled = time.perf_counter() - began
        port = 18000 + os.getpid() % 1000
        base = f"http://127.0.0.1:{port}"
        env = dict(
            os.environ,
            NMC_DATABASE_URL=database_url,
            NMC_PUBLIC_BASE_URL=base,
            NMC_TWILIO_AUTH_TOKEN="bench-auth-token",
            NMC_JWT_SECRET=JWT_SECRET,
            NMC_LOG_LEVEL="warning",
        )
        api = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nmc_api",
                "--port",
                str(port),
                "--workers",
                str(args.api_workers),
            ],
            env=env,
            stdout=(home / "api.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("API did not become ready")
            time.sleep(0.1)
        token = mint_token(
            JWT_SECRET,
            issuer="nevermisscall",
            audience="nmc-api",
            subject=OWNER,
            tenant_id=tenant_id,
            ttl_seconds=3600,
        )
        search = asyncio.run(availability(base, token, item_id, args.requests))
        winners, holds, errors = asyncio.run(racing_holds(base, token, item_id, techs, args.rounds))
        explained = plans(database_url, tenant_id, techs[0])
    finally:
        if api is not None:
            api.terminate()
            api.wait(15)
        if cluster is not None:
            cluster.destroy()
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "data": {
            "technicians": TECHNICIANS,
            "appointments": APPOINTMENTS,
            "busy_blocks": BUSY_BLOCKS,
            "fill_seconds": round(filled, 1),
        },
        "availability_14_days": figures(search),
        "racing_holds": {
            "rounds": len(winners),
            "winners_per_round": sorted(set(winners)),
            "unexpected_statuses": errors,
            **figures(holds),
        },
        "window_read_uses_btree": "bookings_by_start" in explained["window read"],
        "claim_uses_gist": "bookings_no_overlap" in explained["claim: release expired holds"],
    }
    if args.json:
        print(json.dumps(result))
        return
    print(json.dumps(result, indent=2))
    for name, text in explained.items():
        print(f"\nplan, {name}:\n{text}")


if __name__ == "__main__":
    main()
