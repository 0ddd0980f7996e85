"""What the API needs from the outside, built by `bootstrap` (tests pass fakes to it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import attrs
from litestar import Request
from litestar.di import NamedDependency

from nmc_api.web_config import WebConfig
from nmc_domain.billing.ports import PaymentGateway
from nmc_domain.billing.use_cases import BillingLinks, StripeNotice
from nmc_domain.conversation.assistant import Assistant, RuleBasedAssistant
from nmc_domain.identity.model import Principal
from nmc_domain.scheduling.external_busy import CalendarCheck
from nmc_domain.scheduling.google_ports import GoogleCalendarApi
from nmc_domain.scheduling.jobber_connect import JobberNotice, JobberSetup
from nmc_domain.shared.secrets import Sealer
from nmc_domain.unit_of_work import UnitOfWorkFactory

__all__ = [
    "AnyRequest",
    "ApiDeps",
    "Deps",
    "JobberEventVerifier",
    "SignatureVerifier",
    "StripeEventVerifier",
    "TokenVerifier",
]


class SignatureVerifier(Protocol):
    """Checks a provider's request signature over the public URL and the form parameters."""

    def is_valid(
        self,
        url: str,
        params: Sequence[tuple[str, str]],
        signature: str | None,
        body: bytes | None = None,
    ) -> bool: ...


class StripeEventVerifier(Protocol):
    """Checks Stripe-Signature over the raw body (raises ValueError with the reason) and reads
    the event."""

    def verify(self, raw_body: bytes, signature_header: str | None) -> StripeNotice: ...


class JobberEventVerifier(Protocol):
    """Checks X-Jobber-Hmac-SHA256 over the raw body, and reads the notification (ValueError
    with the reason when it is not one)."""

    def is_authentic(self, raw_body: bytes, signature: str | None) -> bool: ...

    def read(self, raw_body: bytes) -> JobberNotice: ...


class TokenVerifier(Protocol):
    """Turns a bearer token into the caller it names; raises Unauthenticated otherwise."""

    async def verify(self, token: str) -> Principal: ...


@attrs.frozen
class ApiDeps:
    """The API's composition: ports, the public base URL, readiness and cleanup."""

    new_uow: UnitOfWorkFactory
    twilio_signature: SignatureVerifier
    tokens: TokenVerifier
    public_base_url: str
    ready: Callable[[], Awaitable[bool]]
    close: Callable[[], Awaitable[None]]
    # Decides the answers to inbound texts; the rule-based one unless another is plugged in.
    assistant: Assistant = attrs.field(factory=RuleBasedAssistant)
    # Stripe, when configured (else the billing routes and its webhook answer 404).
    payments: PaymentGateway | None = None
    billing_links: BillingLinks | None = None
    stripe_events: StripeEventVerifier | None = None
    # Seals provider tokens at rest and OAuth states (None without NMC_SECRET_KEY).
    sealer: Sealer | None = None
    # Google Calendar, when configured (else its connect route answers 404).
    google: GoogleCalendarApi | None = None
    # Jobber, when configured (else its routes, callback and webhook answer 404).
    jobber: JobberSetup | None = None
    jobber_events: JobberEventVerifier | None = None
    # The owner's web inbox under /app/ (NMC_SECRET_KEY set; else /app answers 404).
    web: WebConfig | None = None

    @property
    def calendar_check(self) -> CalendarCheck | None:
        """What re-checks the assistant's offers against technicians' Google Calendars."""
        if self.google is None or self.sealer is None:
            return None
        return CalendarCheck(self.google, self.sealer)


# How route handlers ask Litestar for the dependencies (explicitly named, as Litestar 3 wants).
Deps = NamedDependency[ApiDeps]
# Our handlers use neither users, auth nor custom state on plain requests.
AnyRequest = Request[Any, Any, Any]
