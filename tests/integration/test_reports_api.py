"""/v1/reports/daily and /v1/reports/summary on real PostgreSQL: the rows `recompute_day`
wrote for a story of missed calls and replies (tests/support/reports.py), OWNER only, and
problem+json naming the field for a bad date, range or metric."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_domain.reporting import METRICS
from tests.support.api import Caller, api_client, api_settings, problem, tech_of, token_for
from tests.support.reports import DAY_1, DAY_2, FIRST, LAST, tell_story
from tests.support.tenants import onboard

DAILY = "/v1/reports/daily"
SUMMARY = "/v1/reports/summary"
SPAN = {"from": FIRST.isoformat(), "to": LAST.isoformat()}


@pytest.fixture(scope="module")
async def client(database_url: str) -> AsyncIterator[AsyncTestClient]:
    async with api_client(api_settings(database_url)) as client:
        yield client


@pytest.fixture(scope="module")
async def story(client: AsyncTestClient, engine: AsyncEngine) -> dict[str, Caller]:
    """The story told for one tenant; its OWNER and a TECH as callers."""
    new_uow = lambda: PgUnitOfWork(engine)  # noqa: E731
    tenant, number = await onboard(new_uow)
    await tell_story(new_uow, tenant.id, number)
    tech = await tech_of(client, new_uow, tenant.id, "mo.tech@acme-plumbing.example")
    return {"OWNER": Caller(client, token_for(tenant.id)), "TECH": tech}


async def _days(owner: Caller, **params: str) -> list[dict[str, Any]]:
    response = await owner.get(DAILY, **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"days"}
    return body["days"]


async def test_daily_rows_of_one_metric_per_tenant_local_day(story: dict[str, Caller]) -> None:
    days = await _days(story["OWNER"], **SPAN, metric="missed_calls")
    assert [(d["day"], d["metric"], d["count"]) for d in days] == [
        ("2026-03-09", "missed_calls", 0),
        ("2026-03-10", "missed_calls", 2),
        ("2026-03-11", "missed_calls", 1),
        ("2026-03-12", "missed_calls", 0),
    ]
    assert all(d["p50"] is None and d["p95"] is None and d["total"] is None for d in days)
    assert all(d["buckets"] == [] for d in days)


async def test_daily_latency_rows_are_exact_with_their_buckets(story: dict[str, Caller]) -> None:
    days = await _days(story["OWNER"], **SPAN, metric="text_back_seconds")
    by_day = {d["day"]: d for d in days}
    assert set(by_day) == {"2026-03-09", "2026-03-10", "2026-03-11", "2026-03-12"}
    one, two = by_day[DAY_1.isoformat()], by_day[DAY_2.isoformat()]
    assert (one["count"], one["p50"], one["p95"]) == (2, 5.0, pytest.approx(6.8))  # 3 s, 7 s
    assert (two["count"], two["p50"], two["p95"]) == (1, 4.0, 4.0)
    # Bucket upper bounds 1, 2, 5, 10, …: 3 s falls in "≤5", 7 s in "≤10".
    assert one["buckets"][:5] == [0, 0, 1, 1, 0]
    assert sum(one["buckets"]) == 2
    assert (by_day["2026-03-09"]["count"], by_day["2026-03-09"]["p50"]) == (0, None)


async def test_every_metric_of_each_day_by_day_then_metric(story: dict[str, Caller]) -> None:
    days = await _days(story["OWNER"], **{"from": DAY_1.isoformat(), "to": DAY_1.isoformat()})
    assert [d["metric"] for d in days] == sorted(METRICS)
    counts = {d["metric"]: d["count"] for d in days}
    assert counts == {
        **dict.fromkeys(METRICS, 0),
        "text_back_seconds": 2,
        "assistant_response_seconds": 1,
        "missed_calls": 2,
        "text_backs_sent": 2,
        "conversations_replied": 1,
    }
    revenue = next(d for d in days if d["metric"] == "recovered_revenue_cents")
    assert revenue["total"] == 0


async def test_summary_merges_the_days(story: dict[str, Caller]) -> None:
    response = await story["OWNER"].get(SUMMARY, **SPAN)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "from": "2026-03-09",
        "to": "2026-03-12",
        "missed_calls": 3,
        "text_backs_sent": 3,
        "conversations_replied": 1,
        "quotes": 0,
        "offers": 0,
        "bookings": 0,
        "recovered_revenue_cents": 0,
        "opt_outs": 0,
        # 3 s, 7 s and 4 s over two days: read off the merged buckets (≤5 s, ≤10 s).
        "text_back": {"count": 3, "p50": 5.0, "p95": 10.0},
        "first_response": {"count": 0, "p50": None, "p95": None},
        # One day only: its exact values.
        "assistant_response": {"count": 1, "p50": 2.0, "p95": 2.0},
    }


async def test_a_single_day_summary_keeps_exact_percentiles(story: dict[str, Caller]) -> None:
    response = await story["OWNER"].get(SUMMARY, **{"from": "2026-03-10", "to": "2026-03-10"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["text_back"] == {"count": 2, "p50": 5.0, "p95": pytest.approx(6.8)}
    assert body["missed_calls"] == 2


async def test_days_never_recomputed_have_no_rows(story: dict[str, Caller]) -> None:
    assert await _days(story["OWNER"], **{"from": "2025-01-01", "to": "2025-01-31"}) == []
    response = await story["OWNER"].get(SUMMARY, **{"from": "2025-01-01", "to": "2025-01-31"})
    assert response.json()["missed_calls"] == 0
    assert response.json()["text_back"] == {"count": 0, "p50": None, "p95": None}


async def test_another_tenant_sees_none_of_it(client: AsyncTestClient, engine) -> None:
    new_uow = lambda: PgUnitOfWork(engine)  # noqa: E731
    other, _ = await onboard(new_uow, name="OTHER-PLUMBING")
    owner = Caller(client, token_for(other.id))
    assert await _days(owner, **SPAN) == []
    assert (await owner.get(SUMMARY, **SPAN)).json()["missed_calls"] == 0


@pytest.mark.parametrize("path", [DAILY, SUMMARY])
async def test_a_tech_is_refused(story: dict[str, Caller], path: str) -> None:
    problem(await story["TECH"].get(path, **SPAN), 403)


@pytest.mark.parametrize("path", [DAILY, SUMMARY])
async def test_no_token_is_a_401(client: AsyncTestClient, path: str) -> None:
    problem(await client.get(path, params=SPAN), 401)


@pytest.mark.parametrize("path", [DAILY, SUMMARY])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-02-30", "to": "2026-03-01"}, "from"),
        ({"from": "yesterday", "to": "2026-03-01"}, "from"),
        ({"from": "2026-03-01", "to": "03/02/2026"}, "to"),
        ({"to": "2026-03-01"}, "from"),
        ({"from": "2026-03-01"}, "to"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),  # before `from`
        ({"from": "2025-01-01", "to": "2026-01-02"}, "to"),  # 367 days
    ],
)
async def test_bad_dates_and_ranges_are_a_422_naming_the_field(
    story: dict[str, Caller], path: str, params: dict[str, str], field: str
) -> None:
    problem(await story["OWNER"].get(path, **params), 422, field)


async def test_a_year_of_366_days_is_fine(story: dict[str, Caller]) -> None:
    response = await story["OWNER"].get(SUMMARY, **{"from": "2024-01-01", "to": "2024-12-31"})
    assert response.status_code == 200, response.text


async def test_an_unknown_metric_is_a_422_naming_it(story: dict[str, Caller]) -> None:
    body = problem(await story["OWNER"].get(DAILY, **SPAN, metric="revenue"), 422, "metric")
    assert "text_back_seconds" in body["errors"][0]["message"]


async def test_the_document_lists_the_metrics(client: AsyncTestClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    parameters = document["paths"][DAILY]["get"]["parameters"]
    metric = next(p for p in parameters if p["name"] == "metric")
    assert metric["schema"]["enum"] == list(METRICS)
    assert {p["name"] for p in parameters} == {"from", "to", "metric"}
    summary = document["paths"][SUMMARY]["get"]
    assert {"200", "403", "422"} <= set(summary["responses"])
