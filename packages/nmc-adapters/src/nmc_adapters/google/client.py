"""Google Calendar client: OAuth 2.0 (code exchange, refresh, revoke) and Calendar API v3
(events.list, events.watch, channels.stop, freeBusy, events insert/update/delete) over httpx.

Access tokens are cached per refresh token (keyed by its SHA-256, never by the token itself)
until a minute before they expire; a 401 from the API drops the cached token, refreshes once and
retries once. No other retries: the outbox and the sync job own the retry budget. Tokens never
appear in messages, reprs or logs.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, Final
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import httpx

from nmc_domain.scheduling.google_ports import (
    CalendarAccessRevoked,
    CalendarProviderError,
    EventsPage,
    GoogleEvent,
    OwnEvent,
    SyncTokenExpired,
    WatchedChannel,
)

__all__ = [
    "CALLBACK_PATH",
    "DEFAULT_GOOGLE_API_BASE",
    "DEFAULT_GOOGLE_OAUTH_BASE",
    "SCOPES",
    "WEBHOOK_PATH",
    "GoogleCalendarClient",
]

DEFAULT_GOOGLE_API_BASE: Final = "https://www.googleapis.com"
DEFAULT_GOOGLE_OAUTH_BASE: Final = "https://accounts.google.com"
CALLBACK_PATH: Final = "/oauth/google/callback"
WEBHOOK_PATH: Final = "/webhooks/google/calendar"
SCOPES: Final = (
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.freebusy",
)
_PAGE_SIZE: Final = 250
_CHANNEL_TTL_SECONDS: Final = 604_800  # seven days, what Google grants at most for events
_EXPIRY_MARGIN_SECONDS: Final = 60.0  # refresh this long before Google's expiry
_RATE_LIMITED: Final = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
_DETAIL_LIMIT: Final = 200


@attrs.frozen
class _Cached:
    access_token: str
    expires_at: float  # on the client's clock


class GoogleCalendarClient:
    """`GoogleCalendarApi` over httpx; base URLs are configurable so tests use a local fake."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        public_base_url: str,
        api_base: str = DEFAULT_GOOGLE_API_BASE,
        oauth_base: str = DEFAULT_GOOGLE_OAUTH_BASE,
        http: httpx.AsyncClient | None = None,
        timeout_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._api = api_base.rstrip("/") + "/calendar/v3"
        self._oauth = oauth_base.rstrip("/") + "/o/oauth2"
        public = public_base_url.rstrip("/")
        self._redirect_uri = public + CALLBACK_PATH
        self._webhook_address = public + WEBHOOK_PATH
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient()
        self._timeout = httpx.Timeout(timeout_seconds)
        self._clock = clock
        self._tokens: dict[str, _Cached] = {}  # SHA-256 of the refresh token -> access token

    def __repr__(self) -> str:
        # Never show the secret or a token, even in a debugger or a log of this object.
        return f"GoogleCalendarClient(api={self._api!r}, client_id={self._client_id!r})"

    async def aclose(self) -> None:
        """Close the HTTP client, when this object made it."""
        if self._owns_http:
            await self._http.aclose()

    # --- OAuth ----------------------------------------------------------------------------------

    def consent_url(self, state: str) -> str:
        query = urlencode(
            {
                "client_id": self._client_id,
                "redirect_uri": self._redirect_uri,
                "response_type": "code",
                "scope": " ".join(SCOPES),
                "access_type": "offline",  # a refresh token
                "prompt": "consent",  # ... every time, not only on the first consent
                "include_granted_scopes": "true",
                "state": state,
            }
        )
        return f"{self._oauth}/v2/auth?{query}"

    async def exchange_code(self, code: str) -> str:
        answer = await self._token_request(
            "exchange the authorization code",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self._redirect_uri,
            },
        )
        refresh_token = answer.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            raise CalendarProviderError(
                "Google granted no offline access (no refresh token): connect again and allow "
                "offline access"
            )
        granted = set(str(answer.get("scope") or "").split())
        if "scope" in answer and not granted.issuperset(SCOPES):
            missing = ", ".join(s.rsplit("/", 1)[-1] for s in SCOPES if s not in granted)
            raise CalendarProviderError(f"Google granted too little access (missing: {missing})")
        self._remember(refresh_token, answer)  # the connect flow calls the API right after
        return refresh_token

    async def revoke(self, refresh_token: str) -> None:
        self._tokens.pop(_key(refresh_token), None)
        response = await self._send(
            "revoke the grant", "POST", f"{self._oauth}/revoke", data={"token": refresh_token}
        )
        if response.is_success or _oauth_error(response) == "invalid_token":
            return  # revoked now, or already
        raise _failure("revoke the grant", response)

    async def _access_token(self, refresh_token: str) -> str:
        cached = self._tokens.get(_key(refresh_token))
        if cached is not None and self._clock() < cached.expires_at:
            return cached.access_token
        answer = await self._token_request(
            "refresh the access token",
            {"grant_type": "refresh_token", "refresh_token": refresh_token},
        )
        return self._remember(refresh_token, answer)

    def _remember(self, refresh_token: str, answer: Mapping[str, Any]) -> str:
        access_token = answer.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise CalendarProviderError("Google's token answer carried no access token")
        expires_in = answer.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 0.0
        now = self._clock()
        # Forget the expired ones while here: the cache holds one entry per live grant.
        self._tokens = {k: v for k, v in self._tokens.items() if v.expires_at > now}
        self._tokens[_key(refresh_token)] = _Cached(
            access_token, now + lifetime - _EXPIRY_MARGIN_SECONDS
        )
        return access_token

    async def _token_request(self, what: str, form: Mapping[str, str]) -> Mapping[str, Any]:
        form = {**form, "client_id": self._client_id, "client_secret": self._client_secret}
        response = await self._send(what, "POST", f"{self._oauth}/token", data=form)
        if response.is_success:
            answer = _json_object(response)
            if answer is None:
                raise CalendarProviderError(f"could not {what}: unreadable answer from Google")
            return answer
        error = _oauth_error(response)
        if error == "invalid_grant" and form["grant_type"] == "refresh_token":
            raise CalendarAccessRevoked(
                "Google refused the refresh token (invalid_grant): the technician has to "
                "connect the calendar again",
                status=response.status_code,
            )
        raise _failure(what, response)

    # --- Calendar API ---------------------------------------------------------------------------

    async def list_events(
        self,
        refresh_token: str,
        calendar_id: str,
        *,
        sync_token: str | None = None,
        time_min: datetime | None = None,
        time_max: datetime | None = None,
        page_token: str | None = None,
    ) -> EventsPage:
        params = {"singleEvents": "true", "maxResults": str(_PAGE_SIZE)}
        if sync_token is not None:
            if time_min is not None or time_max is not None:
                raise ValueError("a sync-token request takes no time range (Google refuses one)")
            # Deleted events always come back on a sync-token request (showDeleted may not be
            # false there).
            params["syncToken"] = sync_token
        else:
            params["showDeleted"] = "false"
            if time_min is not None:
                params["timeMin"] = _rfc3339(time_min)
            if time_max is not None:
                params["timeMax"] = _rfc3339(time_max)
        if page_token is not None:
            params["pageToken"] = page_token
        what = "list the calendar's events"
        response = await self._api_call(
            what, refresh_token, "GET", f"{self._calendar(calendar_id)}/events", params=params
        )
        if response.status_code == 410:
            raise SyncTokenExpired(
                "Google needs a full sync (410: the sync or page token is no longer valid)",
                status=410,
            )
        answer = self._success(what, response)
        zone = _str(answer.get("timeZone"))
        items = answer.get("items") or []
        if not isinstance(items, list):
            raise CalendarProviderError(f"could not {what}: unreadable answer from Google")
        return EventsPage(
            events=tuple(_event(item, zone) for item in items),
            next_page_token=_str(answer.get("nextPageToken")),
            next_sync_token=_str(answer.get("nextSyncToken")),
            time_zone=zone,
        )

    async def watch(
        self, refresh_token: str, calendar_id: str, *, channel_id: str, token: str
    ) -> WatchedChannel:
        what = "open a push channel"
        response = await self._api_call(
            what,
            refresh_token,
            "POST",
            f"{self._calendar(calendar_id)}/events/watch",
            json={
                "id": channel_id,
                "type": "web_hook",
                "address": self._webhook_address,
                "token": token,
                "params": {"ttl": str(_CHANNEL_TTL_SECONDS)},
            },
        )
        answer = self._success(what, response)
        resource_id, expiration = answer.get("resourceId"), answer.get("expiration")
        try:
            expires_at = datetime.fromtimestamp(int(str(expiration)) / 1000, UTC)
        except ValueError:
            expires_at = None
        if not isinstance(resource_id, str) or not resource_id or expires_at is None:
            raise CalendarProviderError(f"could not {what}: unreadable answer from Google")
        return WatchedChannel(resource_id=resource_id, expires_at=expires_at)

    async def stop(self, refresh_token: str, *, channel_id: str, resource_id: str) -> None:
        what = "stop a push channel"
        response = await self._api_call(
            what,
            refresh_token,
            "POST",
            f"{self._api}/channels/stop",
            json={"id": channel_id, "resourceId": resource_id},
        )
        if response.status_code != 404:  # stopped already (or expired): fine
            self._success(what, response, empty=True)

    async def free_busy(
        self, refresh_token: str, calendar_id: str, start: datetime, end: datetime
    ) -> tuple[tuple[datetime, datetime], ...]:
        what = "query free/busy"
        response = await self._api_call(
            what,
            refresh_token,
            "POST",
            f"{self._api}/freeBusy",
            json={
                "timeMin": _rfc3339(start),
                "timeMax": _rfc3339(end),
                "items": [{"id": calendar_id}],
            },
        )
        calendars = self._success(what, response).get("calendars")
        if not isinstance(calendars, dict):
            raise CalendarProviderError(f"could not {what}: unreadable answer from Google")
        found = calendars.get(calendar_id)
        if found is None and len(calendars) == 1:  # keyed by the calendar's own id
            found = next(iter(calendars.values()))
        if not isinstance(found, dict):
            raise CalendarProviderError(f"could not {what}: Google did not answer for it")
        errors = found.get("errors")
        if errors:
            reasons = ", ".join(str(e.get("reason")) for e in errors if isinstance(e, dict))
            raise CalendarProviderError(f"could not {what}: {reasons or 'error'}")
        try:
            return tuple(_interval(b) for b in found.get("busy") or [])
        except (AttributeError, TypeError, ValueError):
            raise CalendarProviderError(
                f"could not {what}: unreadable answer from Google"
            ) from None

    async def put_event(self, refresh_token: str, calendar_id: str, event: OwnEvent) -> None:
        body: dict[str, Any] = {
            "id": event.id,
            "summary": event.summary,
            "description": event.description,
            "start": {"dateTime": _rfc3339(event.start)},
            "end": {"dateTime": _rfc3339(event.end)},
            "extendedProperties": {"private": dict(event.private)},
        }
        events = f"{self._calendar(calendar_id)}/events"
        what = "insert the event"
        response = await self._api_call(what, refresh_token, "POST", events, json=body)
        if response.status_code == 409:  # that id exists (maybe cancelled by us): update it
            what = "update the event"
            body["status"] = "confirmed"  # revives an event we deleted earlier
            url = f"{events}/{quote(event.id, safe='')}"
            response = await self._api_call(what, refresh_token, "PUT", url, json=body)
        self._success(what, response)

    async def delete_event(self, refresh_token: str, calendar_id: str, event_id: str) -> None:
        what = "delete the event"
        url = f"{self._calendar(calendar_id)}/events/{quote(event_id, safe='')}"
        response = await self._api_call(what, refresh_token, "DELETE", url)
        if response.status_code not in (404, 410):  # gone already: fine
            self._success(what, response, empty=True)

    # --- plumbing ---------------------------------------------------------------------------

    def _calendar(self, calendar_id: str) -> str:
        return f"{self._api}/calendars/{quote(calendar_id, safe='')}"

    async def _api_call(
        self, what: str, refresh_token: str, method: str, url: str, **kw: Any
    ) -> httpx.Response:
        """The call with a valid access token: on 401, one refresh and one retry."""
        token = await self._access_token(refresh_token)
        response = await self._send(what, method, url, token=token, **kw)
        if response.status_code != 401:
            return response
        self._tokens.pop(_key(refresh_token), None)
        token = await self._access_token(refresh_token)
        response = await self._send(what, method, url, token=token, **kw)
        if response.status_code == 401:
            raise CalendarAccessRevoked(
                f"could not {what}: Google refused a fresh access token (401)", status=401
            )
        return response

    async def _send(
        self, what: str, method: str, url: str, *, token: str | None = None, **kw: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else None
        try:
            return await self._http.request(
                method, url, headers=headers, timeout=self._timeout, **kw
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            # `from None`: httpx's exception may carry the request; our message says enough.
            raise CalendarProviderError(
                f"could not {what}: {type(exc).__name__} talking to Google"
            ) from None

    def _success(
        self, what: str, response: httpx.Response, *, empty: bool = False
    ) -> Mapping[str, Any]:
        if not response.is_success:
            raise _failure(what, response)
        if empty:
            return {}
        answer = _json_object(response)
        if answer is None:
            raise CalendarProviderError(f"could not {what}: unreadable answer from Google")
        return answer


def _key(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()


def _failure(what: str, response: httpx.Response) -> CalendarProviderError:
    status = response.status_code
    reason, message = _api_error(response)
    if status == 429 or (status == 403 and reason in _RATE_LIMITED):
        return CalendarProviderError(
            f"could not {what}: Google is rate limiting us (HTTP {status})", status=status
        )
    detail = ": ".join(part for part in (reason, message) if part)
    text = f"could not {what}: Google answered HTTP {status}"
    return CalendarProviderError(f"{text} ({detail})" if detail else text, status=status)


def _api_error(response: httpx.Response) -> tuple[str | None, str | None]:
    """(reason, message) of an error answer: the API's {"error": {...}} or OAuth's
    {"error": "...", "error_description": "..."}; only short, token-free fields."""
    answer = _json_object(response) or {}
    error = answer.get("error")
    if isinstance(error, str):
        return error[:_DETAIL_LIMIT], _short(answer.get("error_description"))
    if not isinstance(error, dict):
        return None, None
    errors = error.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else {}
    reason = first.get("reason") if isinstance(first, dict) else None
    return _short(reason), _short(error.get("message"))


def _oauth_error(response: httpx.Response) -> str | None:
    error = (_json_object(response) or {}).get("error")
    return error if isinstance(error, str) else None


def _short(value: object) -> str | None:
    return " ".join(value.split())[:_DETAIL_LIMIT] if isinstance(value, str) else None


def _json_object(response: httpx.Response) -> Mapping[str, Any] | None:
    try:
        payload = response.json()
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        return None
    return payload if isinstance(payload, dict) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("Google needs aware datetimes (RFC 3339 with an offset)")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _instant(value: object, zone: str | None) -> datetime | None:
    """An RFC 3339 dateTime as an aware datetime (a zone-less one read in `zone`, else UTC)."""
    if not isinstance(value, str):
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone(zone))
    return moment


def _interval(busy: Mapping[str, Any]) -> tuple[datetime, datetime]:
    start, end = _instant(busy.get("start"), None), _instant(busy.get("end"), None)
    if start is None or end is None:
        raise ValueError("a busy interval without start or end")
    return start, end


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _event(item: object, calendar_zone: str | None) -> GoogleEvent:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        raise CalendarProviderError("could not list the calendar's events: an event without id")
    start, end = item.get("start") or {}, item.get("end") or {}
    private = (item.get("extendedProperties") or {}).get("private") or {}
    try:
        return GoogleEvent(
            id=item["id"],
            status=_str(item.get("status")) or "confirmed",
            transparency=_str(item.get("transparency")),
            start=_instant(start.get("dateTime"), start.get("timeZone") or calendar_zone),
            end=_instant(end.get("dateTime"), end.get("timeZone") or calendar_zone),
            start_date=_day(start.get("date")),
            end_date=_day(end.get("date")),
            recurring_event_id=_str(item.get("recurringEventId")),
            private={str(k): str(v) for k, v in private.items()},
        )
    except (AttributeError, TypeError, ValueError):
        raise CalendarProviderError(
            f"could not list the calendar's events: event {item['id'][:100]!r} is unreadable"
        ) from None


def _day(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None
