"""Work lost to concurrent work is run again (three attempts), then a 409: real PostgreSQL."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.logs import configure_logging
from nmc_adapters.postgres import PgUnitOfWork, libpq_url
from nmc_adapters.postgres.catalog.tables import catalog_items
from nmc_adapters.postgres.shared.tables import outbox_events, webhook_events
from nmc_adapters.postgres.telephony.tables import calls
from nmc_api.app import create_app
from nmc_api.bootstrap import build_deps
from nmc_domain.shared.errors import TryAgain
from tests.support.api import Caller, api_settings, catalog_events, new_tenant, problem
from tests.support.tenants import caller_number, onboard
from tests.support.twilio import PUBLIC_BASE_URL, call_sid, dial_action, sign

ITEMS = "/v1/catalog/items"
DIAL = "/webhooks/twilio/voice/dial-status"
FLUSH = {"name": "Water Heater Flush", "price_cents": 18_900, "duration_minutes": 90}


class LosingCommits:
    """A unit-of-work factory whose first `losses` commits lose to concurrent work.

    Like a serialization failure at COMMIT: the commit raises TryAgain instead of committing,
    and the real PgUnitOfWork underneath rolls its transaction back on the way out.
    """

    def __init__(self, engine: AsyncEngine, losses: int) -> None:
        self.engine = engine
        self.losses = losses
        self.commits = 0

    def __call__(self) -> Any:
        return _Losing(PgUnitOfWork(self.engine), self)


class _Losing:
    def __init__(self, real: PgUnitOfWork, factory: LosingCommits) -> None:
        self._real = real
        self._factory = factory

    async def __aenter__(self) -> _Losing:
        await self._real.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._real.__aexit__(*exc)

    async def commit(self) -> None:
        self._factory.commits += 1
        if self._factory.commits <= self._factory.losses:
            raise TryAgain("could not serialize access due to concurrent update (simulated)")
        await self._real.commit()

    def __getattr__(self, name: str) -> Any:  # the repositories, now(), bind_tenant()
        return getattr(self._real, name)


@pytest.fixture
def new_uow(engine: AsyncEngine):
    return lambda: PgUnitOfWork(engine)


async def app_losing(database_url: str, losing: LosingCommits) -> AsyncIterator[AsyncTestClient]:
    app = create_app(build_deps(api_settings(database_url), new_uow=losing))
    async with AsyncTestClient(app, base_url="http://10.0.0.7:8000") as client:
        yield client


async def count(admin_engine: AsyncEngine, table: Any, *where: Any) -> int:
    async with admin_engine.connect() as conn:
        query = select(func.count()).select_from(table).where(*where)
        return (await conn.execute(query)).scalar_one()


@pytest.mark.parametrize("losses", [0, 1, 2])
async def test_a_create_that_loses_twice_is_run_again_and_stored_once(
    database_url, engine, admin_engine, new_uow, losses
) -> None:
    losing = LosingCommits(engine, losses)
    async for client in app_losing(database_url, losing):
        tenant, owner = await new_tenant(client, new_uow)
        response = await Caller(client, owner.token).post(ITEMS, FLUSH)

    assert response.status_code == 201, response.text
    assert response.json()["name"] == FLUSH["name"]
    assert losing.commits == losses + 1
    items = catalog_items.c
    assert await count(admin_engine, catalog_items, items.tenant_id == tenant.id) == 1
    assert len(await catalog_events(admin_engine, tenant.id)) == 1


@pytest.mark.parametrize("losses", [3, 4])
async def test_a_create_that_loses_three_times_is_a_409_and_nothing_is_stored(
    database_url, engine, admin_engine, new_uow, losses
) -> None:
    losing = LosingCommits(engine, losses)
    async for client in app_losing(database_url, losing):
        tenant, owner = await new_tenant(client, new_uow)
        response = await Caller(client, owner.token).post(ITEMS, FLUSH)

    body = problem(response, 409)
    assert response.headers["retry-after"] == "1"
    assert "try again" in body["detail"]
    assert "serialize" not in response.text
    assert losing.commits == 3  # three attempts in all
    items = catalog_items.c
    assert await count(admin_engine, catalog_items, items.tenant_id == tenant.id) == 0
    assert await catalog_events(admin_engine, tenant.id) == []


@pytest.mark.parametrize(("losses", "status"), [(2, 200), (3, 409)])
async def test_a_missed_call_lost_to_contention_is_recorded_once_or_not_at_all(
    database_url, engine, admin_engine, new_uow, losses, status
) -> None:
    tenant, number = await onboard(new_uow)
    sid = call_sid()
    params = dial_action(number, caller_number(), sid)
    headers = {"X-Twilio-Signature": sign(PUBLIC_BASE_URL + DIAL, params)}
    text_backs = (
        outbox_events.c.tenant_id == tenant.id,
        outbox_events.c.topic == "message.queued.v1",
    )

    losing = LosingCommits(engine, losses)
    async for client in app_losing(database_url, losing):
        response = await client.post(DIAL, data=params, headers=headers)

    assert response.status_code == status, response.text
    stored = 1 if status == 200 else 0
    assert await count(admin_engine, webhook_events, webhook_events.c.event_key == sid) == stored
    assert await count(admin_engine, calls, calls.c.tenant_id == tenant.id) == stored
    assert await count(admin_engine, outbox_events, *text_backs) == stored
    assert losing.commits == 3


async def test_a_request_lost_once_keeps_one_request_id(database_url, engine, new_uow) -> None:
    losing = LosingCommits(engine, 1)
    async for client in app_losing(database_url, losing):
        _, owner = await new_tenant(client, new_uow)
        response = await client.post(
            ITEMS, json=FLUSH, headers={**owner.headers, "X-Request-ID": "retry-me-1"}
        )

    assert response.status_code == 201
    assert response.headers.get_list("x-request-id") == ["retry-me-1"]
    assert uuid.UUID(response.json()["id"])


# A real lock wait: PostgreSQL itself says the work lost (lock_timeout, SQLSTATE 55P03), and the
# unit of work turns that into TryAgain. The app's sessions give up on a lock after 100 ms.


def impatient(database_url: str) -> str:
    url = make_url(database_url).update_query_dict({"options": "-c lock_timeout=100"})
    return libpq_url(url.render_as_string(hide_password=False))


class ReleaseOnFirstLoss(io.StringIO):
    """The log stream: when the app first logs a loss, the blocking transaction rolls back."""

    def __init__(self, blocker: psycopg.Connection[Any] | None) -> None:
        super().__init__()
        self.blocker = blocker

    def write(self, text: str) -> int:
        if self.blocker is not None and "api.lost_to_contention" in text:
            self.blocker.rollback()  # (in the app's thread: the next attempt finds it free)
            self.blocker = None
        return super().write(text)


def events(buffer: io.StringIO, name: str) -> list[dict[str, Any]]:
    lines = [json.loads(x) for x in buffer.getvalue().splitlines() if x.startswith("{")]
    return [line for line in lines if line["event"] == name]


@pytest.mark.parametrize("released", [True, False], ids=["released-after-a-loss", "held"])
async def test_a_real_lock_timeout_is_tried_again(
    database_url, admin_engine, new_uow, released
) -> None:
    with psycopg.connect(libpq_url(database_url)) as blocker:
        logs = ReleaseOnFirstLoss(blocker if released else None)
        configure_logging("json", "info", stream=logs)
        app = create_app(build_deps(api_settings(impatient(database_url))))
        async with AsyncTestClient(app, base_url="http://10.0.0.7:8000") as client:
            tenant, owner = await new_tenant(client, new_uow)
            blocker.execute("LOCK TABLE catalog_items IN ACCESS EXCLUSIVE MODE")
            response = await owner.post(ITEMS, FLUSH)
        blocker.rollback()

    losses = events(logs, "api.lost_to_contention")
    items = await count(admin_engine, catalog_items, catalog_items.c.tenant_id == tenant.id)
    if released:
        assert response.status_code == 201, response.text
        assert (len(losses), items) == (1, 1)
    else:
        assert problem(response, 409)
        assert (len(losses), items) == (3, 0)
    assert "LockNotAvailable" in losses[0]["error"]
    assert len(events(logs, "api.retrying")) == len(losses) - (0 if released else 1)
