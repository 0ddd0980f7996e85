"""Stripe payment gateway: Checkout, the Customer Portal and subscription reads via the SDK."""

from __future__ import annotations

import re
from collections.abc import Awaitable
from typing import Final, Literal, TypeVar, overload
from uuid import UUID

import stripe
from stripe.params.checkout import SessionCreateParams

from nmc_adapters.stripe.objects import provider_subscription
from nmc_domain.billing.errors import PaymentProviderError
from nmc_domain.billing.ports import ProviderSubscription

__all__ = ["DEFAULT_STRIPE_API_BASE", "StripePaymentGateway"]

DEFAULT_STRIPE_API_BASE: Final = "https://api.stripe.com"
_T = TypeVar("_T")
# Any API key shape Stripe has (secret, restricted, publishable), in case one is echoed back.
_KEY_SHAPE: Final = re.compile(r"\b(?:sk|rk|pk)_(?:test|live)_[0-9A-Za-z]+")
_DETAIL_LIMIT: Final = 300


class StripePaymentGateway:
    """`PaymentGateway` over the official SDK's `StripeClient` and its async HTTPX client.

    No retries inside by default: the outbox worker owns the retry budget (DESIGN.md section 3),
    and a Checkout Session carries the caller's Idempotency-Key, so a retry there is safe.
    """

    def __init__(
        self,
        *,
        secret_key: str,
        price_id: str,
        api_base: str = DEFAULT_STRIPE_API_BASE,
        timeout_seconds: float = 20.0,
        max_network_retries: int = 0,
    ) -> None:
        self._secret_key = secret_key
        self._price_id = price_id
        self._api_base = api_base.rstrip("/")
        # allow_sync_methods=False: a blocking call inside the event loop fails loudly.
        self._http = stripe.HTTPXClient(timeout=timeout_seconds, allow_sync_methods=False)
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": self._api_base},
            http_client=self._http,
            max_network_retries=max_network_retries,
        )

    def __repr__(self) -> str:
        # Never show the key, even in a debugger or a log of this object.
        return f"StripePaymentGateway(api_base={self._api_base!r}, price_id={self._price_id!r})"

    async def aclose(self) -> None:
        """Close the pooled HTTP connections."""
        await self._http.close_async()  # type: ignore[no-untyped-call]  # unannotated in the SDK

    async def checkout_url(
        self,
        *,
        tenant_id: UUID,
        customer_id: str | None,
        email: str | None,
        idempotency_key: str,
        success_url: str,
        cancel_url: str,
    ) -> str:
        """A subscription Checkout Session for the plan; the same key gives the same session."""
        tenant = str(tenant_id)
        params: SessionCreateParams = {
            "mode": "subscription",
            "line_items": [{"price": self._price_id, "quantity": 1}],
            "client_reference_id": tenant,
            "metadata": {"tenant_id": tenant},
            # Copied onto the subscription, so its own events name the tenant too.
            "subscription_data": {"metadata": {"tenant_id": tenant}},
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        # Stripe refuses both at once; a known customer keeps one customer per tenant.
        if customer_id:
            params["customer"] = customer_id
        elif email:
            params["customer_email"] = email
        session = await self._call(
            "create a Checkout Session",
            self._client.v1.checkout.sessions.create_async(
                params=params,
                options={"idempotency_key": idempotency_key},
            ),
        )
        return _url_of(session, "Checkout Session")

    async def portal_url(self, *, customer_id: str, return_url: str) -> str:
        """A Customer Portal session for the customer: its URL."""
        session = await self._call(
            "create a Customer Portal session",
            self._client.v1.billing_portal.sessions.create_async(
                params={"customer": customer_id, "return_url": return_url}
            ),
        )
        return _url_of(session, "Customer Portal session")

    async def subscription(self, subscription_id: str) -> ProviderSubscription | None:
        """The subscription as Stripe has it now; None when Stripe does not know it."""
        if not subscription_id.strip():
            return None  # an empty id would read /v1/subscriptions/, the list
        found = await self._call(
            "read a subscription",
            self._client.v1.subscriptions.retrieve_async(subscription_id),
            missing_ok=True,
        )
        return None if found is None else provider_subscription(found.to_dict())

    async def customer_subscription(self, customer_id: str) -> ProviderSubscription | None:
        """The customer's most recent subscription (any status); None when it has none."""
        if not customer_id.strip():
            return None
        page = await self._call(
            "list the customer's subscriptions",
            # Stripe lists newest first; status=all includes canceled ones.
            self._client.v1.subscriptions.list_async(
                params={"customer": customer_id, "status": "all", "limit": 1}
            ),
            missing_ok=True,  # Stripe does not know the customer: it has no subscription
        )
        data = [] if page is None else page.to_dict().get("data") or []
        return provider_subscription(data[0]) if data else None

    @overload
    async def _call(self, what: str, call: Awaitable[_T]) -> _T: ...

    @overload
    async def _call(
        self, what: str, call: Awaitable[_T], *, missing_ok: Literal[True]
    ) -> _T | None: ...

    async def _call(self, what: str, call: Awaitable[_T], *, missing_ok: bool = False) -> _T | None:
        # `from None`: the SDK's exception carries the HTTP body and headers; ours says enough.
        try:
            return await call
        except stripe.StripeError as exc:
            # Only Stripe's own "no such object" means missing: a 404 of a wrong API base
            # (no such code) must fail loudly rather than read as "no subscription".
            if missing_ok and exc.code == "resource_missing":
                return None
            raise PaymentProviderError(self._describe(what, exc)) from None

    def _describe(self, what: str, exc: stripe.StripeError) -> str:
        parts = [f"could not {what}: {type(exc).__name__}"]
        if exc.http_status is not None:
            parts.append(f"HTTP {exc.http_status}")
        if exc.code:
            parts.append(f"code {exc.code}")
        detail = " ".join((exc.user_message or "").split())[:_DETAIL_LIMIT]
        text = ", ".join(parts) + (f": {detail}" if detail else "")
        return _KEY_SHAPE.sub("sk_***", text.replace(self._secret_key, "***"))


def _url_of(session: object, kind: str) -> str:
    url = getattr(session, "url", None)
    if not isinstance(url, str) or not url:
        raise PaymentProviderError(f"Stripe returned a {kind} without a URL")
    return url
