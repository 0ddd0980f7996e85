"""GoogleCalendarClient (OAuth 2.0 and Calendar API v3 over httpx) against FakeGoogle over real
HTTP; and the fake's push notifications as a receiver sees them."""

from __future__ import annotations

import asyncio
import email.utils
import socket
import traceback
from collections.abc import AsyncIterator, Iterator, MutableMapping
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import attrs
import httpx
import pytest

from nmc_adapters.google import GoogleCalendarClient
from nmc_domain.scheduling.google_ports import (
    CalendarAccessRevoked,
    CalendarProviderError,
    EventsPage,
    GoogleCalendarApi,
    OwnEvent,
    SyncTokenExpired,
)
from tests.support.fake_google import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    FakeGoogle,
    deliver_through,
)
from tests.support.http_fake import FakeServer, ServedFake

PUBLIC = "https://nmc.example.com"
TECH = "dana@acme-plumbing.example"
DENVER = ZoneInfo("America/Denver")
WINDOW = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC))
CALENDAR = "/calendar/v3/calendars/"


class Clock:
    """The client's clock (seconds): tests move it to age cached access tokens."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _all_text(exc: BaseException) -> str:
    """Everything a log of this exception could show, cause chain included."""
    return "".join(traceback.format_exception(exc)) + repr(exc)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=DENVER)


@pytest.fixture
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogle() as server:
        server.add_calendar(TECH, "America/Denver")
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _client(
    fake: FakeGoogle, clock: Clock | None = None, *, public: str = PUBLIC, timeout: float = 5.0
) -> GoogleCalendarClient:
    return GoogleCalendarClient(
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
        api_base=fake.base_url + "/",  # a trailing slash must not double up
        oauth_base=fake.base_url,
        public_base_url=public + "/",
        timeout_seconds=timeout,
        clock=clock or Clock(),
    )


@pytest.fixture
async def client(fake: FakeGoogle, clock: Clock) -> AsyncIterator[GoogleCalendarClient]:
    client = _client(fake, clock)
    yield client
    await client.aclose()


@pytest.fixture
def refresh(fake: FakeGoogle) -> str:
    return fake.issue_refresh_token(TECH)


async def _full_sync(client: GoogleCalendarApi, refresh: str) -> list[EventsPage]:
    pages = [await client.list_events(refresh, "primary", time_min=WINDOW[0], time_max=WINDOW[1])]
    while pages[-1].next_page_token:
        pages.append(
            await client.list_events(
                refresh,
                "primary",
                time_min=WINDOW[0],
                time_max=WINDOW[1],
                page_token=pages[-1].next_page_token,
            )
        )
    return pages


def _token_requests(fake: FakeGoogle) -> list[dict[str, str]]:
    return [r.body for r in fake.requests if r.path == "/o/oauth2/token"]


# --- OAuth ---------------------------------------------------------------------------------------


def test_the_consent_url_asks_for_events_and_free_busy_offline(
    fake: FakeGoogle, client: GoogleCalendarClient
) -> None:
    api: GoogleCalendarApi = client  # the adapter is the port (mypy checks)

    url = urlsplit(api.consent_url("state with spaces&more"))

    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{fake.base_url}/o/oauth2/v2/auth"
    assert parse_qs(url.query) == {
        "client_id": [DEFAULT_CLIENT_ID],
        "redirect_uri": [f"{PUBLIC}/oauth/google/callback"],
        "response_type": ["code"],
        "scope": [
            "https://www.googleapis.com/auth/calendar.events "
            "https://www.googleapis.com/auth/calendar.freebusy"
        ],
        "access_type": ["offline"],
        "prompt": ["consent"],
        "include_granted_scopes": ["true"],
        "state": ["state with spaces&more"],
    }


async def test_consent_then_the_code_gives_a_refresh_token_and_a_cached_access_token(
    fake: FakeGoogle, client: GoogleCalendarClient
) -> None:
    fake.consenting_user = TECH
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(client.consent_url("st-1"))
    assert consent.status_code == 302
    back = urlsplit(consent.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == f"{PUBLIC}/oauth/google/callback"
    query = parse_qs(back.query)
    assert query["state"] == ["st-1"]

    refresh = await client.exchange_code(query["code"][0])
    await client.list_events(refresh, "primary", time_min=WINDOW[0], time_max=WINDOW[1])

    assert refresh.startswith("1//")
    [exchange] = _token_requests(fake)  # the exchange's access token served the list
    assert exchange == {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": f"{PUBLIC}/oauth/google/callback",
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
    }
    with pytest.raises(CalendarProviderError, match="invalid_grant") as reused:
        await client.exchange_code(query["code"][0])  # codes are single use
    assert not isinstance(reused.value, CalendarAccessRevoked)
    assert reused.value.status == 400


async def test_a_consent_without_offline_access_or_all_scopes_is_refused(
    fake: FakeGoogle, client: GoogleCalendarClient
) -> None:
    fake.omit_refresh_token = True
    with pytest.raises(CalendarProviderError, match="no offline access"):
        await client.exchange_code(fake.authorize(TECH))

    fake.omit_refresh_token = False
    fake.granted_scope = "https://www.googleapis.com/auth/calendar.events"
    with pytest.raises(CalendarProviderError, match=r"missing: calendar\.freebusy"):
        await client.exchange_code(fake.authorize(TECH))


async def test_access_tokens_are_cached_until_a_minute_before_expiry(
    fake: FakeGoogle, client: GoogleCalendarClient, clock: Clock, refresh: str
) -> None:
    await client.list_events(refresh, "primary", time_min=WINDOW[0], time_max=WINDOW[1])
    clock.now += 3599 - 61
    await client.list_events(refresh, "primary", time_min=WINDOW[0], time_max=WINDOW[1])
    assert len(_token_requests(fake)) == 1

    clock.now += 2  # less than 60 s left
    await client.list_events(refresh, "primary", time_min=WINDOW[0], time_max=WINDOW[1])

    assert [r["grant_type"] for r in _token_requests(fake)] == ["refresh_token"] * 2
    first, second = fake.access_tokens_of(refresh)
    assert [r.access_token for r in fake.requests if r.path.startswith(CALENDAR)] == [
        first,
        first,
        second,
    ]


async def test_a_401_drops_the_token_refreshes_once_and_retries_once(
    fake: FakeGoogle, client: GoogleCalendarClient, refresh: str
) -> None:
    await client.list_events(refresh, "primary", time_min=WINDOW[0], time_max=WINDOW[1])
    fake.expire_access_tokens()  # Google ended them early (the cache still trusts them)

    page = await client.list_events(refresh, "primary", time_min=WINDOW[0], time_max=WINDOW[1])

    assert page.next_sync_token
    assert [(r.method, r.path) for r in fake.requests][2:] == [
        ("GET", f"{CALENDAR}primary/events"),  # 401
        ("POST", "/o/oauth2/token"),
        ("GET", f"{CALENDAR}primary/events"),
    ]


async def test_a_second_401_means_the_access_is_revoked(
    fake: FakeGoogle, client: GoogleCalendarClient, refresh: str
) -> None:
    fake.fail_next(2, status=401, path=CALENDAR)

    with pytest.raises(CalendarAccessRevoked) as revoked:
        await client.delete_event(refresh, "primary", "nmc0123456789abcdef")

    assert revoked.value.status == 401
    assert len(_token_requests(fake)) == 2  # one refresh, one retry: no loop


async def test_invalid_grant_on_refresh_means_the_access_is_revoked(
    fake: FakeGoogle, client: GoogleCalendarClient, refresh: str
) -> None:
    fake.revoke_grant(refresh)

    with pytest.raises(CalendarAccessRevoked, match="invalid_grant") as revoked:
        await client.free_busy(refresh, "primary", *WINDOW)

    assert revoked.value.status == 400
    text = _all_text(revoked.value)
    assert refresh not in text
    assert DEFAULT_CLIENT_SECRET not in text


async def test_revoke_ends_the_grant_and_twice_is_fine(
    fake: FakeGoogle, client: GoogleCalendarClient, refresh: str
) -> None:
    await client.free_busy(refresh, "primary", *WINDOW)  # an access token in the cache

    await client.revoke(refresh)
    await client.revoke(refresh)

    assert [r.body for r in fake.requests if r.path == "/o/oauth2/revoke"] == [
        {"token": refresh}
    ] * 2
    with pytest.raises(CalendarAccessRevoked):  # the cached access token went with it
        await client.free_busy(refresh, "primary", *WINDOW)


# --- events.list ---------------------------------------------------------------------------------


async def test_a_full_sync_pages_and_gets_the_sync_token_on_the_last_page_only(
    fake: FakeGoogle, client: GoogleCalendarClient, refresh: str
) -> None:
    fake.page_size = 2
    inside = [fake.set_event(TECH, _at(d, 9), _at(d, 10)) for d in (2, 3, 4, 5, 6)]
    fake.set_event(TECH, datetime(2026, 4, 2, 9, tzinfo=UTC), datetime(2026, 4, 2, 10, tzinfo=UTC))
    gone = fake.set_event(TECH, _at(7, 9), _at(7, 10))
    fake.cancel_event(TECH, gone)

    pages = await _full_sync(client, refresh)

    assert [len(p.events) for p in pages] == [2, 2, 1]
    assert [e.id for p in pages for e in p.events] == inside
    assert [p.next_sync_token is not None for p in pages] == [False, False, True]
    assert pages[-1].next_page_token is None
    lists = [r.query for r in fake.requests if r.method == "GET"]
    assert lists[0] == {
        "singleEvents": "true",
        "maxResults": "250",
        "showDeleted": "false",
        "timeMin": "2026-03-01T00:00:00Z",
        "timeMax": "2026-03-31T00:00:00Z",
    }
    assert [q["pageToken"] for q in lists[1:]] == [p.next_page_token for p in pages[:-1]]
    assert all(q["timeMin"] == "2026-03-01T00:00:00Z" for q in lists)


async def test_an_incremental_sync_returns_changes_with_cancelled_events(
    fake: FakeGoogle, client: GoogleCalendarClient, refresh: str
) -> None:
    kept = fake.set_event(TECH, _at(2, 9), _at(2, 10))
    moved = fake.set_event(TECH, _at(3, 9), _at(3, 10))
    deleted = fake.set_event(TECH, _at(4, 9), _at(4, 10))
    series = fake.add_recurring(TECH, _at(9, 8), timedelta(hours=1), 3, series_id="weekly0001")
    [*_, last] = await _full_sync(client, refresh)
    assert last.next_sync_token is not None
    assert len(last.events) == 6

    fake.set_event(TECH, _at(3, 13), _at(3, 14), event_id=moved)
    fake.cancel_event(TECH, deleted)
    fake.cancel_event(TECH, series[1])
    added = fake.set_event(TECH, date(2026, 5, 1), date(2026, 5, 2))  # outside the window
    changes = await client.list_events(refresh, "primary", sync_token=last.next_sync_token)

    by_id = {e.id: e for e in changes.events}
    assert list(by_id) == [moved, deleted, series[1], added]
    assert kept not in by_id
    assert by_id[moved].start == _at(3, 13)
    assert by_id[deleted].status == "cancelled"
    assert by_id[deleted].start is None  # cancelled ones come minimal
    assert by_id[series[1]].status == "cancelled"
    assert by_id[series[1]].recurring_event_id == "weekly0001"
    assert changes.next_sync_token not in (None, last.next_sync_token)
    incremental = fake.requests[-1].query
    assert incremental == {
        "singleEvents": "true",
        "maxResults": "250",
        "syncToken": last.next_sync_token,
    }

    nothing = await client.list_events(refresh, "primary", sync_token=changes.next_sync_token)
    assert nothing.events == ()
    assert nothing.next_sync_token


async def test_410_in_the_middle_of_paging_and_on_a_stale_sync_token(
    fake: FakeGoogle, client: GoogleCalendarClient, refresh: str
) -> None:
    fake.page_size = 2
    for d in (2, 3, 4):
        fake.set_event(TECH, _at(d, 9), _at(d, 10))
    first = await client.list_events(refresh, "primary", time_min=WINDOW[0], time_max=WINDOW[1])
    assert first.next_page_token is not None

    fake.invalidate_sync_tokens(TECH)
    with pytest.raises(SyncTokenExpired) as expired:
        await client.list_events(
            refresh,
            "primary",
            time_min=WINDOW[0],
            time_max=WINDOW[1],
            page_token=first.next_page_token,
        )
    assert expired.value.status == 410

    [*_, last] = await _full_sync(client, refresh)  # a full sync starts over fine
    fake.invalidate_sync_tokens(TECH)
    with pytest.raises(SyncTokenExpired):
        await client.list_events(refresh, "primary", sync_token=last.next_sync_token)
    with pytest.raises(ValueError, match="time range"):
        await client.list_events(refresh, "primary", sync_token="x", time_min=WINDOW[0])


async def test_timed_all_day_transparent_and_our_own_events_are_read(
    fake: FakeGoogle, client: GoogleCalendarClient, refresh: str
) -> None:
    timed = fake.set_event(TECH, _at(10, 9, 30), _at(10, 11))
    all_day = fake.set_event(TECH, date(2026, 3, 12), date(2026, 3, 14))
    free = fake.set_event(TECH, _at(11, 9), _at(11, 10), transparency="transparent")
    ours = fake.set_event(
        TECH, _at(11, 12), _at(11, 13), event_id="nmc0a1b2c3d", private={"nmc_appointment_id": "a"}
    )

    [page] = await _full_sync(client, refresh)

    by_id = {e.id: e for e in page.events}
    assert page.time_zone == "America/Denver"
    assert by_id[timed].start == datetime(2026, 3, 10, 15, 30, tzinfo=UTC)  # MDT, UTC-6
    assert by_id[timed].start.utcoffset() == timedelta(hours=-6)  # type: ignore[union-attr]
    assert by_id[timed].end == _at(10, 11)
    assert by_id[timed].transparency is None
    assert (by_id[all_day].start, by_id[all_day].start_date, by_id[all_day].end_date) == (
        None,
        date(2026, 3, 12),
        date(2026, 3, 14),
    )
    assert by_id[free].transparency == "transparent"
    assert by_id[ours].private == {"nmc_appointment_id": "a"}


async def test_a_weekly_series_keeps_its_local_time_across_the_dst_change(
    fake: FakeGoogle, client: GoogleCalendarClient, refresh: str
) -> None:
    # 2026-03-08: Denver goes from UTC-7 to UTC-6.
    ids = fake.add_recurring(TECH, _at(2, 9), timedelta(hours=2), 3, series_id="standup01")

    [page] = await _full_sync(client, refresh)

    assert ids == ["standup01_20260302T160000Z", "standup01_20260309T150000Z", ids[2]]
    assert [e.id for e in page.events] == ids
    assert [e.start.astimezone(DENVER).hour for e in page.events if e.start] == [9, 9, 9]
    assert {e.recurring_event_id for e in page.events} == {"standup01"}


# --- push channels -------------------------------------------------------------------------------


async def test_watch_opens_a_channel_to_our_webhook_and_stop_ends_it_twice_fine(
    fake: FakeGoogle, client: GoogleCalendarClient, refresh: str
) -> None:
    before = datetime.now(UTC)
    watched = await client.watch(refresh, "primary", channel_id="chan-1", token="tok-1")

    [channel] = fake.channels
    assert (channel.id, channel.token, channel.calendar_id) == ("chan-1", "tok-1", TECH)
    assert channel.address == f"{PUBLIC}/webhooks/google/calendar"
    assert watched.resource_id == channel.resource_id
    assert watched.expires_at.tzinfo is not None
    week = before + timedelta(days=7)
    assert week - timedelta(seconds=5) <= watched.expires_at <= week + timedelta(seconds=5)
    [opened] = [r.body for r in fake.requests if r.path.endswith("/watch")]
    assert opened["params"] == {"ttl": "604800"}

    await client.stop(refresh, channel_id="chan-1", resource_id=watched.resource_id)
    await client.stop(refresh, channel_id="chan-1", resource_id=watched.resource_id)

    assert fake.channels[0].stopped
    with pytest.raises(CalendarProviderError, match="400"):  # Google: channel id not unique
        await client.watch(refresh, "primary", channel_id="chan-1", token="tok-1")


# --- free/busy -----------------------------------------------------------------------------------


async def test_free_busy_gives_the_opaque_busy_times_merged(
    fake: FakeGoogle, client: GoogleCalendarClient, refresh: str
) -> None:
    fake.set_event(TECH, _at(10, 9), _at(10, 10))
    fake.set_event(TECH, _at(10, 9, 30), _at(10, 11))  # overlaps: merged
    fake.set_event(TECH, _at(10, 13), _at(10, 14), transparency="transparent")
    fake.cancel_event(TECH, fake.set_event(TECH, _at(10, 15), _at(10, 16)))
    fake.set_event(TECH, date(2026, 3, 11), date(2026, 3, 12))  # all day, Denver

    busy = await client.free_busy(refresh, "primary", _at(10, 0), _at(11, 12))

    assert busy == (
        (_at(10, 9), _at(10, 11)),
        (_at(11, 0), _at(11, 12)),  # clipped to the window
    )
    assert all(start.tzinfo is not None for start, _ in busy)
    with pytest.raises(CalendarProviderError, match="notFound"):
        await client.free_busy(refresh, "someone.else@example.com", _at(10, 0), _at(11, 0))


# --- our own events ------------------------------------------------------------------------------


async def test_put_event_is_idempotent_then_updates_and_revives(
    fake: FakeGoogle, client: GoogleCalendarClient, refresh: str
) -> None:
    event = OwnEvent(
        id="nmc" + "0123456789abcdef" * 2,
        summary="Water heater flush (NeverMissCall)",
        description="Booked by text",
        start=_at(12, 9),
        end=_at(12, 10),
        private={"nmc_appointment_id": "0123"},
    )

    await client.put_event(refresh, "primary", event)
    await client.put_event(refresh, "primary", event)  # a retry
    [stored] = fake.events(TECH)
    assert stored["id"] == event.id
    assert stored["summary"] == event.summary
    assert stored["extendedProperties"] == {"private": {"nmc_appointment_id": "0123"}}

    moved = attrs.evolve(event, start=_at(12, 14), end=_at(12, 15))
    await client.put_event(refresh, "primary", moved)
    [stored] = fake.events(TECH)
    assert datetime.fromisoformat(stored["start"]["dateTime"]) == _at(12, 14)

    await client.delete_event(refresh, "primary", event.id)
    await client.delete_event(refresh, "primary", event.id)  # 410: gone already
    await client.delete_event(refresh, "primary", "nmcneverexisted")  # 404
    assert fake.events(TECH) == []

    await client.put_event(refresh, "primary", event)  # booked again: the event comes back
    [stored] = fake.events(TECH)
    assert stored["status"] == "confirmed"
    assert [(r.method, r.path.rsplit("/", 1)[-1][:3]) for r in fake.requests][-2:] == [
        ("POST", "eve"),  # 409
        ("PUT", "nmc"),
    ]


# --- failures ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason", "message"),
    [
        (500, None, "HTTP 500"),
        (503, None, "HTTP 503"),
        (429, None, "rate limiting"),
        (403, "rateLimitExceeded", "rate limiting"),
        (403, "userRateLimitExceeded", "rate limiting"),
    ],
)
async def test_provider_failures_are_calendar_provider_errors(
    fake: FakeGoogle,
    client: GoogleCalendarClient,
    refresh: str,
    status: int,
    reason: str | None,
    message: str,
) -> None:
    await client.free_busy(refresh, "primary", *WINDOW)  # a cached access token
    fake.fail_next(1, status, path=CALENDAR, reason=reason)

    with pytest.raises(CalendarProviderError, match=message) as failed:
        await client.list_events(refresh, "primary", time_min=WINDOW[0], time_max=WINDOW[1])

    assert type(failed.value) is CalendarProviderError
    assert failed.value.status == status
    text = _all_text(failed.value)
    for secret in (refresh, DEFAULT_CLIENT_SECRET, *fake.access_tokens_of(refresh)):
        assert secret not in text


async def test_a_failed_refresh_is_a_provider_error_not_a_revocation(
    fake: FakeGoogle, client: GoogleCalendarClient, refresh: str
) -> None:
    fake.fail_next(1, 500, path="/o/oauth2/token")

    with pytest.raises(CalendarProviderError) as failed:
        await client.put_event(
            refresh, "primary", OwnEvent("nmcabcde", "x", "y", _at(12, 9), _at(12, 10))
        )

    assert type(failed.value) is CalendarProviderError
    assert fake.events(TECH) == []


async def test_a_timeout_and_a_dead_host_are_provider_errors(
    fake: FakeGoogle, refresh: str
) -> None:
    slow = _client(fake, timeout=0.3)
    fake.hang_next(1, seconds=1.0, path=CALENDAR)
    try:
        with pytest.raises(CalendarProviderError, match="Timeout") as timed_out:
            await slow.list_events(refresh, "primary", time_min=WINDOW[0], time_max=WINDOW[1])
    finally:
        await slow.aclose()
    assert timed_out.value.status is None

    dead = GoogleCalendarClient(
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
        api_base=f"http://127.0.0.1:{_closed_port()}",
        oauth_base=f"http://127.0.0.1:{_closed_port()}",
        public_base_url=PUBLIC,
    )
    try:
        with pytest.raises(CalendarProviderError, match="ConnectError"):
            await dead.free_busy(refresh, "primary", *WINDOW)
    finally:
        await dead.aclose()


async def test_a_given_http_client_is_used_and_left_open(fake: FakeGoogle, refresh: str) -> None:
    async with httpx.AsyncClient() as http:
        client = GoogleCalendarClient(
            client_id=DEFAULT_CLIENT_ID,
            client_secret=DEFAULT_CLIENT_SECRET,
            api_base=fake.base_url,
            oauth_base=fake.base_url,
            public_base_url=PUBLIC,
            http=http,
        )
        await client.aclose()
        assert not http.is_closed
        assert await client.free_busy(refresh, "primary", *WINDOW) == ()
        assert DEFAULT_CLIENT_SECRET not in repr(client)


# --- the fake's push notifications ---------------------------------------------------------------


class _Receiver(ServedFake):
    """Our webhook, reduced to recording what reaches it."""

    class handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server: FakeServer

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.server.fake.received.append((self.path, dict(self.headers), body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def __init__(self) -> None:
        super().__init__()
        self.received: list[tuple[str, dict[str, str], bytes]] = []


async def test_notifications_carry_googles_headers_and_sync_comes_before_watch_returns(
    fake: FakeGoogle, refresh: str
) -> None:
    fake.sync_before_watch_returns = True
    with _Receiver() as receiver:
        client = _client(fake, public=receiver.base_url)
        try:
            watched = await client.watch(refresh, "primary", channel_id="chan-7", token="tok-7")
            # The `sync` message reached the webhook before watch answered: no waiting here.
            [(path, sync, body)] = receiver.received
            delivery = await fake.anotify("chan-7", "exists")
            await client.stop(refresh, channel_id="chan-7", resource_id=watched.resource_id)
        finally:
            await client.aclose()

    assert (path, body) == ("/webhooks/google/calendar", b"")
    assert sync["X-Goog-Resource-State"] == "sync"
    assert sync["X-Goog-Message-Number"] == "1"
    assert delivery.delivered
    _, exists, _ = receiver.received[1]
    assert {k: v for k, v in exists.items() if k.startswith("X-Goog")} == {
        "X-Goog-Channel-ID": "chan-7",
        "X-Goog-Channel-Token": "tok-7",
        "X-Goog-Channel-Expiration": exists["X-Goog-Channel-Expiration"],
        "X-Goog-Message-Number": "2",
        "X-Goog-Resource-ID": watched.resource_id,
        "X-Goog-Resource-State": "exists",
        "X-Goog-Resource-URI": f"{fake.base_url}{CALENDAR}primary/events?alt=json",
    }
    expiration = email.utils.parsedate_to_datetime(exists["X-Goog-Channel-Expiration"])
    assert abs(expiration - watched.expires_at) < timedelta(seconds=1)
    with pytest.raises(LookupError):  # stopped: Google sends nothing more
        fake.notify("chan-7", "not_exists")


async def test_notifications_reach_an_in_process_app_on_the_running_loop(
    fake: FakeGoogle, client: GoogleCalendarClient, refresh: str
) -> None:
    seen: list[dict[str, str]] = []

    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        seen.append({k.decode(): v.decode() for k, v in scope["headers"]})
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as asgi:
        fake.push = deliver_through(asgi, asyncio.get_running_loop())
        fake.sync_before_watch_returns = True
        await client.watch(refresh, "primary", channel_id="chan-8", token="tok-8")
        delivery = await fake.anotify("chan-8")

    assert delivery.status == 200
    assert [h["x-goog-resource-state"] for h in seen] == ["sync", "exists"]
