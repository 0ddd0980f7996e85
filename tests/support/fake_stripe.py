"""A small, real HTTP fake of Stripe's API on 127.0.0.1 (what our gateway calls), with fault
injection and webhook events signed with the stripe SDK's own scheme."""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import re
import secrets
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs
import stripe

from tests.support.http_fake import FakeServer, ServedFake

__all__ = [
    "DEFAULT_PRICE_ID",
    "DEFAULT_SECRET_KEY",
    "DEFAULT_WEBHOOK_SECRET",
    "FakeCheckoutSession",
    "FakeRequest",
    "FakeStripe",
    "signed_event",
]

DEFAULT_SECRET_KEY = "sk_test_FakeStripeAcmePlumbing0000"  # pragma: allowlist secret
DEFAULT_WEBHOOK_SECRET = "whsec_FakeStripeAcmePlumbing0000"  # pragma: allowlist secret
DEFAULT_PRICE_ID = "price_NmcMonthlyPlan"
EVENT_API_VERSION = "2025-03-31.basil"  # the shapes below: period end on items, invoice.parent
_MONTH = 30 * 86400
_KEY_PART = re.compile(r"\[([^\]]*)\]")
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\]]*\])*)$")
# Top-level parameters Stripe accepts on the endpoints faked here (it refuses any other).
_CHECKOUT_PARAMS = frozenset(
    {
        "mode",
        "line_items",
        "client_reference_id",
        "metadata",
        "subscription_data",
        "success_url",
        "cancel_url",
        "customer",
        "customer_email",
        "allow_promotion_codes",
        "automatic_tax",
        "billing_address_collection",
        "expand",
        "locale",
        "ui_mode",
        "return_url",
    }
)
_PORTAL_PARAMS = frozenset({"customer", "return_url", "configuration", "locale", "expand"})
_CUSTOMER_PARAMS = frozenset({"email", "name", "metadata", "expand"})


@attrs.frozen
class FakeRequest:
    """One authenticated API request the fake received (faults included)."""

    method: str
    path: str
    params: Mapping[str, Any]  # the decoded form body (POST) or query (GET)
    idempotency_key: str | None
    stripe_version: str | None


@attrs.frozen
class FakeCheckoutSession:
    """One Checkout Session the fake created (idempotent replays create none)."""

    id: str
    url: str
    params: Mapping[str, Any]
    idempotency_key: str | None


class _Refusal(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, **more: str) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.more = status, message, code, more


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

    def reply(self, status: int, payload: Mapping[str, Any], replayed: bool = False) -> None:
        data = json.dumps(payload, indent=2).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", "req_" + secrets.token_hex(7))
        if replayed:
            self.send_header("Idempotent-Replayed", "true")
        self.end_headers()
        self.wfile.write(data)


class FakeStripe(ServedFake):
    """Checkout Sessions, Portal sessions, customers and subscriptions, as Stripe answers them.

    `period_end_on_items` picks the subscription shape: True is API versions from 2025-03-31
    on (current_period_end on each item), False the older one (on the subscription).
    """

    handler = _Handler

    def __init__(
        self,
        secret_key: str = DEFAULT_SECRET_KEY,
        *,
        price_ids: tuple[str, ...] = (DEFAULT_PRICE_ID,),
        period_end_on_items: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.secret_key, self.price_ids = secret_key, price_ids
        self.period_end_on_items = period_end_on_items
        super().__init__(host, port)
        self._lock = threading.Lock()
        self._faults: collections.deque[int] = collections.deque()
        self._requests: list[FakeRequest] = []
        self._sessions: dict[str, dict[str, Any]] = {}
        self._created_sessions: list[FakeCheckoutSession] = []
        self._portal_sessions: list[dict[str, Any]] = []
        self._customers: dict[str, dict[str, Any]] = {}
        self._subscriptions: dict[str, dict[str, Any]] = {}
        self._order: dict[str, int] = {}  # subscription id -> creation order (ties in `created`)
        # Idempotency-Key -> (method and path, params, status, answer)
        self._idempotent: dict[str, tuple[str, Mapping[str, Any], int, dict[str, Any]]] = {}

    # --- lifecycle ----------------------------------------------------------------------------

    # --- what tests script --------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """The next n authenticated requests answer `status` (an api_error) and do nothing."""
        with self._lock:
            self._faults.extend([status] * n)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def add_customer(self, customer_id: str | None = None, email: str | None = None) -> str:
        """A customer Stripe knows; returns its id."""
        with self._lock:
            customer_id = str(self._add_customer(customer_id, email)["id"])
        return customer_id

    def set_subscription(
        self,
        subscription_id: str,
        *,
        customer: str,
        status: str = "active",
        current_period_end: datetime | int | None = None,
        cancel_at_period_end: bool = False,
        metadata: Mapping[str, str] | None = None,
        price_id: str | None = None,
        created: int | None = None,
    ) -> dict[str, Any]:
        """Create or replace a subscription (and its customer); returns its JSON."""
        end = current_period_end
        end_ts = int(end.timestamp()) if isinstance(end, datetime) else end
        end_ts = int(time.time()) + _MONTH if end_ts is None else end_ts
        with self._lock:
            self._add_customer(customer, None)
            old = self._subscriptions.get(subscription_id)
            made = created if created is not None else (old or {}).get("created", int(time.time()))
            self._order.setdefault(subscription_id, len(self._order))
            sub = self._subscription(
                subscription_id,
                customer=customer,
                status=status,
                period_end=end_ts,
                cancel_at_period_end=cancel_at_period_end,
                metadata=dict(metadata or {}),
                price_id=price_id or self.price_ids[0],
                created=made,
            )
            self._subscriptions[subscription_id] = sub
            return _copy(sub)

    def subscription_json(self, subscription_id: str) -> dict[str, Any]:
        """The subscription as GET /v1/subscriptions/{id} answers it (for building events)."""
        with self._lock:
            return _copy(self._subscriptions[subscription_id])

    def complete_checkout(
        self,
        session_id: str,
        *,
        subscription_id: str | None = None,
        status: str = "active",
        current_period_end: datetime | int | None = None,
    ) -> dict[str, Any]:
        """The customer paid: a customer (if new) and a subscription carrying the session's
        subscription_data.metadata exist; returns the completed session's JSON."""
        with self._lock:
            session = self._sessions[session_id]
            params = next(s.params for s in self._created_sessions if s.id == session_id)
            customer = session["customer"] or self._add_customer(None, session["customer_email"])
        customer_id = customer if isinstance(customer, str) else customer["id"]
        sub_id = subscription_id or "sub_" + secrets.token_hex(12)
        self.set_subscription(
            sub_id,
            customer=customer_id,
            status=status,
            current_period_end=current_period_end,
            metadata=(params.get("subscription_data") or {}).get("metadata"),
            price_id=params["line_items"][0]["price"],
        )
        with self._lock:
            session.update(
                customer=customer_id,
                subscription=sub_id,
                status="complete",
                payment_status="paid",
                url=None,
            )
            return _copy(session)

    def invoice_json(
        self, subscription_id: str, *, paid: bool, legacy: bool = False
    ) -> dict[str, Any]:
        """An invoice of the subscription in the current shape (invoice.parent) or, with
        `legacy`, the one before 2025-03-31 (invoice.subscription)."""
        sub = self.subscription_json(subscription_id)
        invoice: dict[str, Any] = {
            "id": "in_" + secrets.token_hex(12),
            "object": "invoice",
            "customer": sub["customer"],
            "status": "paid" if paid else "open",
            "paid": paid,
            "attempted": True,
            "created": int(time.time()),
        }
        details = {"subscription": subscription_id, "metadata": sub["metadata"]}
        if legacy:
            invoice["subscription"] = subscription_id
            invoice["subscription_details"] = {"metadata": sub["metadata"]}
        else:
            invoice["parent"] = {"type": "subscription_details", "subscription_details": details}
        return invoice

    def signed_event(
        self,
        type: str,
        obj: Mapping[str, Any],
        secret: str = DEFAULT_WEBHOOK_SECRET,
        timestamp: int | None = None,
        **event: Any,
    ) -> tuple[bytes, str]:
        """See `signed_event` (module level)."""
        return signed_event(type, obj, secret, timestamp, **event)

    # --- what tests read ----------------------------------------------------------------------

    @property
    def requests(self) -> list[FakeRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def checkout_sessions(self) -> list[FakeCheckoutSession]:
        with self._lock:
            return list(self._created_sessions)

    @property
    def portal_sessions(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(s) for s in self._portal_sessions]

    # --- the API ------------------------------------------------------------------------------

    def _handle(self, req: _Handler) -> None:
        url = urlsplit(req.path)
        body = req.rfile.read(int(req.headers.get("Content-Length") or 0)).decode()
        try:
            self._authenticate(req.headers.get("Authorization"))
            params = _decode(body if req.command == "POST" else url.query)
            key = req.headers.get("Idempotency-Key")
            with self._lock:
                self._requests.append(
                    FakeRequest(
                        req.command, url.path, params, key, req.headers.get("Stripe-Version")
                    )
                )
                fault = self._faults.popleft() if self._faults else None
            if fault is not None:
                raise _Refusal(fault, "Something went wrong on Stripe's end (injected).")
            if req.command == "POST" and key:
                return self._idempotently(req, key, url.path, params)
            status, answer = self._route(req.command, url.path, params, key)
        except _Refusal as refusal:
            return req.reply(refusal.status, _error(refusal))
        return req.reply(status, answer)

    def _idempotently(self, req: _Handler, key: str, path: str, params: Mapping[str, Any]) -> None:
        # Stripe replays the first answer to a key; other parameters or another endpoint
        # under the same key are refused. (Injected faults above are not remembered.)
        with self._lock:
            seen = self._idempotent.get(key)
        if seen is not None:
            where, first_params, status, answer = seen
            if where != f"POST {path}" or first_params != params:
                refusal = _Refusal(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with.",
                    type="idempotency_error",
                )
                return req.reply(400, _error(refusal))
            return req.reply(status, answer, replayed=True)
        try:
            status, answer = self._route("POST", path, params, key)
        except _Refusal as refusal:
            status, answer = refusal.status, _error(refusal)
        with self._lock:
            self._idempotent.setdefault(key, (f"POST {path}", params, status, answer))
        return req.reply(status, answer)

    def _authenticate(self, header: str | None) -> None:
        if not header:
            raise _Refusal(401, "You did not provide an API key.")
        scheme, _, key = header.partition(" ")
        if scheme != "Bearer" or not secrets.compare_digest(key, self.secret_key):
            # Stripe shows only the key's last four characters.
            raise _Refusal(401, f"Invalid API Key provided: {key[:8]}****{key[-4:]}")

    def _route(
        self, method: str, path: str, params: Mapping[str, Any], key: str | None
    ) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/v1/checkout/sessions":
            return 200, self._create_session(params, key)
        if method == "POST" and path == "/v1/billing_portal/sessions":
            return 200, self._create_portal(params)
        if method == "POST" and path == "/v1/customers":
            _known(params, _CUSTOMER_PARAMS)
            with self._lock:
                return 200, self._add_customer(None, params.get("email"))
        if method == "GET" and path == "/v1/subscriptions":
            return 200, self._list_subscriptions(params)
        if method == "GET" and path.startswith("/v1/subscriptions/"):
            sub_id = path.removeprefix("/v1/subscriptions/")
            with self._lock:
                found = self._subscriptions.get(sub_id)
            if found is None:
                raise _Refusal(404, f"No such subscription: '{sub_id}'", "resource_missing")
            return 200, found
        raise _Refusal(404, f"Unrecognized request URL ({method}: {path}).")

    def _create_session(self, params: Mapping[str, Any], key: str | None) -> dict[str, Any]:
        _known(params, _CHECKOUT_PARAMS)
        if params.get("mode") not in ("payment", "setup", "subscription"):
            raise _Refusal(
                400, "Invalid mode: must be payment, setup or subscription", param="mode"
            )
        items = params.get("line_items")
        if params["mode"] != "setup" and (not isinstance(items, list) or not items):
            raise _Refusal(400, "line_items is required in this mode", param="line_items")
        for item in items or []:
            price = item.get("price") if isinstance(item, dict) else None
            if price not in self.price_ids:
                raise _Refusal(400, f"No such price: '{price}'", "resource_missing", param="price")
        if params.get("customer") and params.get("customer_email"):
            raise _Refusal(
                400, "You may only specify one of these parameters: customer, customer_email."
            )
        session_id = "cs_test_" + secrets.token_hex(16)
        with self._lock:
            customer = params.get("customer")
            if customer and customer not in self._customers:
                raise _Refusal(400, f"No such customer: '{customer}'", "resource_missing")
            session = {
                "id": session_id,
                "object": "checkout.session",
                "mode": params["mode"],
                "url": f"https://checkout.stripe.com/c/pay/{session_id}",
                "status": "open",
                "payment_status": "unpaid",
                "client_reference_id": params.get("client_reference_id"),
                "customer": customer,
                "customer_email": params.get("customer_email"),
                "metadata": dict(params.get("metadata") or {}),
                "subscription": None,
                "success_url": params.get("success_url"),
                "cancel_url": params.get("cancel_url"),
                "created": int(time.time()),
                "expires_at": int(time.time()) + 86400,
                "livemode": False,
            }
            self._sessions[session_id] = session
            self._created_sessions.append(
                FakeCheckoutSession(session_id, session["url"], params, key)
            )
            return dict(session)

    def _create_portal(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _known(params, _PORTAL_PARAMS)
        customer = params.get("customer")
        with self._lock:
            if customer not in self._customers:
                raise _Refusal(400, f"No such customer: '{customer}'", "resource_missing")
            portal_id = "bps_" + secrets.token_hex(12)
            portal = {
                "id": portal_id,
                "object": "billing_portal.session",
                "customer": customer,
                "return_url": params.get("return_url"),
                "url": f"https://billing.stripe.com/p/session/test_{portal_id}",
                "created": int(time.time()),
                "livemode": False,
            }
            self._portal_sessions.append(portal)
            return dict(portal)

    def _list_subscriptions(self, params: Mapping[str, Any]) -> dict[str, Any]:
        customer, status = params.get("customer"), params.get("status")
        limit = int(params.get("limit") or 10)
        with self._lock:
            if customer is not None and customer not in self._customers:
                raise _Refusal(400, f"No such customer: '{customer}'", "resource_missing")
            found = [
                sub
                for sub in self._subscriptions.values()
                if customer in (None, sub["customer"])
                # By default Stripe leaves canceled subscriptions out; status=all keeps them.
                and (status == "all" or sub["status"] == status or status is None)
                and (status is not None or sub["status"] != "canceled")
            ]
            found.sort(key=lambda s: (s["created"], self._order[s["id"]]), reverse=True)
        return {
            "object": "list",
            "data": found[:limit],
            "has_more": len(found) > limit,
            "url": "/v1/subscriptions",
        }

    # --- state (callers hold the lock) --------------------------------------------------------

    def _add_customer(self, customer_id: str | None, email: str | None) -> dict[str, Any]:
        customer_id = customer_id or "cus_" + secrets.token_hex(7)
        return self._customers.setdefault(
            customer_id,
            {"id": customer_id, "object": "customer", "email": email, "livemode": False},
        )

    def _subscription(
        self,
        subscription_id: str,
        *,
        customer: str,
        status: str,
        period_end: int,
        cancel_at_period_end: bool,
        metadata: dict[str, str],
        price_id: str,
        created: int,
    ) -> dict[str, Any]:
        period = {"current_period_start": period_end - _MONTH, "current_period_end": period_end}
        item: dict[str, Any] = {
            "id": "si_" + subscription_id.removeprefix("sub_"),
            "object": "subscription_item",
            "price": {"id": price_id, "object": "price", "recurring": {"interval": "month"}},
            "quantity": 1,
            "subscription": subscription_id,
        }
        sub: dict[str, Any] = {
            "id": subscription_id,
            "object": "subscription",
            "customer": customer,
            "status": status,
            "cancel_at_period_end": cancel_at_period_end,
            "created": created,
            "metadata": metadata,
            "livemode": False,
            "items": {
                "object": "list",
                "data": [item],
                "has_more": False,
                "url": f"/v1/subscription_items?subscription={subscription_id}",
            },
        }
        (item if self.period_end_on_items else sub).update(period)
        return sub


def signed_event(
    type: str,
    obj: Mapping[str, Any],
    secret: str = DEFAULT_WEBHOOK_SECRET,
    timestamp: int | None = None,
    **event: Any,
) -> tuple[bytes, str]:
    """(body, Stripe-Signature) of an event about `obj`, signed by the stripe SDK's own helper
    (`t=<timestamp>,v1=<HMAC-SHA256 of "t.body">`). `event` overrides fields, e.g. `id`."""
    ts = int(time.time()) if timestamp is None else timestamp
    payload = {
        "id": "evt_" + secrets.token_hex(12),
        "object": "event",
        "api_version": EVENT_API_VERSION,
        "created": ts,
        "data": {"object": dict(obj)},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type,
        **event,
    }
    body = json.dumps(payload, indent=2)
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=ts)
    return body.encode(), header


def _decode(encoded: str) -> dict[str, Any]:
    """Stripe's form encoding (`a[b][0][c]=v`) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(encoded, keep_blank_values=True):
        match = _KEY.match(key)
        if match is None:
            raise _Refusal(400, f"Invalid parameter name: {key}")
        path = [match[1], *_KEY_PART.findall(match[2])]
        node = root
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise _Refusal(400, f"Invalid parameter: {key}")
        node[path[-1]] = value
    listed: dict[str, Any] = _listed(root)
    return listed


def _copy(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy, as a client would see it (nothing shared with the fake's state)."""
    copied: dict[str, Any] = json.loads(json.dumps(obj))
    return copied


def _listed(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    children = {k: _listed(v) for k, v in node.items()}
    if children and all(k.isdigit() for k in children):
        return [children[k] for k in sorted(children, key=int)]
    return children


def _known(params: Mapping[str, Any], accepted: frozenset[str]) -> None:
    for name in params:
        if name not in accepted:
            raise _Refusal(400, f"Received unknown parameter: {name}", "parameter_unknown")


def _error(refusal: _Refusal) -> dict[str, Any]:
    kind = refusal.more.get("type") or (
        "api_error" if refusal.status >= 500 else "invalid_request_error"
    )
    error: dict[str, Any] = {"type": kind, "message": refusal.message}
    if refusal.code:
        error["code"] = refusal.code
    if "param" in refusal.more:
        error["param"] = refusal.more["param"]
    return {"error": error}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--secret-key", default=DEFAULT_SECRET_KEY)
    args = parser.parse_args()
    with FakeStripe(args.secret_key, host=args.host, port=args.port) as fake:
        print(f"fake Stripe on {fake.base_url}, key {fake.secret_key}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
