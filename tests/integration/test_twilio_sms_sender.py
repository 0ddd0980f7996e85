"""TwilioSmsSender over real HTTP against FakeTwilio (and MockTransport for paging and oddities)."""

from __future__ import annotations

import base64
import email.utils
import socket
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx
import pytest

from nmc_adapters.twilio.sms import TwilioSmsSender
from nmc_domain.messaging.errors import SmsNotSent, SmsOutcomeUnknown, SmsRejected
from nmc_domain.messaging.ports import OutgoingSms
from tests.support.fake_twilio import FakeTwilio

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "tok-do-not-leak-4f9c2e"
PUBLIC_BASE_URL = "https://nmc.example.com/"
CLIENT_TIMEOUT = 0.5
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def _sms(body: str = "Sorry we missed your call! How can we help?") -> OutgoingSms:
    return OutgoingSms(to="+15555550123", from_="+15555550100", body=body, reference=uuid.uuid4())


def _sender(client: httpx.AsyncClient, api_base: str, token: str = AUTH_TOKEN) -> TwilioSmsSender:
    return TwilioSmsSender(
        client,
        account_sid=ACCOUNT_SID,
        auth_token=token,
        api_base=api_base,
        public_base_url=PUBLIC_BASE_URL,
    )


def _all_text(exc: BaseException) -> str:
    """Everything a log of this exception could show, cause chain included."""
    return "".join(traceback.format_exception(exc)) + repr(exc)


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(CLIENT_TIMEOUT)) as http:
        yield http


@pytest.fixture
def sender(fake: FakeTwilio, client: httpx.AsyncClient) -> TwilioSmsSender:
    return _sender(client, fake.base_url + "/")  # the trailing slash must not double up


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there any more: connections are refused


# --- send ------------------------------------------------------------------------------------


async def test_send_posts_the_form_and_returns_the_receipt(
    fake: FakeTwilio, sender: TwilioSmsSender
) -> None:
    sms = _sms()
    before = time.time_ns()

    receipt = await sender.send(sms)

    [message] = fake.messages
    assert receipt.provider_sid == message.sid
    assert receipt.provider_sid.startswith("SM")
    assert len(receipt.provider_sid) == 34
    assert receipt.status == "queued"
    assert (message.to, message.from_, message.body) == (sms.to, sms.from_, sms.body)
    assert message.status_callback == (
        f"https://nmc.example.com/webhooks/twilio/sms/status?message_id={sms.reference}"
    )
    assert before <= message.received_ns <= time.time_ns()
    assert fake.requests == {"send": 1}


async def test_several_sends_share_the_keep_alive_connection(
    fake: FakeTwilio, sender: TwilioSmsSender
) -> None:
    receipts = [await sender.send(_sms(f"message {i}")) for i in range(5)]

    assert [m.sid for m in await fake.await_messages(5, timeout=1)] == [
        r.provider_sid for r in receipts
    ]


async def test_wrong_credentials_are_retryable_not_a_rejection(
    fake: FakeTwilio, client: httpx.AsyncClient
) -> None:
    # Our configuration is at fault, not the message: retry (and dead-letter), never fail it.
    sender = _sender(client, fake.base_url, token="not-the-token")

    with pytest.raises(SmsNotSent) as caught:
        await sender.send(_sms())

    assert "401" in str(caught.value)
    assert fake.messages == []


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_any_server_error_is_an_unknown_outcome(
    status: int, fake: FakeTwilio, sender: TwilioSmsSender
) -> None:
    # Twilio can create the message and still answer 5xx: a blind resend could text twice.
    fake.fail_next(status=status)

    with pytest.raises(SmsOutcomeUnknown, match=str(status)):
        await sender.send(_sms())


async def test_a_500_after_twilio_created_the_message_is_resolved_by_find_sent() -> None:
    sms = _sms()
    since = datetime.now(UTC)
    created = email.utils.format_datetime(since + timedelta(seconds=1))

    def twilio(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":  # it kept the message, then failed to answer properly
            return httpx.Response(500, json={"code": 20500, "message": "Internal Server Error"})
        return _listing([_entry("SMcreated", sms.body, created)], None)(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(twilio)) as http:
        sender = _sender(http, "https://api.twilio.test")
        with pytest.raises(SmsOutcomeUnknown):
            await sender.send(sms)
        found = await sender.find_sent(sms, since=since)

    assert [(r.provider_sid, r.status) for r in found] == [("SMcreated", "delivered")]


async def test_a_400_is_a_permanent_rejection_with_twilios_code(
    fake: FakeTwilio, sender: TwilioSmsSender
) -> None:
    fake.reject_next(code=21211)

    with pytest.raises(SmsRejected) as caught:
        await sender.send(_sms())

    assert caught.value.code == "21211"
    assert "21211" in caught.value.detail
    assert fake.messages == []


@pytest.mark.parametrize(
    ("code", "status"), [(21211, 400), (21610, 400), (21408, 400), (21612, 422)]
)
async def test_a_request_twilio_calls_wrong_is_final(
    fake: FakeTwilio, sender: TwilioSmsSender, code: int, status: int
) -> None:
    fake.reject_next(code=code, status=status)

    with pytest.raises(SmsRejected) as caught:
        await sender.send(_sms())

    assert caught.value.code == str(code)
    assert fake.messages == []


async def test_an_empty_body_is_rejected_by_the_provider(sender: TwilioSmsSender) -> None:
    with pytest.raises(SmsRejected) as caught:
        await sender.send(_sms(body=""))

    assert caught.value.code == "21602"


@pytest.mark.parametrize("status", [429, 408, 403, 404])
async def test_throttling_and_account_errors_mean_not_sent(
    fake: FakeTwilio, sender: TwilioSmsSender, status: int
) -> None:
    fake.fail_next(status=status)

    with pytest.raises(SmsNotSent, match=str(status)):
        await sender.send(_sms())

    assert fake.messages == []
    await sender.send(_sms())  # the fault was used up: the retry goes through
    assert len(fake.messages) == 1


async def test_a_connection_refused_means_not_sent(client: httpx.AsyncClient) -> None:
    sender = _sender(client, f"http://127.0.0.1:{_closed_port()}")

    with pytest.raises(SmsNotSent):
        await sender.send(_sms())


async def test_a_dropped_connection_after_the_request_is_ambiguous(
    fake: FakeTwilio, sender: TwilioSmsSender
) -> None:
    fake.drop_next()

    with pytest.raises(SmsOutcomeUnknown):
        await sender.send(_sms())

    assert fake.requests == {"send": 1}  # the request did arrive: that is why it is ambiguous
    assert fake.messages == []


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(201, text="<html>not json</html>"),
        httpx.Response(201, json={"status": "queued"}),
        httpx.Response(200, json=["not", "an", "object"]),
    ],
)
async def test_a_success_we_cannot_read_is_ambiguous(answer: httpx.Response) -> None:
    transport = httpx.MockTransport(lambda request: answer)
    async with httpx.AsyncClient(transport=transport) as http:
        with pytest.raises(SmsOutcomeUnknown):
            await _sender(http, "https://api.twilio.test").send(_sms())


# --- ambiguous send, then reconciliation -------------------------------------------------------


async def test_a_timeout_after_acceptance_is_ambiguous_and_find_sent_resolves_it(
    fake: FakeTwilio, sender: TwilioSmsSender
) -> None:
    sms = _sms()
    since = datetime.now(UTC)
    fake.hang_next(seconds=CLIENT_TIMEOUT * 3)

    with pytest.raises(SmsOutcomeUnknown):
        await sender.send(sms)

    [accepted] = fake.messages  # the provider did take it: a blind resend would duplicate it
    [receipt] = await sender.find_sent(sms, since=since)
    assert receipt.provider_sid == accepted.sid
    assert receipt.status == "queued"
    # An attempt recorded by a clock a minute ahead of Twilio's still matches (skew allowance).
    skewed = await sender.find_sent(sms, since=since + timedelta(minutes=1))
    assert [r.provider_sid for r in skewed] == [accepted.sid]


async def test_find_sent_returns_every_record_twilio_lists_newest_first(
    fake: FakeTwilio, sender: TwilioSmsSender
) -> None:
    sms = _sms()
    since = datetime.now(UTC)
    older = await sender.send(sms)
    await sender.send(_sms("another text"))
    newer = await sender.send(OutgoingSms(sms.to, sms.from_, sms.body, uuid.uuid4()))

    found = await sender.find_sent(sms, since=since)

    assert [r.provider_sid for r in found] == [newer.provider_sid, older.provider_sid]
    assert len({m.sid for m in fake.messages}) == 3


async def test_find_sent_ignores_other_bodies_and_older_messages(
    fake: FakeTwilio, sender: TwilioSmsSender
) -> None:
    sms = _sms()
    await sender.send(sms)

    other_body = OutgoingSms(
        to=sms.to, from_=sms.from_, body="another text", reference=sms.reference
    )
    assert list(await sender.find_sent(other_body, since=datetime.now(UTC))) == []
    # Sent more than the 2 minutes of allowed skew before this attempt: an older, separate text.
    later = datetime.now(UTC) + timedelta(minutes=3)
    assert list(await sender.find_sent(sms, since=later)) == []
    assert fake.requests == {"send": 1, "list": 2}


async def test_find_sent_against_an_unreachable_twilio_is_not_sent(
    client: httpx.AsyncClient,
) -> None:
    sender = _sender(client, f"http://127.0.0.1:{_closed_port()}")

    with pytest.raises(SmsNotSent):
        await sender.find_sent(_sms(), since=datetime.now(UTC))


# --- reconciliation paging (MockTransport) ----------------------------------------------------


def _listing(
    messages: list[dict[str, str]], next_page_uri: str | None
) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"messages": messages, "next_page_uri": next_page_uri})

    return answer


def _entry(sid: str, body: str, created: str) -> dict[str, str]:
    return {"sid": sid, "status": "delivered", "body": body, "date_created": created}


async def test_find_sent_follows_next_page_uri_until_the_window_ends() -> None:
    sms = _sms()
    since = datetime(2024, 3, 1, 0, 1, tzinfo=UTC)  # less 2 minutes of skew: 23:59 the day before
    next_uri = f"{MESSAGES_PATH}?PageSize=50&Page=1&PageToken=PAabc"
    seen: list[httpx.Request] = []
    pages = [  # newest first, as Twilio lists them
        _listing(
            [
                _entry("SM1", "another text", "Fri, 01 Mar 2024 00:05:00 +0000"),
                _entry("SM4", sms.body, "Fri, 01 Mar 2024 00:04:00 +0000"),
            ],
            next_uri,
        ),
        _listing(
            [
                _entry("SM3", sms.body, "Thu, 29 Feb 2024 23:59:30 +0000"),  # within the skew
                _entry("SM2", sms.body, "Thu, 29 Feb 2024 23:50:00 +0000"),  # before it
            ],
            f"{MESSAGES_PATH}?PageSize=50&Page=2&PageToken=PAdef",
        ),
        _listing([_entry("SM0", sms.body, "Thu, 29 Feb 2024 23:00:00 +0000")], None),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return pages[len(seen) - 1](request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        found = await _sender(http, "https://api.twilio.test/").find_sent(sms, since=since)

    assert [(r.provider_sid, r.status) for r in found] == [
        ("SM4", "delivered"),
        ("SM3", "delivered"),
    ]
    # The second page reached past the window: the third is older still and never asked for.
    first, second = seen
    assert first.method == "GET"
    assert first.url.path == MESSAGES_PATH
    assert parse_qs(first.url.query.decode()) == {
        "To": [sms.to],
        "From": [sms.from_],
        "PageSize": ["50"],
    }
    expected_auth = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert first.headers["Authorization"] == expected_auth
    assert str(second.url) == "https://api.twilio.test" + next_uri
    assert second.headers["Authorization"] == expected_auth


async def test_find_sent_reads_at_most_five_pages() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return _listing([], f"{MESSAGES_PATH}?Page={calls}")(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        found = await _sender(http, "https://api.twilio.test").find_sent(_sms(), datetime.now(UTC))

    assert list(found) == []
    assert calls == 5


async def test_find_sent_stops_at_a_page_older_than_the_window() -> None:
    sms = _sms()
    since = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        entries = [_entry("SMold", sms.body, "Fri, 01 Mar 2024 09:00:00 +0000")]
        return _listing(entries, f"{MESSAGES_PATH}?Page={calls}")(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        found = await _sender(http, "https://api.twilio.test").find_sent(sms, since)

    assert list(found) == []
    assert calls == 1


async def test_find_sent_never_follows_a_link_to_another_host() -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return _listing([], "https://elsewhere.test/steal")(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        found = await _sender(http, "https://api.twilio.test").find_sent(_sms(), datetime.now(UTC))

    assert list(found) == []
    assert hosts == ["api.twilio.test"]


async def test_a_non_2xx_while_reconciling_is_not_sent() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(503, text="busy"))
    async with httpx.AsyncClient(transport=transport) as http:
        with pytest.raises(SmsNotSent, match="503"):
            await _sender(http, "https://api.twilio.test").find_sent(_sms(), datetime.now(UTC))


# --- the auth token stays secret ---------------------------------------------------------------


async def test_the_auth_token_never_appears_in_errors(
    fake: FakeTwilio, sender: TwilioSmsSender
) -> None:
    errors: list[BaseException] = []
    for inject in (fake.fail_next, fake.reject_next, fake.drop_next):
        inject()
        with pytest.raises((SmsNotSent, SmsRejected, SmsOutcomeUnknown)) as caught:
            await sender.send(_sms())
        errors.append(caught.value)

    def echo_token(request: httpx.Request) -> httpx.Response:
        # A misbehaving proxy that echoes the Authorization header back, decoded.
        header = request.headers["Authorization"].removeprefix("Basic ")
        return httpx.Response(400, text=f"bad credentials {base64.b64decode(header).decode()}")

    def raise_with_token(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"could not connect with {AUTH_TOKEN}", request=request)

    for handler in (echo_token, raise_with_token):
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            with pytest.raises((SmsNotSent, SmsRejected)) as caught:
                await _sender(http, "https://api.twilio.test").send(_sms())
            errors.append(caught.value)
            with pytest.raises(SmsNotSent) as caught_listing:
                await _sender(http, "https://api.twilio.test").find_sent(_sms(), datetime.now(UTC))
            errors.append(caught_listing.value)

    assert len(errors) == 7
    for error in errors:
        assert AUTH_TOKEN not in _all_text(error)
    assert AUTH_TOKEN not in repr(sender)
