"""A small, real HTTP fake of Google's OAuth 2.0 and Calendar API v3 on 127.0.0.1: one base URL
for both (point NMC_GOOGLE_API_BASE and NMC_GOOGLE_OAUTH_BASE at it), with fault injection.

It behaves like Google where our code can tell: authorization codes and refresh tokens per user
(a user's email is their primary calendar's id), access tokens that expire, invalid_grant once a
grant is revoked; per-calendar events with an `updated` sequence; events.list with
singleEvents=true (recurring series are stored as their expanded instances), time-window
filtering, paging, a sync token on the last page only, incremental lists with deleted events as
minimal "cancelled" ones, and 410 fullSyncRequired once a calendar's sync tokens are invalidated
(page tokens included); push channels whose notifications carry Google's headers (the `sync` one
optionally before events.watch answers, as Google may do); freeBusy from the stored events; event
insert with a client id (409 on a duplicate), update, delete (the event stays, cancelled).
"""

from __future__ import annotations

import asyncio
import collections
import copy
import email.utils
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import attrs
import httpx

from tests.support.http_fake import FakeServer, ServedFake

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "GRANTED_SCOPE",
    "Deliver",
    "FakeChannel",
    "FakeDelivery",
    "FakeGoogle",
    "FakeRequest",
    "deliver_through",
]

DEFAULT_CLIENT_ID = "nmc-test-4f9c.apps.googleusercontent.com"
DEFAULT_CLIENT_SECRET = "GOCSPX-FakeGoogleAcmePlumbing00"  # pragma: allowlist secret
GRANTED_SCOPE = (
    "https://www.googleapis.com/auth/calendar.events "
    "https://www.googleapis.com/auth/calendar.freebusy"
)
ACCESS_TOKEN_SECONDS = 3599
MAX_CHANNEL_TTL = 604_800
_EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")  # base32hex, as Google requires of client ids
_CALENDARS = "/calendar/v3/calendars/"
_SUCCESS = frozenset({102, 200, 201, 202, 204})  # what Google counts as a delivered push

# (address, headers) -> the HTTP status the receiver answered
Deliver = Callable[[str, Mapping[str, str]], int]


@attrs.frozen
class FakeRequest:
    """One request the fake received (faults included)."""

    method: str
    path: str  # decoded
    query: Mapping[str, str]
    body: Any  # the decoded form (OAuth) or JSON (API) body; None when empty
    access_token: str | None  # the bearer token, if any


@attrs.frozen
class FakeChannel:
    """A push channel opened by events.watch."""

    id: str
    token: str | None
    address: str
    resource_id: str
    resource_uri: str
    calendar_id: str
    expiration_ms: int
    stopped: bool = False


@attrs.frozen
class FakeDelivery:
    """One push notification the fake POSTed (status None: the receiver could not be reached)."""

    channel_id: str
    state: str
    message_number: int
    headers: Mapping[str, str]
    status: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status in _SUCCESS


@attrs.define
class _Calendar:
    id: str
    time_zone: str
    resource_id: str
    events: dict[str, _Stored] = attrs.field(factory=dict)
    generation: int = 0  # bumped to invalidate every sync and page token of the calendar


@attrs.define
class _Stored:
    body: dict[str, Any]
    seq: int


@attrs.define
class _Grant:
    user: str
    refresh_token: str | None
    revoked: bool = False


@attrs.frozen
class _Cursor:
    calendar_id: str
    items: tuple[dict[str, Any], ...]  # a snapshot taken at the first page
    offset: int
    sync_seq: int  # the sequence the first page saw: the next sync token starts there
    generation: int


@attrs.frozen
class _Fault:
    kind: str  # "fail" or "hang"
    method: str | None
    path: str | None
    status: int = 500
    reason: str | None = None
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or path.startswith(self.path)
        )


class _Refusal(Exception):
    def __init__(self, status: int, payload: dict[str, Any] | None) -> None:
        super().__init__(status)
        self.status, self.payload = status, payload


def _api_error(
    status: int, reason: str, message: str, domain: str = "global", **more: str
) -> _Refusal:
    error = {"domain": domain, "reason": reason, "message": message, **more}
    return _Refusal(status, {"error": {"errors": [error], "code": status, "message": message}})


def _oauth_error(status: int, error: str, description: str) -> _Refusal:
    return _Refusal(status, {"error": error, "error_description": description})


def _bad(message: str, reason: str = "invalid") -> _Refusal:
    return _api_error(400, reason, message)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every answer carries Content-Length
    disable_nagle_algorithm = True
    server: FakeServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.fake._handle(self)

    def do_POST(self) -> None:
        self.server.fake._handle(self)

    def do_PUT(self) -> None:
        self.server.fake._handle(self)

    def do_DELETE(self) -> None:
        self.server.fake._handle(self)

    def reply(
        self, status: int, payload: Mapping[str, Any] | None, headers: Mapping[str, str]
    ) -> None:
        data = b"" if payload is None else json.dumps(payload, indent=1).encode()
        self.send_response(status)
        if payload is not None:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _post_over_http(address: str, headers: Mapping[str, str]) -> int:
    return httpx.post(address, headers=dict(headers), content=b"", timeout=5.0).status_code


def deliver_through(client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> Deliver:
    """A `Deliver` that posts notifications to an in-process app (e.g. Litestar's
    AsyncTestClient) running on `loop`, at the address's path. Call the fake's `anotify` (not
    `notify`) from that loop, or it waits on itself."""

    def deliver(address: str, headers: Mapping[str, str]) -> int:
        url = urlsplit(address)
        target = url.path + (f"?{url.query}" if url.query else "")
        posted = asyncio.run_coroutine_threadsafe(client.post(target, headers=dict(headers)), loop)
        return posted.result(timeout=10).status_code

    return deliver


class FakeGoogle(ServedFake):
    """Google's OAuth 2.0 endpoints and Calendar API v3 for tests.

    `clock` (seconds since the epoch) drives access-token expiry, channel expiration and the
    `updated` stamps; `page_size` caps events.list pages below maxResults; `push` delivers
    notifications (real HTTP by default, see `deliver_through`).
    """

    handler = _Handler

    def __init__(
        self,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        *,
        page_size: int = 250,
        clock: Callable[[], float] = time.time,
        push: Deliver = _post_over_http,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.page_size = page_size
        self.clock = clock
        self.push = push
        self.omit_refresh_token = False  # the token endpoint grants no offline access
        self.sync_before_watch_returns = False  # POST the `sync` push before watch answers
        self.consenting_user: str | None = None  # who "clicks Allow" on the consent page
        self.granted_scope = GRANTED_SCOPE  # what the user left ticked on the consent page
        super().__init__(host, port)
        self._lock = threading.RLock()
        self._seq = 0
        self._calendars: dict[str, _Calendar] = {}
        self._codes: dict[str, tuple[str, str | None]] = {}  # code -> (user, redirect_uri)
        self._grants: dict[str, _Grant] = {}  # refresh token (or a grant id) -> grant
        self._access: dict[str, tuple[_Grant, float]] = {}  # access token -> (grant, expiry)
        self._sync_tokens: dict[str, tuple[str, int, int]] = {}  # -> (calendar, seq, gen)
        self._page_tokens: dict[str, _Cursor] = {}
        self._channels: dict[str, FakeChannel] = {}
        self._message_numbers: collections.Counter[str] = collections.Counter()
        self._faults: list[_Fault] = []
        self._requests: list[FakeRequest] = []
        self._deliveries: list[FakeDelivery] = []

    # --- users, grants and tokens ---------------------------------------------------------------

    def add_calendar(self, user: str, time_zone: str = "UTC") -> str:
        """A Google user whose primary calendar (id: the email) is in `time_zone`."""
        ZoneInfo(time_zone)  # a typo fails here, not in a request
        with self._lock:
            self._calendars.setdefault(
                user, _Calendar(user, time_zone, resource_id=secrets.token_urlsafe(20))
            )
        return user

    def authorize(self, user: str, *, redirect_uri: str | None = None) -> str:
        """An authorization code `user` granted (as if redirected back after consent); with a
        `redirect_uri`, the exchange must name the same one."""
        code = "4/0A" + secrets.token_urlsafe(30)
        with self._lock:
            self._known_user(user)
            self._codes[code] = (user, redirect_uri)
        return code

    def issue_refresh_token(self, user: str) -> str:
        """A refresh token of a grant `user` made (skipping the consent and the exchange)."""
        with self._lock:
            self._known_user(user)
            return self._grant(user).refresh_token or ""

    def revoke_grant(self, refresh_token: str) -> None:
        """The user removed our access in their Google account: invalid_grant from now on."""
        with self._lock:
            self._grants[refresh_token].revoked = True

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is expired (401 on the next API call)."""
        with self._lock:
            self._access = {t: (g, 0.0) for t, (g, _) in self._access.items()}

    def access_tokens_of(self, refresh_token: str) -> list[str]:
        """The access tokens issued for a refresh token, oldest first."""
        with self._lock:
            return [t for t, (g, _) in self._access.items() if g.refresh_token == refresh_token]

    # --- events (as if the user edited the calendar in Google) ---------------------------------

    def set_event(
        self,
        calendar_id: str,
        start: datetime | date,
        end: datetime | date,
        *,
        event_id: str | None = None,
        summary: str = "Busy",
        transparency: str | None = None,
        status: str = "confirmed",
        private: Mapping[str, str] | None = None,
        recurring_event_id: str | None = None,
    ) -> str:
        """Create or replace an event (timed: aware datetimes; all-day: dates, end exclusive);
        returns its id."""
        with self._lock:
            calendar = self._calendars[calendar_id]
            zone = calendar.time_zone
            body: dict[str, Any] = {
                "id": event_id or _new_event_id(),
                "status": status,
                "summary": summary,
                "start": _when(start, zone),
                "end": _when(end, zone),
            }
            if transparency is not None:
                body["transparency"] = transparency
            if private:
                body["extendedProperties"] = {"private": dict(private)}
            if recurring_event_id is not None:
                body["recurringEventId"] = recurring_event_id
                body["originalStartTime"] = _when(start, zone)
            self._store(calendar, body)
            return str(body["id"])

    def add_recurring(
        self,
        calendar_id: str,
        first_start: datetime | date,
        duration: timedelta,
        count: int,
        *,
        every: timedelta = timedelta(weeks=1),
        series_id: str | None = None,
        summary: str = "Weekly",
        transparency: str | None = None,
    ) -> list[str]:
        """A recurring series as Google lists it with singleEvents=true: `count` instances with
        ids `{series}_{YYYYMMDDTHHMMSSZ}` (all-day: `{series}_{YYYYMMDD}`) and recurringEventId.
        A timed series repeats at the same wall-clock time in the calendar's zone (across DST
        changes, as Google does)."""
        series = series_id or _new_event_id()
        with self._lock:
            zone = ZoneInfo(self._calendars[calendar_id].time_zone)
        ids = []
        for n in range(count):
            start: datetime | date
            end: datetime | date
            if isinstance(first_start, datetime):
                # Wall-clock arithmetic: an aware datetime plus a timedelta keeps its local
                # time, and ZoneInfo gives the offset of the new date.
                start = first_start.astimezone(zone) + n * every
                end = start + duration
                instance = f"{series}_{start.astimezone(UTC):%Y%m%dT%H%M%SZ}"
            else:
                start = first_start + n * every
                end = start + duration
                instance = f"{series}_{start:%Y%m%d}"
            ids.append(
                self.set_event(
                    calendar_id,
                    start,
                    end,
                    event_id=instance,
                    summary=summary,
                    transparency=transparency,
                    recurring_event_id=series,
                )
            )
        return ids

    def cancel_event(self, calendar_id: str, event_id: str) -> None:
        """Delete the event (or one instance of a series): it stays, as "cancelled"."""
        with self._lock:
            calendar = self._calendars[calendar_id]
            body = calendar.events[event_id].body
            self._store(calendar, {**body, "status": "cancelled"})

    def event(self, calendar_id: str, event_id: str) -> dict[str, Any] | None:
        """The event as stored (cancelled ones too), or None."""
        with self._lock:
            stored = self._calendars[calendar_id].events.get(event_id)
            return None if stored is None else copy.deepcopy(stored.body)

    def events(self, calendar_id: str, *, cancelled: bool = False) -> list[dict[str, Any]]:
        """The calendar's events (without the cancelled ones unless asked), by start."""
        with self._lock:
            calendar = self._calendars[calendar_id]
            found = [
                copy.deepcopy(s.body)
                for s in calendar.events.values()
                if cancelled or s.body["status"] != "cancelled"
            ]
            zone = calendar.time_zone
        return sorted(found, key=lambda b: (_bounds(b, zone)[0], b["id"]))

    def invalidate_sync_tokens(self, calendar_id: str) -> None:
        """Google forgot the calendar's sync state: its sync and page tokens answer 410."""
        with self._lock:
            self._calendars[calendar_id].generation += 1

    # --- push channels ------------------------------------------------------------------------

    @property
    def channels(self) -> list[FakeChannel]:
        with self._lock:
            return list(self._channels.values())

    def live_channels(self, calendar_id: str) -> list[FakeChannel]:
        now_ms = int(self.clock() * 1000)
        return [
            c
            for c in self.channels
            if c.calendar_id == calendar_id and not c.stopped and c.expiration_ms > now_ms
        ]

    def notify(self, channel_id: str, state: str = "exists") -> FakeDelivery:
        """POST a push notification (state sync, exists or not_exists) to the channel's
        address, with Google's headers; LookupError for a stopped or expired channel."""
        with self._lock:
            channel = self._channels.get(channel_id)
            if channel is None or channel.stopped or channel.expiration_ms <= self.clock() * 1000:
                raise LookupError(f"no live channel {channel_id!r}")
            self._message_numbers[channel_id] += 1
            number = self._message_numbers[channel_id]
        expiration = email.utils.formatdate(channel.expiration_ms / 1000, usegmt=True)
        headers = {
            "X-Goog-Channel-ID": channel.id,
            "X-Goog-Channel-Expiration": expiration,
            "X-Goog-Message-Number": str(number),
            "X-Goog-Resource-ID": channel.resource_id,
            "X-Goog-Resource-State": state,
            "X-Goog-Resource-URI": channel.resource_uri,
            "Content-Length": "0",
        }
        if channel.token is not None:
            headers["X-Goog-Channel-Token"] = channel.token
        try:
            delivery = FakeDelivery(
                channel.id, state, number, headers, self.push(channel.address, headers)
            )
        except Exception as exc:  # the receiver is down: Google would try again later
            delivery = FakeDelivery(channel.id, state, number, headers, None, repr(exc))
        with self._lock:
            self._deliveries.append(delivery)
        return delivery

    async def anotify(self, channel_id: str, state: str = "exists") -> FakeDelivery:
        """`notify` for async code (in a thread: the receiver may run on this loop)."""
        return await asyncio.to_thread(self.notify, channel_id, state)

    def notify_calendar(self, calendar_id: str, state: str = "exists") -> list[FakeDelivery]:
        """A notification on every live channel of the calendar."""
        return [self.notify(c.id, state) for c in self.live_channels(calendar_id)]

    @property
    def deliveries(self) -> list[FakeDelivery]:
        with self._lock:
            return list(self._deliveries)

    # --- faults and the request log ------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        *,
        path: str | None = None,
        method: str | None = None,
        reason: str | None = None,
    ) -> None:
        """The next n requests (to paths starting with `path`, of `method`) answer `status`
        and do nothing. 403 comes with `reason` (default rateLimitExceeded)."""
        with self._lock:
            self._faults.extend([_Fault("fail", method, path, status=status, reason=reason)] * n)

    def hang_next(
        self,
        n: int = 1,
        seconds: float = 2.0,
        *,
        path: str | None = None,
        method: str | None = None,
    ) -> None:
        """The next n matching requests take effect, then their answer waits `seconds`."""
        with self._lock:
            self._faults.extend([_Fault("hang", method, path, seconds=seconds)] * n)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def requests(self) -> list[FakeRequest]:
        with self._lock:
            return list(self._requests)

    # --- HTTP ---------------------------------------------------------------------------------

    def _handle(self, req: _Handler) -> None:
        url = urlsplit(req.path)
        raw = req.rfile.read(int(req.headers.get("Content-Length") or 0))
        path = unquote(url.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        auth = req.headers.get("Authorization") or ""
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        status: int = 200
        payload: dict[str, Any] | None = None
        headers: dict[str, str] = {}
        fault: _Fault | None = None
        try:
            body = _decode(raw, req.headers.get("Content-Type") or "")
            with self._lock:
                self._requests.append(FakeRequest(req.command, path, query, body, token))
                fault = next((f for f in self._faults if f.matches(req.command, path)), None)
                if fault is not None:
                    self._faults.remove(fault)
            if fault is not None and fault.kind == "fail":
                raise _injected(fault)
            status, payload, headers = self._route(req.command, url.path, query, body, token)
        except _Refusal as refusal:
            status, payload = refusal.status, refusal.payload
            if status == 401:
                headers = {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
        if fault is not None and fault.kind == "hang":
            time.sleep(fault.seconds)
        req.reply(status, payload, headers)

    def _route(
        self, method: str, raw_path: str, query: Mapping[str, str], body: Any, token: str | None
    ) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        path = unquote(raw_path)
        if path == "/o/oauth2/v2/auth" and method == "GET":
            return 302, None, {"Location": self._consent(query)}
        if path == "/o/oauth2/token" and method == "POST":
            return 200, self._token(_form(body)), {}
        if path == "/o/oauth2/revoke" and method == "POST":
            self._revoke({**query, **_form(body)})
            return 200, {}, {}
        if not path.startswith("/calendar/v3/"):
            raise _api_error(404, "notFound", "Not Found")
        user = self._authenticate(token)
        if path == "/calendar/v3/freeBusy" and method == "POST":
            return 200, self._free_busy(user, _json(body)), {}
        if path == "/calendar/v3/channels/stop" and method == "POST":
            self._stop(_json(body))
            return 204, None, {}
        parts = [unquote(p) for p in raw_path.removeprefix(_CALENDARS).split("/")]
        if not raw_path.startswith(_CALENDARS) or len(parts) < 2 or parts[1] != "events":
            raise _api_error(404, "notFound", "Not Found")
        calendar_id, rest = parts[0], parts[2:]
        if rest == [] and method == "GET":
            return 200, self._list(user, calendar_id, query), {}
        if rest == [] and method == "POST":
            return 200, self._insert(user, calendar_id, _json(body)), {}
        if rest == ["watch"] and method == "POST":
            return 200, self._watch(user, calendar_id, _json(body)), {}
        if len(rest) == 1 and method == "GET":
            return 200, self._get(user, calendar_id, rest[0]), {}
        if len(rest) == 1 and method == "PUT":
            return 200, self._update(user, calendar_id, rest[0], _json(body)), {}
        if len(rest) == 1 and method == "DELETE":
            self._delete(user, calendar_id, rest[0])
            return 204, None, {}
        raise _api_error(404, "notFound", "Not Found")

    # --- OAuth ----------------------------------------------------------------------------------

    def _consent(self, query: Mapping[str, str]) -> str:
        if query.get("client_id") != self.client_id:
            raise _oauth_error(401, "invalid_client", "The OAuth client was not found.")
        redirect_uri = query.get("redirect_uri") or ""
        if not redirect_uri or query.get("response_type") != "code" or not query.get("scope"):
            raise _oauth_error(400, "invalid_request", "Required parameter is missing")
        answer = {"state": query["state"]} if "state" in query else {}
        if self.consenting_user is None:
            answer["error"] = "access_denied"
        else:
            answer["code"] = self.authorize(self.consenting_user, redirect_uri=redirect_uri)
            answer["scope"] = query["scope"]
        return f"{redirect_uri}?{urlencode(answer)}"

    def _token(self, form: Mapping[str, str]) -> dict[str, Any]:
        if form.get("client_id") != self.client_id or not secrets.compare_digest(
            form.get("client_secret", ""), self.client_secret
        ):
            raise _oauth_error(401, "invalid_client", "The OAuth client was not found.")
        grant_type = form.get("grant_type")
        with self._lock:
            if grant_type == "authorization_code":
                found = self._codes.pop(form.get("code", ""), None)  # single use
                if found is None:
                    raise _oauth_error(400, "invalid_grant", "Malformed auth code.")
                user, redirect_uri = found
                if redirect_uri is not None and form.get("redirect_uri") != redirect_uri:
                    raise _oauth_error(400, "redirect_uri_mismatch", "Bad Request")
                grant = self._grant(user, offline=not self.omit_refresh_token)
                answer = self._access_token(grant)
                if grant.refresh_token is not None:
                    answer["refresh_token"] = grant.refresh_token
                return answer
            if grant_type == "refresh_token":
                known = self._grants.get(form.get("refresh_token", ""))
                if known is None or known.revoked or known.refresh_token is None:
                    raise _oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
                return self._access_token(known)
        raise _oauth_error(400, "unsupported_grant_type", "Invalid grant_type: " + str(grant_type))

    def _grant(self, user: str, *, offline: bool = True) -> _Grant:
        refresh_token = "1//0g" + secrets.token_urlsafe(40) if offline else None
        grant = _Grant(user, refresh_token)
        self._grants[refresh_token or secrets.token_hex(8)] = grant
        return grant

    def _access_token(self, grant: _Grant) -> dict[str, Any]:
        token = "ya29.a0" + secrets.token_urlsafe(60)
        self._access[token] = (grant, self.clock() + ACCESS_TOKEN_SECONDS)
        return {
            "access_token": token,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "scope": self.granted_scope,
            "token_type": "Bearer",
        }

    def _revoke(self, form: Mapping[str, str]) -> None:
        token = form.get("token", "")
        with self._lock:
            grant = self._grants.get(token) or self._access.get(token, (None, 0.0))[0]
            if grant is None or grant.revoked:
                raise _oauth_error(400, "invalid_token", "Token expired or revoked")
            grant.revoked = True

    def _authenticate(self, token: str | None) -> str:
        with self._lock:
            grant, expires_at = self._access.get(token or "", (None, 0.0))
            if grant is None or grant.revoked or expires_at <= self.clock():
                raise _api_error(
                    401,
                    "authError",
                    "Invalid Credentials",
                    location="Authorization",
                    locationType="header",
                )
            return grant.user

    def _known_user(self, user: str) -> None:
        if user not in self._calendars:
            raise KeyError(f"no Google user {user!r}: add_calendar first")

    # --- Calendar API ---------------------------------------------------------------------------

    def _calendar(self, user: str, calendar_id: str) -> _Calendar:
        calendar = self._calendars.get(user if calendar_id == "primary" else calendar_id)
        if calendar is None or calendar.id != user:  # one's own calendar only
            raise _api_error(404, "notFound", "Not Found")
        return calendar

    def _list(self, user: str, calendar_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        if query.get("singleEvents") != "true":
            raise _bad("This fake lists with singleEvents=true only.")
        try:
            max_results = int(query.get("maxResults", "250"))
        except ValueError:
            raise _bad("Invalid value for maxResults") from None
        if not 1 <= max_results <= 2500:
            raise _bad("Invalid value for maxResults")
        with self._lock:
            calendar = self._calendar(user, calendar_id)
            page_token = query.get("pageToken")
            if page_token is not None:
                cursor = self._page_tokens.get(page_token)
                if cursor is None or cursor.calendar_id != calendar.id:
                    raise _bad("Invalid page token value.")
            else:
                cursor = _Cursor(
                    calendar.id, self._select(calendar, query), 0, self._seq, calendar.generation
                )
            if cursor.generation != calendar.generation:
                raise _api_error(
                    410,
                    "fullSyncRequired",
                    "Sync token is no longer valid, a full sync is required.",
                )
            end = cursor.offset + min(max_results, self.page_size)
            answer: dict[str, Any] = {
                "kind": "calendar#events",
                "etag": f'"{self._seq}"',
                "summary": calendar.id,
                "updated": _stamp(self.clock()),
                "timeZone": calendar.time_zone,
                "accessRole": "owner",
                "defaultReminders": [],
                "items": list(cursor.items[cursor.offset : end]),
            }
            if end < len(cursor.items):
                token = secrets.token_urlsafe(24)
                self._page_tokens[token] = attrs.evolve(cursor, offset=end)
                answer["nextPageToken"] = token
            else:
                token = "CP" + secrets.token_urlsafe(18)
                self._sync_tokens[token] = (calendar.id, cursor.sync_seq, calendar.generation)
                answer["nextSyncToken"] = token
            return answer

    def _select(self, calendar: _Calendar, query: Mapping[str, str]) -> tuple[dict[str, Any], ...]:
        sync_token = query.get("syncToken")
        if sync_token is not None:
            refused = {"timeMin", "timeMax", "updatedMin", "orderBy", "q", "iCalUID"} & set(query)
            if refused or query.get("showDeleted") == "false":
                raise _bad(f"{', '.join(sorted(refused)) or 'showDeleted=false'} with syncToken")
            since = self._sync_tokens.get(sync_token)
            if since is None or since[0] != calendar.id or since[2] != calendar.generation:
                raise _api_error(
                    410,
                    "fullSyncRequired",
                    "Sync token is no longer valid, a full sync is required.",
                )
            changed = sorted(
                (s for s in calendar.events.values() if s.seq > since[1]), key=lambda s: s.seq
            )
            return tuple(_listed(s.body) for s in changed)
        low, high = _instant(query.get("timeMin")), _instant(query.get("timeMax"))
        show_deleted = query.get("showDeleted") == "true"
        found = []
        for stored in calendar.events.values():
            start, end = _bounds(stored.body, calendar.time_zone)
            if stored.body["status"] == "cancelled" and not show_deleted:
                continue
            if (low is None or end > low) and (high is None or start < high):
                found.append((start, stored.body["id"], _listed(stored.body)))
        return tuple(body for _, _, body in sorted(found, key=lambda f: (f[0], f[1])))

    def _insert(self, user: str, calendar_id: str, body: dict[str, Any]) -> dict[str, Any]:
        event_id = body.get("id") or _new_event_id()
        if not isinstance(event_id, str) or not _EVENT_ID.match(event_id):
            raise _bad("Invalid resource id value.")
        with self._lock:
            calendar = self._calendar(user, calendar_id)
            _check_times(body, calendar.time_zone)
            if event_id in calendar.events:  # cancelled ones too
                raise _api_error(409, "duplicate", "The requested identifier already exists.")
            event = {**_writable(body), "id": event_id, "status": body.get("status", "confirmed")}
            return self._store(calendar, event)

    def _update(
        self, user: str, calendar_id: str, event_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        with self._lock:
            calendar = self._calendar(user, calendar_id)
            stored = calendar.events.get(event_id)
            if stored is None:
                raise _api_error(404, "notFound", "Not Found")
            _check_times(body, calendar.time_zone)
            # A full replacement, except that a cancelled event stays cancelled unless the
            # body says otherwise.
            event = {
                **_writable(body),
                "id": event_id,
                "status": body.get("status", stored.body["status"]),
            }
            return self._store(calendar, event)

    def _get(self, user: str, calendar_id: str, event_id: str) -> dict[str, Any]:
        with self._lock:
            stored = self._calendar(user, calendar_id).events.get(event_id)
            if stored is None:
                raise _api_error(404, "notFound", "Not Found")
            return copy.deepcopy(stored.body)

    def _delete(self, user: str, calendar_id: str, event_id: str) -> None:
        with self._lock:
            calendar = self._calendar(user, calendar_id)
            stored = calendar.events.get(event_id)
            if stored is None:
                raise _api_error(404, "notFound", "Not Found")
            if stored.body["status"] == "cancelled":
                raise _api_error(410, "deleted", "Resource has been deleted")
            self._store(calendar, {**stored.body, "status": "cancelled"})

    def _store(self, calendar: _Calendar, body: dict[str, Any]) -> dict[str, Any]:
        self._seq += 1
        old = calendar.events.get(body["id"])
        stamp = _stamp(self.clock())
        event = {
            "kind": "calendar#event",
            "etag": f'"{self._seq}"',
            "htmlLink": f"https://www.google.com/calendar/event?eid={body['id']}",
            "created": old.body["created"] if old else stamp,
            "updated": stamp,
            "creator": {"email": calendar.id, "self": True},
            "organizer": {"email": calendar.id, "self": True},
            "iCalUID": f"{body.get('recurringEventId') or body['id']}@google.com",
            "sequence": 0,
            "eventType": "default",
            **copy.deepcopy(body),
        }
        calendar.events[body["id"]] = _Stored(event, self._seq)
        return copy.deepcopy(event)

    def _watch(self, user: str, calendar_id: str, body: dict[str, Any]) -> dict[str, Any]:
        channel_id, address = body.get("id"), body.get("address")
        if not isinstance(channel_id, str) or not channel_id:
            raise _bad("Missing channel id.", "required")
        if body.get("type") not in ("web_hook", "webhook"):
            raise _bad("Invalid channel type.", "invalidChannelType")
        if not isinstance(address, str) or not address.startswith(("http://", "https://")):
            raise _bad("Invalid address.", "invalidAddress")
        try:
            ttl = min(int((body.get("params") or {}).get("ttl", MAX_CHANNEL_TTL)), MAX_CHANNEL_TTL)
        except ValueError:
            raise _bad("Invalid ttl.") from None
        with self._lock:
            calendar = self._calendar(user, calendar_id)
            if channel_id in self._channels:
                raise _bad(f"Channel id {channel_id} not unique", "channelIdNotUnique")
            channel = FakeChannel(
                id=channel_id,
                token=body.get("token"),
                address=address,
                resource_id=calendar.resource_id,
                resource_uri=(
                    f"{self.base_url}{_CALENDARS}{quote(calendar_id, safe='')}/events?alt=json"
                ),
                calendar_id=calendar.id,
                expiration_ms=int((self.clock() + ttl) * 1000),
            )
            self._channels[channel_id] = channel
        if self.sync_before_watch_returns:
            self.notify(channel_id, "sync")
        answer = {
            "kind": "api#channel",
            "id": channel.id,
            "resourceId": channel.resource_id,
            "resourceUri": channel.resource_uri,
            "expiration": str(channel.expiration_ms),
        }
        if channel.token is not None:
            answer["token"] = channel.token
        return answer

    def _stop(self, body: dict[str, Any]) -> None:
        with self._lock:
            channel = self._channels.get(str(body.get("id")))
            if channel is None or channel.stopped or channel.resource_id != body.get("resourceId"):
                raise _api_error(404, "notFound", f"Channel '{body.get('id')}' not found")
            self._channels[channel.id] = attrs.evolve(channel, stopped=True)

    def _free_busy(self, user: str, body: dict[str, Any]) -> dict[str, Any]:
        low, high = _instant(body.get("timeMin")), _instant(body.get("timeMax"))
        if low is None or high is None:
            raise _bad("Missing timeMin or timeMax.", "required")
        if high <= low:
            raise _bad("The specified time range is empty.", "timeRangeEmpty")
        answer: dict[str, Any] = {}
        with self._lock:
            for item in body.get("items") or []:
                wanted = str(item.get("id"))
                try:
                    calendar = self._calendar(user, wanted)
                except _Refusal:
                    answer[wanted] = {
                        "errors": [{"domain": "global", "reason": "notFound"}],
                        "busy": [],
                    }
                    continue
                answer[wanted] = {"busy": _busy(calendar, low, high)}
        return {
            "kind": "calendar#freeBusy",
            "timeMin": _stamp(low.timestamp(), millis=False),
            "timeMax": _stamp(high.timestamp(), millis=False),
            "calendars": answer,
        }


# --- helpers -------------------------------------------------------------------------------------


def _injected(fault: _Fault) -> _Refusal:
    if fault.status == 401:
        return _api_error(401, "authError", "Invalid Credentials", location="Authorization")
    if fault.status == 429 or (fault.status == 403 and fault.reason in (None, "rateLimitExceeded")):
        return _api_error(fault.status, "rateLimitExceeded", "Rate Limit Exceeded", "usageLimits")
    if fault.status == 403:
        return _api_error(403, fault.reason or "forbidden", "Forbidden", "usageLimits")
    return _api_error(fault.status, "backendError", "Backend Error (injected)")


def _decode(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    text = raw.decode()
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(text, keep_blank_values=True))
    try:
        return json.loads(text)
    except ValueError:
        raise _api_error(400, "parseError", "Parse Error") from None


def _form(body: Any) -> Mapping[str, str]:
    return body if isinstance(body, dict) else {}


def _json(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _api_error(400, "parseError", "Parse Error")
    return body


def _new_event_id() -> str:
    alphabet = "0123456789abcdefghijklmnopqrstuv"
    return "".join(secrets.choice(alphabet) for _ in range(26))


def _stamp(seconds: float, *, millis: bool = True) -> str:
    shape = "%Y-%m-%dT%H:%M:%S.000Z" if millis else "%Y-%m-%dT%H:%M:%SZ"
    return datetime.fromtimestamp(seconds, UTC).strftime(shape)


def _instant(value: object) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise _bad(f"Invalid value: {value}") from None
    if moment.tzinfo is None:  # Google wants an offset on timeMin/timeMax
        raise _bad(f"Invalid value: {value}")
    return moment


def _when(moment: datetime | date, zone: str) -> dict[str, str]:
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValueError("timed events need aware datetimes")
        return {"dateTime": moment.astimezone(ZoneInfo(zone)).isoformat(), "timeZone": zone}
    return {"date": moment.isoformat()}


def _when_of(when: Mapping[str, Any], zone: str) -> datetime:
    if "dateTime" in when:
        moment = datetime.fromisoformat(when["dateTime"])
        return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(when["timeZone"]))
    return datetime.combine(date.fromisoformat(when["date"]), datetime.min.time(), ZoneInfo(zone))


def _bounds(body: Mapping[str, Any], zone: str) -> tuple[datetime, datetime]:
    return _when_of(body["start"], zone), _when_of(body["end"], zone)


def _check_times(body: Mapping[str, Any], zone: str) -> None:
    for side in ("start", "end"):
        when = body.get(side)
        if not isinstance(when, dict) or not ({"dateTime", "date"} & set(when)):
            raise _bad(f"Missing {side} time.", "required")
        if "dateTime" in when and "timeZone" not in when:
            try:
                if datetime.fromisoformat(when["dateTime"]).tzinfo is None:
                    raise _bad(f"Missing time zone definition for {side} time.", "required")
            except ValueError:
                raise _bad(f"Invalid {side} time.") from None
    start, end = _bounds(body, zone)
    if end <= start:
        raise _bad("The specified time range is empty.", "timeRangeEmpty")


def _writable(body: Mapping[str, Any]) -> dict[str, Any]:
    fields = (
        "summary",
        "description",
        "location",
        "start",
        "end",
        "transparency",
        "extendedProperties",
        "recurringEventId",
        "originalStartTime",
        "colorId",
        "reminders",
    )
    return {k: copy.deepcopy(body[k]) for k in fields if k in body}


def _listed(body: Mapping[str, Any]) -> dict[str, Any]:
    """The event as events.list shows it: a cancelled one keeps only what identifies it."""
    if body["status"] != "cancelled":
        return copy.deepcopy(dict(body))
    keep = ("kind", "etag", "id", "status", "recurringEventId", "originalStartTime")
    return {k: copy.deepcopy(body[k]) for k in keep if k in body}


def _busy(calendar: _Calendar, low: datetime, high: datetime) -> list[dict[str, str]]:
    spans = []
    for stored in calendar.events.values():
        body = stored.body
        if body["status"] == "cancelled" or body.get("transparency") == "transparent":
            continue
        start, end = _bounds(body, calendar.time_zone)
        if end > low and start < high:
            spans.append((max(start, low), min(end, high)))
    merged: list[list[datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [
        {
            "start": _stamp(start.timestamp(), millis=False),
            "end": _stamp(end.timestamp(), millis=False),
        }
        for start, end in merged
    ]
