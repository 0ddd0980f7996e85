"""`nmc dev`: PostgreSQL under .nmc/, migrations, a demo tenant, API and worker, one Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from types import FrameType
from uuid import UUID

import httpx
import typer

from nmc_cli.bootstrap import (
    JWT_KEY_SOURCES,
    dev_postgres,
    migrate_up,
    new_secret_key,
    phone_parser,
    start_postgres,
    web_login_link,
    with_uow,
)
from nmc_cli.devstate import DEV_HOME, DevState
from nmc_cli.output import reported
from nmc_cli.web import login_url
from nmc_domain.catalog.model import name_key
from nmc_domain.catalog.use_cases import NewItem, create_item, list_items
from nmc_domain.compliance.gate import approve_compliance
from nmc_domain.identity.model import Principal
from nmc_domain.scheduling.setup import (
    add_technician,
    get_business_hours,
    list_technicians,
    set_business_hours,
)
from nmc_domain.shared.pages import PageKey
from nmc_domain.tenancy.onboarding import OnboardTenant, onboard_tenant
from nmc_domain.tenancy.profile import find_tenant
from nmc_domain.unit_of_work import UnitOfWorkFactory

__all__ = ["DEMO", "DEV_AUTH_TOKEN", "dev", "ensure_demo_setup"]

DEV_AUTH_TOKEN = "nmc-dev-auth-token"  # noqa: S105 - public on purpose: dev only, no real Twilio
DEV_ACCOUNT_SID = "AC" + "de" * 16
DEV_JWT_SECRET = "nmc-dev-jwt-secret-for-local-use-only"  # noqa: S105 - public on purpose
DEV_LINK_TTL = timedelta(hours=1)
DEMO = OnboardTenant(
    name="Demo Plumbing",
    number="+15005550006",
    forward_to="+15005550001",
    timezone="America/New_York",
    owner_email="owner@demo-plumbing.example",
)


async def _ensure_demo_tenant(new_uow: UnitOfWorkFactory) -> tuple[str, UUID]:
    number = phone_parser().parse(DEMO.number, field="number")
    tenant = await find_tenant(new_uow(), number)
    if tenant is None:
        tenant = (await onboard_tenant(new_uow(), phone_parser(), DEMO)).tenant
    await approve_compliance(new_uow(), tenant.id)  # approving twice changes nothing
    await ensure_demo_setup(new_uow, Principal(DEMO.owner_email, tenant.id))
    return number, tenant.id


# What the assistant needs to quote and book: a catalog, someone to send, opening hours.
DEMO_ITEMS = (
    NewItem(
        name="Water heater flush",
        price_cents=18_900,
        duration_minutes=90,
        aliases=("water heater", "hot water", "leak", "leaking", "tank flush"),
    ),
    NewItem(
        name="Drain cleaning",
        price_cents=14_900,
        duration_minutes=60,
        aliases=("drain", "clog", "clogged", "slow drain", "backed up"),
    ),
)
DEMO_TECHNICIAN = "Sam Rivera"
DEMO_HOURS = (
    *((day, "08:00", "17:00") for day in ("mon", "tue", "wed", "thu", "fri")),
    ("sat", "09:00", "13:00"),
)


async def ensure_demo_setup(new_uow: UnitOfWorkFactory, owner: Principal) -> None:
    """Add what is missing (by item name; any technician, any hours will do): the owner's own
    changes survive a restart."""
    have: set[str] = set()
    after: PageKey | None = None
    while True:
        page = await list_items(new_uow(), owner, after, 200)
        have |= {name_key(item.name) for item in page.items}
        if page.next_after is None:
            break
        after = page.next_after
    for item in DEMO_ITEMS:
        if name_key(item.name) not in have:
            await create_item(new_uow(), owner, item)
    if not (await list_technicians(new_uow(), owner, None, 1)).items:
        await add_technician(new_uow(), owner, name=DEMO_TECHNICIAN)
    if not (await get_business_hours(new_uow(), owner)).periods:
        await set_business_hours(new_uow(), owner, DEMO_HOURS)


def _child_env(database_url: str, base_url: str) -> tuple[dict[str, str], str, str]:
    env = dict(os.environ, NMC_DATABASE_URL=database_url, NMC_LOG_FORMAT="console")
    env.setdefault("NMC_PUBLIC_BASE_URL", base_url)
    if not (env.get("NMC_TWILIO_ACCOUNT_SID") and env.get("NMC_TWILIO_AUTH_TOKEN")):
        # No Twilio credentials: sign with the dev token and print SMS instead of sending.
        env.update(
            NMC_TWILIO_ACCOUNT_SID=DEV_ACCOUNT_SID,
            NMC_TWILIO_AUTH_TOKEN=DEV_AUTH_TOKEN,
            NMC_SMS_CONSOLE="1",
        )
    if not any(env.get(name) for name in JWT_KEY_SOURCES):
        env["NMC_JWT_SECRET"] = DEV_JWT_SECRET  # so `nmc token mint` works against nmc dev
    if not env.get("NMC_SECRET_KEY"):
        env["NMC_SECRET_KEY"] = _dev_secret_key()  # the web inbox's login links and sessions
    return env, env["NMC_TWILIO_ACCOUNT_SID"], env["NMC_TWILIO_AUTH_TOKEN"]


def _dev_secret_key() -> str:
    """The key this folder's `nmc dev` made once (kept in .nmc/, readable by its owner only)."""
    path = DEV_HOME / "secret_key"
    try:
        return path.read_text().strip()
    except OSError:
        DEV_HOME.mkdir(exist_ok=True)
        key = new_secret_key()
        path.touch(mode=0o600)
        path.write_text(key + "\n")
        return key


def _wait_healthy(base_url: str, children: list[subprocess.Popen[bytes]]) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and all(c.poll() is None for c in children):
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def dev(
    port: int = typer.Option(8000, "--port", help="API port"),
    host: str = typer.Option("127.0.0.1", "--host", help="API interface"),
) -> None:
    """Run NMC locally: embedded PostgreSQL, migrations, demo tenant, API and worker."""
    signal.signal(signal.SIGTERM, _interrupt)
    cluster = dev_postgres(DEV_HOME / "pg")
    children: list[subprocess.Popen[bytes]] = []
    code = 0
    try:
        with reported():
            print("nmc dev: starting PostgreSQL under .nmc/ …", flush=True)
            url = start_postgres(cluster, "nmc")
            migrate_up(url, "head")
            demo_number, demo_tenant = asyncio.run(with_uow(url, _ensure_demo_tenant))
        base_url = f"http://127.0.0.1:{port}"
        env, sid, token = _child_env(url, base_url)
        dev_token = token if token == DEV_AUTH_TOKEN else None
        dev_jwt = DEV_JWT_SECRET if env.get("NMC_JWT_SECRET") == DEV_JWT_SECRET else None
        own_key = None if os.environ.get("NMC_SECRET_KEY") else env["NMC_SECRET_KEY"]
        DevState(url, base_url, sid, dev_token, demo_number, dev_jwt, own_key).save()
        api = [sys.executable, "-m", "nmc_api", "--host", host, "--port", str(port)]
        children = [
            subprocess.Popen(api, env=env),
            subprocess.Popen([sys.executable, "-m", "nmc_worker"], env=env),
        ]
        if _wait_healthy(base_url, children):
            console = env.get("NMC_SMS_CONSOLE") == "1"
            link = asyncio.run(
                web_login_link(
                    url, env["NMC_SECRET_KEY"], demo_tenant, DEMO.owner_email, DEV_LINK_TTL
                )
            )
            inbox = login_url(base_url, link.token)
            print(_banner(base_url, demo_number, demo_tenant, console, inbox), flush=True)
        while all(c.poll() is None for c in children):
            time.sleep(0.2)
        print("nmc dev: a process stopped; shutting down", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print("\nnmc dev: stopping …", flush=True)
    finally:
        # A second Ctrl-C (`uv run` forwards the terminal's SIGINT, so one press arrives twice)
        # must not cut the cleanup short and leave PostgreSQL running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _stop(children)
        cluster.stop()
    print("nmc dev: stopped", flush=True)
    raise typer.Exit(code)


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()


def _banner(base_url: str, demo_number: str, demo_tenant: UUID, console: bool, inbox: str) -> str:
    sms = "printed here (no Twilio credentials set)" if console else "sent through Twilio"
    return (
        f"\nnmc dev: NeverMissCall is up at {base_url}  (Ctrl-C stops everything)\n"
        f"  The owner's inbox (a one-time link, for an hour; more: nmc web login-link):\n"
        f"    {inbox}\n"
        f"  demo tenant 'Demo Plumbing' answers {demo_number}; its SMS are {sms}.\n"
        f"  Be the customer from another terminal (a missed call, then type your texts):\n"
        f"    uv run nmc chat --from +14155550123\n"
        f"  or just a missed call:\n"
        f"    uv run nmc simulate missed-call --from +14155550123\n"
        f"  The tenant API as its owner:\n"
        f"    uv run nmc token mint {demo_tenant} {DEMO.owner_email}\n"
    )
