"""GET /metrics of the real API (bootstrap, PostgreSQL): request timings by route template,
webhook outcomes, and the outbox gauges read from the database at each scrape."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_api.bootstrap import build_app
from tests.support.api import api_client, api_settings, new_tenant
from tests.support.tenants import caller_number, onboard
from tests.support.twilio import PUBLIC_BASE_URL, call_sid, sign, status_callback

STATUS = "/webhooks/twilio/voice/status"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


async def scrape(client: AsyncTestClient) -> tuple[httpx.Response, Samples]:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    return response, samples


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[AsyncTestClient]:
    """A fresh app per test, so its counters start at zero."""
    async with api_client(api_settings(database_url)) as client:
        yield client


@pytest.fixture
def new_uow(engine: AsyncEngine):
    return lambda: PgUnitOfWork(engine)


async def post_signed(client: AsyncTestClient, path: str, params: dict[str, str], signature: str):
    return await client.post(path, data=params, headers={"X-Twilio-Signature": signature})


async def test_metrics_is_prometheus_text(client) -> None:
    response, _ = await scrape(client)

    assert response.headers["content-type"].startswith("text/plain; version=")
    assert response.headers["content-type"].count("charset") == 1
    assert "# TYPE nmc_http_request_duration_seconds histogram" in response.text


async def test_webhooks_are_counted_by_route_template_and_outcome(client, new_uow) -> None:
    _, number = await onboard(new_uow)
    caller = caller_number()
    missed = status_callback(number, caller, call_sid())
    forged = status_callback(number, caller, call_sid())
    empty: dict[str, str] = {}

    ok = await post_signed(client, STATUS, missed, sign(PUBLIC_BASE_URL + STATUS, missed))
    rejected = await post_signed(client, STATUS, forged, "bm90LWEtc2lnbmF0dXJl")
    invalid = await post_signed(client, STATUS, empty, sign(PUBLIC_BASE_URL + STATUS, empty))
    response, samples = await scrape(client)

    assert (ok.status_code, rejected.status_code, invalid.status_code) == (200, 401, 400)
    webhooks = "nmc_webhook_requests_total"
    assert samples[key(webhooks, route=STATUS, outcome="ok")] == 1
    assert samples[key(webhooks, route=STATUS, outcome="rejected")] == 1
    assert samples[key(webhooks, route=STATUS, outcome="invalid")] == 1
    assert samples[key("nmc_http_request_duration_seconds_count", route=STATUS)] == 3
    assert number not in response.text
    assert caller not in response.text


async def test_routes_are_labelled_by_template_never_by_path(client, new_uow) -> None:
    _, owner = await new_tenant(client, new_uow)
    conversation = uuid.uuid4()

    missing = await owner.get(f"/v1/conversations/{conversation}")
    nowhere = await client.get("/wp-admin/+14155550123")
    response, samples = await scrape(client)

    assert (missing.status_code, nowhere.status_code) == (404, 404)
    count = "nmc_http_request_duration_seconds_count"
    assert samples[key(count, route="/v1/conversations/{conversation_id}")] == 1
    assert samples[key(count, route="unmatched")] == 1
    assert str(conversation) not in response.text
    assert "+14155550123" not in response.text
    assert "wp-admin" not in response.text
    # Only webhooks are counted as webhooks.
    assert not [name for name, _ in samples if name == "nmc_webhook_requests_total"]


async def test_the_scrape_itself_is_timed_at_the_next_one(client) -> None:
    await scrape(client)

    _, samples = await scrape(client)

    assert samples[key("nmc_http_request_duration_seconds_count", route="/metrics")] == 1


async def _has_review_column(admin_engine: AsyncEngine) -> bool:
    async with admin_engine.connect() as conn:
        query = text(
            "SELECT 1 FROM information_schema.columns "
            "WHERE table_name = 'outbox_events' AND column_name = 'needs_review_at'"
        )
        return (await conn.execute(query)).first() is not None


async def _insert(admin_engine: AsyncEngine, topic: str, *, due: str, **finished: str) -> None:
    """One outbox row of `topic`, created and due at `due` (SQL), optionally finished."""
    columns = ", ".join(["topic", "payload", "schema_version", "created_at", "available_at"])
    values = f"'{topic}', '{{}}'::jsonb, 1, {due}, {due}"
    for column, value in finished.items():
        columns, values = f"{columns}, {column}", f"{values}, {value}"
    async with admin_engine.begin() as conn:
        await conn.execute(text(f"INSERT INTO outbox_events ({columns}) VALUES ({values})"))


async def test_outbox_gauges_read_the_database_at_each_scrape(client, admin_engine) -> None:
    async with admin_engine.begin() as conn:
        await conn.execute(text("DELETE FROM outbox_events"))
    ago = "now() - interval '90 seconds'"
    await _insert(admin_engine, "catalog.updated.v1", due=ago)
    await _insert(admin_engine, "catalog.updated.v1", due="now() - interval '5 seconds'")
    await _insert(
        admin_engine, "catalog.updated.v1", due="now() - interval '1 hour'", dispatched_at="now()"
    )
    await _insert(
        admin_engine, "message.queued.v1", due="now() - interval '2 hours'", dead_at="now()"
    )
    # A timer set for tomorrow is pending, but not late: it does not age the backlog.
    await _insert(admin_engine, "conversation.idle_check.v1", due="now() + interval '1 day'")

    _, first = await scrape(client)
    await _insert(admin_engine, "message.queued.v1", due="now()")
    _, second = await scrape(client)

    pending = "nmc_outbox_pending"
    assert first[key(pending, topic="catalog.updated.v1")] == 2
    assert first[key(pending, topic="message.queued.v1")] == 0
    assert first[key(pending, topic="conversation.idle_check.v1")] == 1
    assert first[key(pending, topic="appointment.booked.v1")] == 0
    assert 90 <= first[key("nmc_outbox_oldest_pending_age_seconds")] < 150
    assert second[key(pending, topic="message.queued.v1")] == 1
    assert second[key(pending, topic="catalog.updated.v1")] == 2


async def test_rows_set_aside_for_review_are_not_pending(client, admin_engine) -> None:
    if not await _has_review_column(admin_engine):
        pytest.skip("outbox_events.needs_review_at arrives with migration 0007")
    async with admin_engine.begin() as conn:
        await conn.execute(text("DELETE FROM outbox_events"))
    await _insert(
        admin_engine, "message.queued.v1", due="now() - interval '1 hour'", needs_review_at="now()"
    )
    await _insert(admin_engine, "message.queued.v1", due="now() - interval '20 seconds'")

    _, samples = await scrape(client)

    assert samples[key("nmc_outbox_pending", topic="message.queued.v1")] == 1
    assert 20 <= samples[key("nmc_outbox_oldest_pending_age_seconds")] < 80


async def test_an_empty_outbox_has_no_age(client, admin_engine) -> None:
    async with admin_engine.begin() as conn:
        await conn.execute(text("DELETE FROM outbox_events"))

    _, samples = await scrape(client)

    assert samples[key("nmc_outbox_oldest_pending_age_seconds")] == 0
    assert samples[key("nmc_outbox_pending", topic="message.queued.v1")] == 0


async def test_an_unreachable_database_still_serves_the_other_families() -> None:
    settings = api_settings("postgresql://nmc@127.0.0.1:9/nowhere")
    async with AsyncTestClient(build_app(settings)) as client:
        await client.get("/healthz")
        _, samples = await scrape(client)

    assert samples[key("nmc_http_request_duration_seconds_count", route="/healthz")] == 1
    assert not [name for name, _ in samples if name.startswith("nmc_outbox_")]
