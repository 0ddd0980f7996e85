"""Unexpected errors on any route: logged with a request id, answered as a bare 500 problem."""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from nmc_adapters.logs import configure_logging
from nmc_adapters.memory import InMemoryStore, InMemoryUnitOfWork
from nmc_api.app import create_app
from nmc_api.bootstrap import build_deps
from tests.support.api import PROBLEM, api_settings, bearer, token_for
from tests.support.twilio import PUBLIC_BASE_URL, call_sid, sign

NOWHERE = "postgresql://nobody@127.0.0.1:1/nowhere"  # never connected to: the uow is a fake
VOICE = "/webhooks/twilio/voice"
INTERNALS = ("Traceback", "RuntimeError", "hunter2", "0xdeadbeef", "broken_uow")


class BrokenUnitOfWork:
    """A unit of work that fails the way a bug does (not a DomainError)."""

    async def __aenter__(self) -> Any:
        raise RuntimeError("pool exploded at 0xdeadbeef (password=hunter2) in broken_uow")

    async def __aexit__(self, *exc: object) -> None:
        return None


@pytest.fixture
def logs() -> io.StringIO:
    buffer = io.StringIO()
    configure_logging("json", "info", stream=buffer)
    return buffer


def lines(buffer: io.StringIO, event: str) -> list[dict[str, Any]]:
    parsed = [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]
    return [line for line in parsed if line.get("event") == event]


async def client_with(new_uow: Any) -> AsyncIterator[AsyncTestClient]:
    app = create_app(build_deps(api_settings(NOWHERE), new_uow=new_uow))
    async with AsyncTestClient(app, base_url="http://10.0.0.7:8000") as client:
        yield client


@pytest.fixture
async def broken() -> AsyncIterator[AsyncTestClient]:
    async for client in client_with(BrokenUnitOfWork):
        yield client


@pytest.fixture
async def empty() -> AsyncIterator[AsyncTestClient]:
    store = InMemoryStore()
    async for client in client_with(lambda: InMemoryUnitOfWork(store)):
        yield client


async def incoming_call(client: AsyncTestClient, **headers: str) -> httpx.Response:
    params = {"CallSid": call_sid(), "From": "+15005550006", "To": "+14155550123"}
    signature = sign(PUBLIC_BASE_URL + VOICE, params)
    return await client.post(
        VOICE, data=params, headers={"X-Twilio-Signature": signature, **headers}
    )


async def catalog(client: AsyncTestClient, **headers: str) -> httpx.Response:
    return await client.get(
        "/v1/catalog/items", headers={**bearer(token_for(uuid.uuid4())), **headers}
    )


def assert_bare_500(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 500, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert (body["status"], body["title"]) == (500, "Internal error")
    for internal in INTERNALS:
        assert internal not in response.text
    return body


@pytest.mark.parametrize("route", [incoming_call, catalog], ids=["webhook", "v1"])
async def test_an_unexpected_error_is_a_logged_500_problem_with_a_request_id(
    broken: AsyncTestClient, logs: io.StringIO, route: Any
) -> None:
    response = await route(broken)

    body = assert_bare_500(response)
    rid = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    assert rid in body["detail"]
    [logged] = lines(logs, "api.unhandled_error")
    assert logged["logger"] == "nmc.api"
    assert (logged["level"], logged["request_id"]) == ("error", rid)
    assert "Traceback" in logged["exception"]
    assert "RuntimeError: pool exploded" in logged["exception"]
    assert "hunter2" in logged["exception"]  # the log has the internals, the answer has none


@pytest.mark.parametrize("route", [incoming_call, catalog], ids=["webhook", "v1"])
async def test_a_sane_incoming_request_id_is_kept(
    broken: AsyncTestClient, logs: io.StringIO, route: Any
) -> None:
    response = await route(broken, **{"X-Request-ID": "lb-7f3a.9_Z-00"})

    assert_bare_500(response)
    assert response.headers["x-request-id"] == "lb-7f3a.9_Z-00"
    assert [x["request_id"] for x in lines(logs, "api.unhandled_error")] == ["lb-7f3a.9_Z-00"]


@pytest.mark.parametrize(
    "incoming", ["has spaces", "a" * 65, "semi;colon", "", "<script>", "ü".encode()]
)
async def test_an_insane_incoming_request_id_is_replaced(
    broken: AsyncTestClient, incoming: str | bytes
) -> None:
    response = await broken.get("/v1/catalog/items", headers={"X-Request-ID": incoming})

    rid = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid), rid
    assert response.headers.get_list("x-request-id") == [rid]


async def test_every_answer_carries_a_request_id_even_unrouted_ones(empty) -> None:
    ok = await empty.get("/healthz")
    missing = await empty.get("/no/such/path")
    v1_missing = await empty.get("/v1/no/such/path")
    bad_method = await empty.delete("/healthz")

    ids = [r.headers["x-request-id"] for r in (ok, missing, v1_missing, bad_method)]
    assert [r.status_code for r in (ok, missing, v1_missing, bad_method)] == [200, 404, 404, 405]
    assert all(re.fullmatch(r"[0-9a-f]{32}", rid) for rid in ids)
    assert len(set(ids)) == 4


async def test_the_request_id_is_on_every_log_line_of_the_request(
    empty: AsyncTestClient, logs: io.StringIO
) -> None:
    response = await incoming_call(empty, **{"X-Request-ID": "twilio-retry-1"})

    assert response.status_code == 200  # an unknown number: acknowledged, nothing to do
    [warning] = lines(logs, "webhook.unknown_number")
    assert warning["request_id"] == "twilio-retry-1"
    assert response.headers["x-request-id"] == "twilio-retry-1"
    assert lines(logs, "api.unhandled_error") == []


async def test_expected_errors_are_not_logged_as_unhandled(
    empty: AsyncTestClient, logs: io.StringIO
) -> None:
    unsigned = await empty.post(VOICE, data={"CallSid": call_sid()})
    bad_token = await empty.get("/v1/catalog/items", headers=bearer("not-a-token"))

    assert unsigned.status_code == 401
    assert bad_token.status_code == 401
    assert lines(logs, "api.unhandled_error") == []
