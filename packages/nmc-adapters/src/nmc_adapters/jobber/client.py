"""Jobber client: OAuth 2.0 (authorization code, rotating refresh tokens) and the GraphQL API
over httpx, with the API version pinned and throttling backed off.

Jobber throttles by query cost (a leaky bucket per app and account): a throttled answer says
THROTTLED and carries `extensions.cost` (requested cost, points available, restore rate per
second), so the client waits until enough points are back, a few times and never long, then
gives up with a JobberProviderError for the outbox to retry. HTTP 429 (the request-count
guard) is waited out the same way. Tokens never appear in messages, reprs or logs.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

import httpx

from nmc_adapters.jobber import visits as documents
from nmc_domain.scheduling.jobber import JobberVisit
from nmc_domain.scheduling.jobber_ports import (
    JobberAccessRefused,
    JobberAccount,
    JobberGrantRevoked,
    JobberProviderError,
    JobberTokens,
    VisitsPage,
)

__all__ = [
    "CALLBACK_PATH",
    "DEFAULT_JOBBER_BASE",
    "GRAPHQL_VERSION",
    "JobberClient",
    "access_expiry",
]

DEFAULT_JOBBER_BASE: Final = "https://api.getjobber.com"
CALLBACK_PATH: Final = "/oauth/jobber/callback"
GRAPHQL_VERSION: Final = "2025-01-20"  # X-JOBBER-GRAPHQL-VERSION: the schema our queries use
ACCESS_LIFETIME: Final = timedelta(minutes=60)  # Jobber's default, when the token says nothing
_DETAIL_LIMIT: Final = 200

Sleep = Callable[[float], Awaitable[None]]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def access_expiry(access_token: str, now: datetime) -> datetime:
    """When a Jobber access token expires: the JWT's `exp` (read, not verified: only Jobber
    can), else an hour from `now`."""
    try:
        payload = access_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (IndexError, ValueError, KeyError, TypeError, OverflowError):
        return now + ACCESS_LIFETIME


def _throttle_wait(body: Mapping[str, Any]) -> float | None:
    """Seconds until the points a THROTTLED query asked for are back; None if not throttled."""
    errors = body.get("errors") or []
    throttled = [
        e
        for e in errors
        if isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED"
    ]
    if not throttled:
        return None
    cost: Any = (body.get("extensions") or {}).get("cost")
    cost = cost or (throttled[0].get("extensions") or {}).get("cost")
    try:
        status = cost["throttleStatus"]
        missing = float(cost["requestedQueryCost"]) - float(status["currentlyAvailable"])
        return max(missing, 0.0) / float(status["restoreRate"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return 1.0


class JobberClient:
    """`JobberApi` over httpx; the base URLs are configurable so tests use a local fake."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        public_base_url: str | None,
        api_base: str = DEFAULT_JOBBER_BASE,
        oauth_base: str = DEFAULT_JOBBER_BASE,
        http: httpx.AsyncClient | None = None,
        timeout_seconds: float = 10.0,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], datetime] = _utc_now,
        throttle_retries: int = 3,
        max_wait_seconds: float = 5.0,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        # The API's callback; a worker (which only refreshes and reads) may not know it.
        self._redirect = None if public_base_url is None else public_base_url.rstrip("/")
        self._graphql = api_base.rstrip("/") + "/api/graphql"
        self._oauth = oauth_base.rstrip("/") + "/api/oauth"
        self._own_http = http is None
        timeout = httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 5.0))
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._sleep, self._clock = sleep, clock
        self._retries, self._max_wait = throttle_retries, max_wait_seconds

    def __repr__(self) -> str:
        return f"JobberClient(graphql={self._graphql!r}, client_id={self._client_id!r})"

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    # --- OAuth ----------------------------------------------------------------------------

    @property
    def _redirect_uri(self) -> str:
        if self._redirect is None:
            raise RuntimeError("Jobber's OAuth callback needs NMC_PUBLIC_BASE_URL")
        return self._redirect + CALLBACK_PATH

    def consent_url(self, state: str) -> str:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self._client_id,
                "redirect_uri": self._redirect_uri,
                "state": state,
            }
        )
        return f"{self._oauth}/authorize?{query}"

    async def exchange_code(self, code: str) -> JobberTokens:
        return await self._token(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": self._redirect_uri}
        )

    async def refresh(self, refresh_token: str) -> JobberTokens:
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def _token(self, form: dict[str, str]) -> JobberTokens:
        form |= {"client_id": self._client_id, "client_secret": self._client_secret}
        response = await self._send(self._oauth + "/token", data=form)
        if response.status_code >= 500 or response.status_code == 429:
            raise JobberProviderError(
                f"token endpoint answered {response.status_code}", status=response.status_code
            )
        body = self._json(response)
        if response.status_code != 200:
            # The code or refresh token is refused (invalid_grant): asking again will not help.
            reason = str(body.get("error") or body.get("message") or response.status_code)
            raise JobberGrantRevoked(f"Jobber refused the grant: {reason[:_DETAIL_LIMIT]}")
        access, refresh = body.get("access_token"), body.get("refresh_token")
        if not isinstance(access, str) or not isinstance(refresh, str) or not access or not refresh:
            raise JobberProviderError("token endpoint granted no access and refresh token")
        return JobberTokens(access, refresh, access_expiry(access, self._clock()))

    # --- GraphQL --------------------------------------------------------------------------

    async def account(self, access_token: str) -> JobberAccount:
        data = await self._query(access_token, documents.ACCOUNT, {})
        account = data.get("account")
        if not isinstance(account, dict) or not account.get("id"):
            raise JobberProviderError("Jobber's answer has no account")
        return JobberAccount(str(account["id"]), str(account.get("name") or ""))

    async def visit(self, access_token: str, visit_id: str) -> JobberVisit | None:
        data = await self._query(access_token, documents.VISIT, {"id": visit_id})
        node = data.get("visit")
        return None if node is None else documents.visit_of(node)

    async def job_visits(
        self, access_token: str, job_id: str, cursor: str | None = None
    ) -> VisitsPage | None:
        variables = {"id": job_id, "first": documents.PAGE_SIZE, "after": cursor}
        job = (await self._query(access_token, documents.JOB_VISITS, variables)).get("job")
        return None if job is None else documents.page_of(job.get("visits"))

    async def visits_between(
        self, access_token: str, start: datetime, end: datetime, cursor: str | None = None
    ) -> VisitsPage:
        window = {"after": start.isoformat(), "before": end.isoformat()}
        variables = {"first": documents.PAGE_SIZE, "after": cursor, "filter": {"startAt": window}}
        data = await self._query(access_token, documents.VISITS_BETWEEN, variables)
        return documents.page_of(data.get("visits"))

    async def disconnect(self, access_token: str) -> None:
        await self._query(access_token, documents.DISCONNECT, {})

    async def _query(
        self, access_token: str, document: tuple[str, str], variables: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The `data` of a query, THROTTLED and 429 answers waited out a few times."""
        name, query = document
        payload = {"operationName": name, "query": query, "variables": dict(variables)}
        headers = {
            "Authorization": f"Bearer {access_token}",
            "X-JOBBER-GRAPHQL-VERSION": GRAPHQL_VERSION,
        }
        for attempt in range(self._retries + 1):
            response = await self._send(self._graphql, json=payload, headers=headers)
            status = response.status_code
            if status == 401:
                raise JobberAccessRefused("Jobber refused the access token", status=401)
            wait: float | None = None
            if status == 429:
                wait = self._retry_after(response)
            elif status != 200:
                raise JobberProviderError(f"{name}: Jobber answered {status}", status=status)
            else:
                body = self._json(response)
                wait = _throttle_wait(body)
                if wait is None:
                    return self._data(name, body)
            if attempt < self._retries:
                await self._sleep(min(max(wait, 0.05), self._max_wait))
        raise JobberProviderError(f"{name}: throttled by Jobber, try later", status=429)

    @staticmethod
    def _retry_after(response: httpx.Response) -> float:
        try:
            return float(response.headers.get("retry-after", "1"))
        except ValueError:
            return 1.0

    @staticmethod
    def _data(name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        errors = body.get("errors") or []
        data = body.get("data")
        if errors or not isinstance(data, dict):
            first = errors[0] if errors and isinstance(errors[0], dict) else {}
            message = str(first.get("message") or "no data")[:_DETAIL_LIMIT]
            raise JobberProviderError(f"{name}: {message}")
        return data

    async def _send(self, url: str, **request: Any) -> httpx.Response:
        try:
            return await self._http.post(url, **request)
        except httpx.HTTPError as exc:
            # The exception's text may hold the URL but never a token (those ride in headers
            # and bodies only).
            raise JobberProviderError(f"Jobber unreachable: {type(exc).__name__}") from None

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise JobberProviderError(
                f"unreadable answer from Jobber ({response.status_code})"
            ) from None
        if not isinstance(body, dict):
            raise JobberProviderError(f"unexpected answer from Jobber ({response.status_code})")
        return body
