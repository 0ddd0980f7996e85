"""StripePaymentGateway (the official SDK, async HTTPX) over real HTTP against FakeStripe."""

from __future__ import annotations

import socket
import traceback
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest

from nmc_adapters.stripe import StripePaymentGateway
from nmc_domain.billing.errors import PaymentProviderError
from tests.support.fake_stripe import DEFAULT_PRICE_ID, FakeStripe

SECRET_KEY = "sk_test_AcmePlumbingDoNotLeak4f9c2e"  # pragma: allowlist secret
TENANT = uuid.UUID("4f6d2f1e-3b7a-4c39-9a51-0d8e5b7c2a11")
SUCCESS_URL = "https://app.acme-plumbing.example/billing?checkout=success"
CANCEL_URL = "https://app.acme-plumbing.example/billing?checkout=cancel"
RETURN_URL = "https://app.acme-plumbing.example/billing"
PERIOD_END = datetime(2026, 12, 9, 15, 30, tzinfo=UTC)


def _all_text(exc: BaseException) -> str:
    """Everything a log of this exception could show, cause chain included."""
    return "".join(traceback.format_exception(exc)) + repr(exc)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with FakeStripe(SECRET_KEY) as server:
        yield server


def _gateway(
    api_base: str, *, price_id: str = DEFAULT_PRICE_ID, max_network_retries: int = 0
) -> StripePaymentGateway:
    return StripePaymentGateway(
        secret_key=SECRET_KEY,
        price_id=price_id,
        api_base=api_base,
        timeout_seconds=2.0,
        max_network_retries=max_network_retries,
    )


@pytest.fixture
async def gateway(fake: FakeStripe) -> AsyncIterator[StripePaymentGateway]:
    gateway = _gateway(fake.base_url + "/")  # the trailing slash must not double up
    yield gateway
    await gateway.aclose()


async def _checkout(
    gateway: StripePaymentGateway,
    key: str = "checkout-acme-1",
    customer_id: str | None = None,
    email: str | None = "owner@acme-plumbing.example",
) -> str:
    return await gateway.checkout_url(
        tenant_id=TENANT,
        customer_id=customer_id,
        email=email,
        idempotency_key=key,
        success_url=SUCCESS_URL,
        cancel_url=CANCEL_URL,
    )


# --- checkout --------------------------------------------------------------------------------


async def test_checkout_sends_the_plan_the_tenant_and_the_key(
    fake: FakeStripe, gateway: StripePaymentGateway
) -> None:
    url = await _checkout(gateway)

    [session] = fake.checkout_sessions
    assert url == session.url
    assert url.startswith("https://checkout.stripe.com/c/pay/cs_test_")
    assert session.params == {
        "mode": "subscription",
        "line_items": [{"price": DEFAULT_PRICE_ID, "quantity": "1"}],
        "client_reference_id": str(TENANT),
        "metadata": {"tenant_id": str(TENANT)},
        "subscription_data": {"metadata": {"tenant_id": str(TENANT)}},
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        "customer_email": "owner@acme-plumbing.example",
    }
    [request] = fake.requests
    assert request.idempotency_key == "checkout-acme-1"
    assert request.stripe_version  # the SDK pins its API version on every call


async def test_checkout_of_a_known_customer_names_the_customer_not_the_email(
    fake: FakeStripe, gateway: StripePaymentGateway
) -> None:
    fake.add_customer("cus_AcmePlumbing")

    await _checkout(gateway, customer_id="cus_AcmePlumbing")

    [session] = fake.checkout_sessions
    assert session.params["customer"] == "cus_AcmePlumbing"
    assert "customer_email" not in session.params


async def test_a_double_click_makes_one_session(
    fake: FakeStripe, gateway: StripePaymentGateway
) -> None:
    first = await _checkout(gateway, key="checkout-acme-1")
    again = await _checkout(gateway, key="checkout-acme-1")
    other = await _checkout(gateway, key="checkout-acme-2")

    assert again == first
    assert other != first
    assert len(fake.requests) == 3
    assert [s.idempotency_key for s in fake.checkout_sessions] == [
        "checkout-acme-1",
        "checkout-acme-2",
    ]


async def test_a_retried_checkout_after_a_500_still_makes_one_session(fake: FakeStripe) -> None:
    # With the SDK's own retries on, a 500 is retried under the same Idempotency-Key.
    gateway = _gateway(fake.base_url, max_network_retries=1)
    fake.fail_next(1, status=500)
    try:
        url = await _checkout(gateway)
    finally:
        await gateway.aclose()

    assert [r.idempotency_key for r in fake.requests] == ["checkout-acme-1"] * 2
    assert [s.url for s in fake.checkout_sessions] == [url]


async def test_an_unknown_price_is_an_error_not_a_missing_object(fake: FakeStripe) -> None:
    gateway = _gateway(fake.base_url, price_id="price_Retired")
    try:
        with pytest.raises(PaymentProviderError, match="No such price"):
            await _checkout(gateway)
    finally:
        await gateway.aclose()


# --- portal ----------------------------------------------------------------------------------


async def test_portal_gives_the_sessions_url(
    fake: FakeStripe, gateway: StripePaymentGateway
) -> None:
    fake.add_customer("cus_AcmePlumbing")

    url = await gateway.portal_url(customer_id="cus_AcmePlumbing", return_url=RETURN_URL)

    [portal] = fake.portal_sessions
    assert url == portal["url"]
    assert url.startswith("https://billing.stripe.com/p/session/")
    assert (portal["customer"], portal["return_url"]) == ("cus_AcmePlumbing", RETURN_URL)


# --- subscriptions ---------------------------------------------------------------------------


async def test_a_subscription_reads_its_period_end_from_the_item(
    fake: FakeStripe, gateway: StripePaymentGateway
) -> None:
    fake.set_subscription(
        "sub_AcmePlumbing",
        customer="cus_AcmePlumbing",
        status="past_due",
        current_period_end=PERIOD_END,
        cancel_at_period_end=True,
        metadata={"tenant_id": str(TENANT)},
    )
    assert "current_period_end" not in fake.subscription_json("sub_AcmePlumbing")

    found = await gateway.subscription("sub_AcmePlumbing")

    assert found is not None
    assert found.subscription_id == "sub_AcmePlumbing"
    assert found.customer_id == "cus_AcmePlumbing"
    assert found.status == "past_due"
    assert found.price_id == DEFAULT_PRICE_ID
    assert found.current_period_end == PERIOD_END
    assert found.cancel_at_period_end is True
    assert found.metadata == {"tenant_id": str(TENANT)}


async def test_an_older_api_versions_period_end_on_the_subscription_is_read() -> None:
    with FakeStripe(SECRET_KEY, period_end_on_items=False) as fake:
        fake.set_subscription("sub_Old", customer="cus_Old", current_period_end=PERIOD_END)
        assert "current_period_end" in fake.subscription_json("sub_Old")
        gateway = _gateway(fake.base_url)
        try:
            found = await gateway.subscription("sub_Old")
        finally:
            await gateway.aclose()

    assert found is not None
    assert found.current_period_end == PERIOD_END
    assert found.cancel_at_period_end is False


async def test_a_subscription_stripe_does_not_know_is_none(
    fake: FakeStripe, gateway: StripePaymentGateway
) -> None:
    assert await gateway.subscription("sub_Unknown") is None
    assert await gateway.subscription("") is None
    assert [r.path for r in fake.requests] == ["/v1/subscriptions/sub_Unknown"]


async def test_a_404_that_is_not_stripes_no_such_object_is_an_error(fake: FakeStripe) -> None:
    # A wrong API base answers 404 too, but without resource_missing: it must not read as
    # "no subscription", or the mirror would be emptied by a misconfiguration.
    gateway = _gateway(fake.base_url + "/not-stripe")
    try:
        with pytest.raises(PaymentProviderError, match="HTTP 404"):
            await gateway.subscription("sub_AcmePlumbing")
    finally:
        await gateway.aclose()


async def test_the_customers_newest_subscription_of_any_status(
    fake: FakeStripe, gateway: StripePaymentGateway
) -> None:
    fake.set_subscription("sub_First", customer="cus_AcmePlumbing", status="active", created=100)
    fake.set_subscription("sub_Second", customer="cus_AcmePlumbing", status="canceled", created=200)
    fake.set_subscription("sub_Elsewhere", customer="cus_Other", status="active", created=300)

    found = await gateway.customer_subscription("cus_AcmePlumbing")

    assert found is not None
    assert (found.subscription_id, found.status) == ("sub_Second", "canceled")
    [request] = fake.requests
    assert request.path == "/v1/subscriptions"
    assert request.params == {"customer": "cus_AcmePlumbing", "status": "all", "limit": "1"}


async def test_a_customer_without_subscriptions_has_none(
    fake: FakeStripe, gateway: StripePaymentGateway
) -> None:
    fake.add_customer("cus_New")

    assert await gateway.customer_subscription("cus_New") is None
    assert await gateway.customer_subscription("cus_Unknown") is None  # Stripe: no such customer


# --- failures --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503])
async def test_a_stripe_failure_is_a_provider_error_without_the_key(
    fake: FakeStripe, gateway: StripePaymentGateway, status: int
) -> None:
    fake.set_subscription("sub_AcmePlumbing", customer="cus_AcmePlumbing")
    fake.fail_next(1, status=status)

    with pytest.raises(PaymentProviderError) as raised:
        await gateway.subscription("sub_AcmePlumbing")

    assert f"HTTP {status}" in str(raised.value)
    assert SECRET_KEY not in _all_text(raised.value)
    assert len(fake.requests) == 1  # no hidden retries by default: the worker owns them
    assert await gateway.subscription("sub_AcmePlumbing") is not None  # the fault was one


async def test_a_wrong_key_is_a_provider_error_without_either_key(fake: FakeStripe) -> None:
    wrong = "sk_test_SomebodyElsesKeyDoNotLeak99"
    gateway = StripePaymentGateway(
        secret_key=wrong, price_id=DEFAULT_PRICE_ID, api_base=fake.base_url
    )
    try:
        with pytest.raises(PaymentProviderError, match="HTTP 401") as raised:
            await _checkout(gateway)
    finally:
        await gateway.aclose()

    text = _all_text(raised.value)
    assert wrong not in text
    assert SECRET_KEY not in text
    assert fake.checkout_sessions == []


async def test_an_unreachable_stripe_is_a_provider_error() -> None:
    gateway = _gateway(f"http://127.0.0.1:{_closed_port()}")
    try:
        with pytest.raises(PaymentProviderError, match="APIConnectionError") as raised:
            await gateway.customer_subscription("cus_AcmePlumbing")
    finally:
        await gateway.aclose()

    assert SECRET_KEY not in _all_text(raised.value)


async def test_the_repr_holds_no_key(gateway: StripePaymentGateway) -> None:
    assert SECRET_KEY not in repr(gateway)
    assert DEFAULT_PRICE_ID in repr(gateway)


# --- the fake's own contract (what the E2E flow relies on) -------------------------------------


async def test_a_completed_checkout_leaves_a_subscription_naming_the_tenant(
    fake: FakeStripe, gateway: StripePaymentGateway
) -> None:
    await _checkout(gateway)
    [session] = fake.checkout_sessions

    completed = fake.complete_checkout(session.id, current_period_end=PERIOD_END)

    found = await gateway.subscription(completed["subscription"])
    assert found is not None
    assert found.customer_id == completed["customer"]
    assert found.metadata == {"tenant_id": str(TENANT)}
    assert found.current_period_end == PERIOD_END
    latest = await gateway.customer_subscription(completed["customer"])
    assert latest == found
