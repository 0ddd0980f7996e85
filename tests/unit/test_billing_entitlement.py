"""What a subscription entitles a tenant to (texting back, the assistant) and the owner's banner:
every Stripe status, the past-due grace to the second, and nothing enforced without Stripe."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from nmc_domain.billing.model import (
    BillingTerms,
    Entitlement,
    Subscription,
    SubscriptionStatus,
    entitlement,
)

TENANT = uuid.UUID("7d3c1a52-5b7e-4c55-9d0a-ace000000001")
PERIOD_END = datetime(2025, 12, 2, 17, 0, tzinfo=UTC)
NOW = datetime(2025, 11, 20, 15, 0, tzinfo=UTC)
# The Dec 2 renewal failed: the mirror saw past_due at 17:00, and Stripe had already moved the
# period on to Jan 2 when it made the renewal invoice.
FAILED_AT = datetime(2025, 12, 2, 17, 0, tzinfo=UTC)
NEXT_PERIOD_END = datetime(2026, 1, 2, 17, 0, tzinfo=UTC)
ENFORCED = BillingTerms(enforced=True)

NO_PLAN = "No plan yet: subscribe to start texting back"
NOT_ACTIVE = "Your plan is not active: subscribe again to resume texting"
PAUSED_FOR_CARD = "Payment failed: texting is paused until you update your card"


def subscription(
    status: SubscriptionStatus | None,
    *,
    period_end: datetime | None = PERIOD_END,
    cancel_at_period_end: bool = False,
    status_since: datetime | None = None,
) -> Subscription:
    return Subscription(
        tenant_id=TENANT,
        customer_id="cus_ACMEplumbing01",
        subscription_id="sub_1QACMEplumbing01",
        status=status,
        price_id="price_1QACMEmonthly",
        current_period_end=period_end,
        cancel_at_period_end=cancel_at_period_end,
        updated_at=datetime(2025, 11, 1, 9, 0, tzinfo=UTC),
        status_since=status_since,
    )


def past_due(*, period_end: datetime | None = NEXT_PERIOD_END) -> Subscription:
    """Past due since FAILED_AT (Dec 2, 17:00 UTC)."""
    return subscription(SubscriptionStatus.PAST_DUE, period_end=period_end, status_since=FAILED_AT)


@pytest.mark.parametrize("status", [SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING])
def test_active_and_trialing_are_entitled_without_a_banner(status: SubscriptionStatus) -> None:
    assert entitlement(subscription(status), ENFORCED, NOW) == Entitlement(True, None)


def test_a_plan_cancelled_at_period_end_is_entitled_and_says_when_it_ends() -> None:
    ending = subscription(SubscriptionStatus.ACTIVE, cancel_at_period_end=True)

    assert entitlement(ending, ENFORCED, NOW) == Entitlement(
        True, "Your plan ends on Dec 2: renew it to keep texting back"
    )


@pytest.mark.parametrize(
    "status",
    [
        SubscriptionStatus.INCOMPLETE,
        SubscriptionStatus.INCOMPLETE_EXPIRED,
        SubscriptionStatus.CANCELED,
        SubscriptionStatus.UNPAID,
        SubscriptionStatus.PAUSED,
    ],
)
def test_every_other_status_is_not_entitled(status: SubscriptionStatus) -> None:
    assert entitlement(subscription(status), ENFORCED, NOW) == Entitlement(False, NOT_ACTIVE)


def test_no_subscription_at_all_is_not_entitled() -> None:
    assert entitlement(None, ENFORCED, NOW) == Entitlement(False, NO_PLAN)


def test_a_customer_without_a_subscription_yet_is_not_entitled() -> None:
    assert entitlement(subscription(None), ENFORCED, NOW) == Entitlement(False, NO_PLAN)


def test_past_due_is_entitled_during_the_grace_with_the_card_banner() -> None:
    late = past_due()
    last_moment = datetime(2025, 12, 9, 16, 59, 59, 999_999, tzinfo=UTC)

    for now in (FAILED_AT, FAILED_AT + timedelta(days=3), last_moment):
        assert entitlement(late, ENFORCED, now) == Entitlement(
            True, "Payment failed: update your card by Dec 9"
        )


def test_past_due_ends_exactly_seven_days_after_it_became_past_due() -> None:
    late = past_due()

    for now in (datetime(2025, 12, 9, 17, 0, tzinfo=UTC), datetime(2025, 12, 20, tzinfo=UTC)):
        assert entitlement(late, ENFORCED, now) == Entitlement(False, PAUSED_FOR_CARD)


def test_the_grace_counts_from_the_status_change_not_from_a_far_period_end() -> None:
    # Stripe's period runs to Jan 2 (moved on before the payment failed): period end + 7 days
    # would be Jan 9. The grace still ends Dec 9, 17:00.
    late = past_due(period_end=NEXT_PERIOD_END)

    assert entitlement(late, ENFORCED, datetime(2025, 12, 9, 16, 59, tzinfo=UTC)) == Entitlement(
        True, "Payment failed: update your card by Dec 9"
    )
    for now in (datetime(2025, 12, 9, 17, 0, tzinfo=UTC), datetime(2026, 1, 8, tzinfo=UTC)):
        assert entitlement(late, ENFORCED, now) == Entitlement(False, PAUSED_FOR_CARD)


def test_the_grace_is_a_setting() -> None:
    late = past_due()
    short = BillingTerms(enforced=True, grace=timedelta(days=2))

    assert entitlement(late, short, datetime(2025, 12, 4, 16, 59, tzinfo=UTC)) == Entitlement(
        True, "Payment failed: update your card by Dec 4"
    )
    assert entitlement(late, short, datetime(2025, 12, 4, 17, 0, tzinfo=UTC)) == Entitlement(
        False, PAUSED_FOR_CARD
    )


def test_past_due_without_a_status_change_time_counts_the_grace_from_the_last_update() -> None:
    # A row from before status_since was kept: updated Nov 1, 9:00; its period end is ignored.
    late = subscription(SubscriptionStatus.PAST_DUE, period_end=NEXT_PERIOD_END)

    assert entitlement(late, ENFORCED, datetime(2025, 11, 8, 8, 59, tzinfo=UTC)) == Entitlement(
        True, "Payment failed: update your card by Nov 8"
    )
    assert entitlement(late, ENFORCED, datetime(2025, 11, 8, 9, 0, tzinfo=UTC)) == Entitlement(
        False, PAUSED_FOR_CARD
    )


@pytest.mark.parametrize("status", [None, *SubscriptionStatus])
def test_nothing_is_enforced_without_stripe(status: SubscriptionStatus | None) -> None:
    late_in_the_day = datetime(2030, 1, 1, tzinfo=UTC)

    assert entitlement(subscription(status), BillingTerms(), late_in_the_day) == Entitlement(True)
    assert entitlement(None, BillingTerms(), late_in_the_day) == Entitlement(True, None)


def test_terms_default_to_not_enforced_with_a_seven_day_grace() -> None:
    assert BillingTerms() == BillingTerms(enforced=False, grace=timedelta(days=7))
