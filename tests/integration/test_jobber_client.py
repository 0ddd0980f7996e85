"""The Jobber client against FakeJobber over real HTTP: OAuth (codes good once, refresh tokens
rotating), the pinned version header, paging, 401, throttling waited out (THROTTLED and 429)
within bounds, faults as provider errors, and webhook signatures."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from nmc_adapters.jobber import (
    GRAPHQL_VERSION,
    JobberClient,
    JobberEventMalformed,
    JobberSignatureInvalid,
    JobberWebhookVerifier,
)
from nmc_adapters.jobber.client import access_expiry
from nmc_domain.scheduling.jobber_ports import (
    JobberAccessRefused,
    JobberGrantRevoked,
    JobberProviderError,
)
from tests.support.fake_jobber import CLIENT_ID, CLIENT_SECRET, FakeJobber, signed_webhook

PUBLIC = "https://nmc.example.com"
NINE = datetime(2025, 1, 7, 15, 0, tzinfo=UTC)
ROSA = "rosa@acme-plumbing.example"


@pytest.fixture
def fake() -> Iterator[FakeJobber]:
    with FakeJobber() as fake:
        yield fake


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def client(fake: FakeJobber, sleeps: Sleeps) -> AsyncIterator[JobberClient]:
    client = JobberClient(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        public_base_url=PUBLIC,
        api_base=fake.base_url,
        oauth_base=fake.base_url,
        sleep=sleeps,
    )
    yield client
    await client.aclose()


async def connected(fake: FakeJobber, client: JobberClient) -> tuple[str, str, str]:
    account = fake.add_account("ACME Plumbing")
    tokens = await client.exchange_code(fake.authorize(account))
    return account, tokens.access_token, tokens.refresh_token


def test_the_consent_url_names_our_client_callback_and_state(client: JobberClient) -> None:
    url = urlsplit(client.consent_url("STATE-123"))
    assert url.path == "/api/oauth/authorize"
    assert parse_qs(url.query) == {
        "response_type": ["code"],
        "client_id": [CLIENT_ID],
        "redirect_uri": [f"{PUBLIC}/oauth/jobber/callback"],
        "state": ["STATE-123"],
    }


async def test_a_code_is_good_once_and_the_token_expiry_comes_from_the_jwt(
    fake: FakeJobber, client: JobberClient
) -> None:
    account = fake.add_account()
    code = fake.authorize(account)
    tokens = await client.exchange_code(code)
    assert tokens.access_expires_at > datetime.now(UTC) + timedelta(minutes=59)
    assert tokens.access_token not in repr(tokens)
    assert tokens.refresh_token not in repr(tokens)
    with pytest.raises(JobberGrantRevoked):
        await client.exchange_code(code)
    assert (await client.account(tokens.access_token)).id == account


async def test_refresh_tokens_rotate_and_an_old_one_is_refused(
    fake: FakeJobber, client: JobberClient
) -> None:
    _, _, refresh = await connected(fake, client)
    renewed = await client.refresh(refresh)
    assert renewed.refresh_token != refresh
    with pytest.raises(JobberGrantRevoked):
        await client.refresh(refresh)  # spent: Jobber says invalid_grant
    assert (await client.refresh(renewed.refresh_token)).access_token


def test_a_token_without_a_readable_exp_is_given_an_hour() -> None:
    assert access_expiry("not-a-jwt", NINE) == NINE + timedelta(hours=1)


async def test_queries_carry_the_pinned_version_and_pages_follow_the_cursor(
    fake: FakeJobber, client: JobberClient
) -> None:
    account, access, _ = await connected(fake, client)
    job = fake.new_id("Job")
    for hour in range(60):
        fake.put_visit(
            account,
            fake.new_id("Visit"),
            job_id=job,
            start=NINE + timedelta(hours=hour),
            end=NINE + timedelta(hours=hour, minutes=30),
            emails=(ROSA,),
        )
    first = await client.visits_between(access, NINE, NINE + timedelta(days=3))
    assert len(first.visits) == 50
    assert first.next_cursor is not None
    second = await client.visits_between(access, NINE, NINE + timedelta(days=3), first.next_cursor)
    assert len(second.visits) == 10
    assert second.next_cursor is None
    assert second.visits[0].assignee_emails == (ROSA,)
    assert second.visits[0].start == NINE + timedelta(hours=50)
    assert {request.version for request in fake.requests} == {GRAPHQL_VERSION}
    page = await client.job_visits(access, job)
    assert page is not None
    assert len(page.visits) == 50


async def test_missing_visits_and_jobs_read_as_none(fake: FakeJobber, client: JobberClient) -> None:
    _, access, _ = await connected(fake, client)
    assert await client.visit(access, fake.new_id("Visit")) is None
    assert await client.job_visits(access, fake.new_id("Job")) is None


async def test_an_expired_access_token_is_refused(fake: FakeJobber, client: JobberClient) -> None:
    _, access, _ = await connected(fake, client)
    fake.expire_access_tokens()
    with pytest.raises(JobberAccessRefused):
        await client.account(access)


async def test_throttled_queries_wait_for_the_points_they_need(
    fake: FakeJobber, client: JobberClient, sleeps: Sleeps
) -> None:
    account, access, _ = await connected(fake, client)
    fake.throttle_next(2, available=500.0, restore=500.0)  # the query asks 1,000 points
    assert (await client.account(access)).id == account
    assert sleeps.waits == [1.0, 1.0]  # (1,000 - 500) / 500 a second


async def test_waits_are_bounded_and_throttling_ends_in_a_provider_error(
    fake: FakeJobber, client: JobberClient, sleeps: Sleeps
) -> None:
    _, access, _ = await connected(fake, client)
    fake.throttle_next(4, available=0.0, restore=10.0)  # 100 s to wait: capped
    with pytest.raises(JobberProviderError) as raised:
        await client.account(access)
    assert raised.value.status == 429
    assert sleeps.waits == [5.0, 5.0, 5.0]


async def test_429_is_waited_out_by_retry_after(
    fake: FakeJobber, client: JobberClient, sleeps: Sleeps
) -> None:
    account, access, _ = await connected(fake, client)
    fake.too_many_next(1, retry_after=2)
    assert (await client.account(access)).id == account
    assert sleeps.waits == [2.0]


async def test_a_jobber_500_is_a_provider_error_that_says_nothing_of_tokens(
    fake: FakeJobber, client: JobberClient
) -> None:
    _, access, refresh = await connected(fake, client)
    fake.fail_next(1, status=500)
    with pytest.raises(JobberProviderError) as raised:
        await client.visit(access, "VISIT")
    assert raised.value.status == 500
    assert access not in str(raised.value)
    assert refresh not in str(raised.value)
    assert access not in repr(client)


async def test_an_unreachable_jobber_is_a_provider_error() -> None:
    client = JobberClient(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        public_base_url=None,
        api_base="http://127.0.0.1:9",
        oauth_base="http://127.0.0.1:9",
    )
    try:
        with pytest.raises(JobberProviderError):
            await client.account("token")
        with pytest.raises(RuntimeError, match="NMC_PUBLIC_BASE_URL"):
            client.consent_url("state")
    finally:
        await client.aclose()


def test_webhooks_are_verified_over_the_raw_body() -> None:
    verifier = JobberWebhookVerifier(CLIENT_SECRET)
    body, headers = signed_webhook(
        "VISIT_UPDATE", "VISIT-9", "ACCOUNT-1", "2025-01-07T09:00:00-06:00"
    )
    notice = verifier.verify(body, headers["X-Jobber-Hmac-SHA256"])
    assert (notice.topic, notice.item_id, notice.account_id) == (
        "VISIT_UPDATE",
        "VISIT-9",
        "ACCOUNT-1",
    )
    assert notice.occurred_at == datetime(2025, 1, 7, 15, 0, tzinfo=UTC)
    assert notice.key == "VISIT_UPDATE:VISIT-9:2025-01-07T15:00:00+00:00"
    with pytest.raises(JobberSignatureInvalid):
        verifier.verify(body + b" ", headers["X-Jobber-Hmac-SHA256"])
    with pytest.raises(JobberSignatureInvalid):
        verifier.verify(body, None)
    other, _ = signed_webhook(
        "VISIT_UPDATE", "VISIT-9", "ACCOUNT-1", "2025-01-07T09:00:00Z", secret="x"
    )
    with pytest.raises(JobberSignatureInvalid):
        verifier.verify(other, headers["X-Jobber-Hmac-SHA256"])


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        json.dumps({"data": {}}).encode(),
        json.dumps({"data": {"webHookEvent": []}}).encode(),
        json.dumps({"data": {"webHookEvent": {"topic": "VISIT_UPDATE"}}}).encode(),
        json.dumps(
            {
                "data": {
                    "webHookEvent": {
                        "topic": "VISIT_UPDATE",
                        "accountId": "A",
                        "itemId": "V",
                        "occurredAt": "yesterday",
                    }
                }
            }
        ).encode(),
    ],
)
def test_signed_but_malformed_events_are_refused(body: bytes) -> None:
    from nmc_adapters.jobber import jobber_signature

    with pytest.raises(JobberEventMalformed):
        JobberWebhookVerifier(CLIENT_SECRET).verify(body, jobber_signature(CLIENT_SECRET, body))


def test_the_legacy_occured_at_spelling_is_read() -> None:
    from nmc_adapters.jobber import jobber_signature

    event = {
        "topic": "job_destroy",
        "accountId": "A",
        "itemId": "J",
        "occuredAt": "2025-01-07T15:00:00Z",
    }
    body = json.dumps({"data": {"webHookEvent": event}}).encode()
    notice = JobberWebhookVerifier(CLIENT_SECRET).verify(
        body, jobber_signature(CLIENT_SECRET, body)
    )
    assert notice.topic == "JOB_DESTROY"
