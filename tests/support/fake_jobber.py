"""A small, real HTTP fake of Jobber on 127.0.0.1: OAuth 2.0 (authorization codes, JWT-shaped
access tokens that expire, refresh tokens that rotate and are good once), the GraphQL endpoint
for the few named operations our client sends (a dispatcher, not a GraphQL engine: the
version header and bearer token are checked, connections are paged by cursor), throttling
(THROTTLED with extensions.cost, and 429), faults, a request log, and webhooks signed with the
client secret."""

from __future__ import annotations

import base64
import collections
import itertools
import json
import secrets
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import attrs

from nmc_adapters.jobber import GRAPHQL_VERSION, jobber_signature
from tests.support.http_fake import FakeServer, ServedFake

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "FakeJobber",
    "GraphqlRequest",
    "signed_webhook",
]

CLIENT_ID = "nmc-jobber-client-acme"
CLIENT_SECRET = "jobber-secret-acme-plumbing-0000"  # pragma: allowlist secret
_MAX_COST = 10_000.0


def signed_webhook(
    topic: str,
    item_id: str,
    account_id: str,
    occurred_at: str,
    *,
    secret: str = CLIENT_SECRET,
    app_id: str = "3ef22a50-072d-430c-a78f-b7646657560b",
) -> tuple[bytes, dict[str, str]]:
    """A webhook as Jobber sends it: the JSON body and its headers (signature included)."""
    event = {
        "topic": topic,
        "appId": app_id,
        "accountId": account_id,
        "itemId": item_id,
        "occurredAt": occurred_at,
    }
    body = json.dumps({"data": {"webHookEvent": event}}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Jobber-Hmac-SHA256": jobber_signature(secret, body),
    }
    return body, headers


@attrs.frozen
class GraphqlRequest:
    """One GraphQL request the fake received (refused ones included)."""

    operation: str | None
    variables: Mapping[str, Any]
    version: str | None
    status: int


def _b64(document: Mapping[str, Any]) -> str:
    raw = json.dumps(document, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: FakeServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.fake._handle(self)

    def do_POST(self) -> None:
        self.server.fake._handle(self)

    def reply(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class FakeJobber(ServedFake):
    """One app (client id and secret) installed on any number of accounts."""

    handler = _Handler

    def __init__(
        self,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        *,
        access_ttl_seconds: int = 3600,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host, port)
        self.client_id, self.client_secret = client_id, client_secret
        self.access_ttl_seconds = access_ttl_seconds
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._accounts: dict[str, str] = {}  # account id -> name
        self._codes: dict[str, str] = {}  # authorization code -> account id
        self._access: dict[str, tuple[str, float]] = {}  # token -> (account, expires at)
        self._refresh: dict[str, str] = {}  # live refresh token -> account id
        self._visits: dict[str, dict[str, dict[str, Any]]] = {}  # account -> visit id -> visit
        self._jobs: dict[str, set[str]] = {}  # account -> job ids that exist
        self._faults: collections.deque[tuple[str, Any]] = collections.deque()
        self.requests: list[GraphqlRequest] = []
        self.token_grants: list[str] = []  # grant types asked for, in order
        self.disconnected: list[str] = []  # accounts that sent appDisconnect

    # --- what tests script ---------------------------------------------------------------

    def add_account(self, name: str = "ACME Plumbing (Jobber)") -> str:
        with self._lock:
            account_id = base64.b64encode(f"gid://Jobber/Account/{next(self._ids)}".encode())
            key = account_id.decode()
            self._accounts[key] = name
            self._visits[key], self._jobs[key] = {}, set()
        return key

    def authorize(self, account_id: str) -> str:
        """What the owner's "Allow access" does: a fresh authorization code for the account."""
        code = "code-" + secrets.token_hex(8)
        with self._lock:
            self._codes[code] = account_id
        return code

    def new_id(self, kind: str) -> str:
        return base64.b64encode(f"gid://Jobber/{kind}/{next(self._ids)}".encode()).decode()

    def put_visit(
        self,
        account_id: str,
        visit_id: str,
        *,
        job_id: str,
        start: datetime | None,
        end: datetime | None,
        emails: tuple[str, ...] = (),
        all_day: bool = False,
        status: str = "UPCOMING",
    ) -> None:
        """Create or replace a visit (and its job)."""
        visit = {
            "id": visit_id,
            "startAt": None if start is None else start.isoformat().replace("+00:00", "Z"),
            "endAt": None if end is None else end.isoformat().replace("+00:00", "Z"),
            "allDay": all_day,
            "visitStatus": status,
            "job": {"id": job_id},
            "assignedUsers": {
                "nodes": [{"id": self.new_id("User"), "email": {"raw": email}} for email in emails]
            },
        }
        with self._lock:
            self._visits[account_id][visit_id] = visit
            self._jobs[account_id].add(job_id)

    def delete_visit(self, account_id: str, visit_id: str) -> None:
        with self._lock:
            self._visits[account_id].pop(visit_id, None)

    def delete_job(self, account_id: str, job_id: str) -> None:
        with self._lock:
            self._jobs[account_id].discard(job_id)
            for visit_id, visit in list(self._visits[account_id].items()):
                if visit["job"]["id"] == job_id:
                    del self._visits[account_id][visit_id]

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is past its expiry now (as Jobber sees it)."""
        with self._lock:
            self._access = {t: (a, 0.0) for t, (a, _) in self._access.items()}

    def revoke(self, account_id: str) -> None:
        """The app disconnected in Jobber: every token of the account stops working."""
        with self._lock:
            self._access = {t: v for t, v in self._access.items() if v[0] != account_id}
            self._refresh = {t: a for t, a in self._refresh.items() if a != account_id}

    def fail_next(self, n: int = 1, status: int = 500, *, after: int = 0) -> None:
        """The next n GraphQL requests (authenticated or not) answer `status`, once `after`
        requests were answered normally (a failure in the middle of paging)."""
        with self._lock:
            self._faults.extend([("ok", None)] * after + [("status", status)] * n)

    def throttle_next(self, n: int = 1, *, available: float = 0.0, restore: float = 500.0) -> None:
        """The next n GraphQL requests answer THROTTLED with this throttle status."""
        with self._lock:
            self._faults.extend([("throttled", (available, restore))] * n)

    def too_many_next(self, n: int = 1, *, retry_after: int = 1) -> None:
        """The next n GraphQL requests answer 429 Too Many Requests."""
        with self._lock:
            self._faults.extend([("429", retry_after)] * n)

    def operations(self) -> list[str | None]:
        with self._lock:
            return [request.operation for request in self.requests]

    # --- serving ---------------------------------------------------------------------------

    def _handle(self, req: _Handler) -> None:
        url = urlsplit(req.path)
        body = req.rfile.read(int(req.headers.get("Content-Length") or 0))
        if req.command == "GET" and url.path == "/api/oauth/authorize":
            return self._authorize_page(req, dict(parse_qsl(url.query)))
        if req.command == "POST" and url.path == "/api/oauth/token":
            return self._token(req, dict(parse_qsl(body.decode())))
        if req.command == "POST" and url.path == "/api/graphql":
            return self._graphql(req, body)
        return req.reply(404, {"error": "not found"})

    def _authorize_page(self, req: _Handler, query: dict[str, str]) -> None:
        # The consent page: with ?account=<id> (what a test's "owner" picks) it redirects back
        # at once, as "Allow access" would.
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return req.reply(400, {"error": "invalid_request"})
        account = query.get("account") or next(iter(self._accounts), "")
        target = (
            query["redirect_uri"]
            + "?"
            + urlencode({"code": self.authorize(account), "state": query.get("state", "")})
        )
        return req.reply(302, None, {"Location": target})

    def _issue(self, account_id: str) -> dict[str, str]:
        expires = time.time() + self.access_ttl_seconds
        header = _b64({"typ": "JWT", "alg": "HS256"})
        claims = _b64({"sub": account_id, "exp": int(expires), "jti": secrets.token_hex(6)})
        access = f"{header}.{claims}.{secrets.token_urlsafe(16)}"
        refresh = secrets.token_hex(16)
        self._access[access] = (account_id, expires)
        self._refresh[refresh] = account_id
        return {"access_token": access, "refresh_token": refresh}

    def _token(self, req: _Handler, form: dict[str, str]) -> None:
        if form.get("client_id") != self.client_id or not secrets.compare_digest(
            form.get("client_secret", ""), self.client_secret
        ):
            return req.reply(401, {"error": "invalid_client"})
        grant = form.get("grant_type", "")
        with self._lock:
            self.token_grants.append(grant)
            if grant == "authorization_code":
                account = self._codes.pop(form.get("code", ""), None)  # a code is good once
            elif grant == "refresh_token":
                # Rotation: the token used is spent whatever happens next.
                account = self._refresh.pop(form.get("refresh_token", ""), None)
            else:
                return req.reply(400, {"error": "unsupported_grant_type"})
            if account is None:
                return req.reply(400, {"error": "invalid_grant"})
            return req.reply(200, self._issue(account))

    def _graphql(self, req: _Handler, raw: bytes) -> None:
        try:
            payload = json.loads(raw)
        except ValueError:
            return req.reply(400, {"errors": [{"message": "unreadable JSON"}]})
        operation = payload.get("operationName")
        variables = payload.get("variables") or {}
        version = req.headers.get("X-JOBBER-GRAPHQL-VERSION")
        status, answer, headers = self._answer(req.headers.get("Authorization"), version, payload)
        with self._lock:
            self.requests.append(GraphqlRequest(operation, variables, version, status))
        return req.reply(status, answer, headers)

    def _answer(
        self, authorization: str | None, version: str | None, payload: Mapping[str, Any]
    ) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
        if fault is not None and fault[0] != "ok":
            kind, value = fault
            if kind == "status":
                return value, {"errors": [{"message": "Internal server error"}]}, {}
            if kind == "429":
                return (
                    429,
                    {"errors": [{"message": "Too Many Requests"}]},
                    {"Retry-After": str(value)},
                )
            available, restore = value
            return 200, _throttled(available, restore), {}
        if version != GRAPHQL_VERSION:
            return 400, {"errors": [{"message": f"unsupported API version {version!r}"}]}, {}
        scheme, _, token = (authorization or "").partition(" ")
        with self._lock:
            account, expires = self._access.get(token, ("", 0.0))
        if scheme != "Bearer" or not account or expires <= time.time():
            return 401, {"message": "Invalid Token Error"}, {}
        data = self._operation(account, payload)
        return 200, {"data": data, "extensions": _cost(12)}, {}

    def _operation(self, account: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        variables = payload.get("variables") or {}
        operation = payload.get("operationName")
        with self._lock:
            visits = list(self._visits[account].values())
            jobs = set(self._jobs[account])
            if operation == "Account":
                return {"account": {"id": account, "name": self._accounts[account]}}
            if operation == "Disconnect":
                self.disconnected.append(account)
                return {"appDisconnect": {"app": {"id": "app"}, "userErrors": []}}
        if operation == "Visit":
            found = [v for v in visits if v["id"] == variables.get("id")]
            return {"visit": found[0] if found else None}
        if operation == "JobVisits":
            job_id = variables.get("id")
            if job_id not in jobs:
                return {"job": None}
            ours = [v for v in visits if v["job"]["id"] == job_id]
            return {"job": {"id": job_id, "visits": _page(ours, variables)}}
        if operation == "VisitsBetween":
            window = ((variables.get("filter") or {}).get("startAt")) or {}
            after, before = (datetime.fromisoformat(window[k]) for k in ("after", "before"))
            inside = [
                v
                for v in visits
                if v["startAt"] and after <= datetime.fromisoformat(v["startAt"]) < before
            ]
            return {"visits": _page(inside, variables)}
        raise AssertionError(f"the fake does not know the operation {operation!r}")


def _page(visits: list[dict[str, Any]], variables: Mapping[str, Any]) -> dict[str, Any]:
    ordered = sorted(visits, key=lambda v: (v["startAt"] or "", v["id"]))
    first = int(variables.get("first") or 100)
    start = int(variables["after"]) if variables.get("after") else 0
    chunk = ordered[start : start + first]
    more = start + first < len(ordered)
    return {
        "nodes": chunk,
        "pageInfo": {"hasNextPage": more, "endCursor": str(start + first) if more else None},
    }


def _cost(requested: float, available: float = _MAX_COST, restore: float = 500.0) -> dict[str, Any]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": requested,
            "throttleStatus": {
                "maximumAvailable": _MAX_COST,
                "currentlyAvailable": available,
                "restoreRate": restore,
            },
        }
    }


def _throttled(available: float, restore: float) -> dict[str, Any]:
    return {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {
                    "code": "THROTTLED",
                    "documentation": "https://developer.getjobber.com/docs/using_jobbers_api/api_rate_limits",
                },
            }
        ],
        "extensions": _cost(1_000.0, available, restore),
    }
