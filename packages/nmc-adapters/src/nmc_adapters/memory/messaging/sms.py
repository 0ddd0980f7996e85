"""A scriptable SmsSender: records what it sends and fails when a test tells it to."""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import attrs

from nmc_domain.messaging.errors import SmsOutcomeUnknown
from nmc_domain.messaging.ports import OutgoingSms, SmsReceipt

__all__ = ["FakeSmsSender", "SentSms"]


@attrs.frozen
class SentSms:
    """A message the fake provider has (the provider's own record of it)."""

    sms: OutgoingSms
    receipt: SmsReceipt
    sent_at: datetime


class _Hang:
    """Script step: keep the message, then answer as if the connection dropped."""


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class FakeSmsSender:
    """SmsSender whose next sends can be scripted with `fail_next` and `hang_next`.

    Pass `clock=lambda: store.now` to stamp messages with the in-memory store's clock, which
    is the clock the use cases read their `since` from.
    """

    def __init__(self, *, clock: Callable[[], datetime] = _wall_clock, status: str = "queued"):
        self._clock = clock
        self._status = status
        self._script: deque[BaseException | _Hang] = deque()
        self.sent: list[SentSms] = []
        self.lookups: list[tuple[OutgoingSms, datetime]] = []

    def fail_next(self, *errors: BaseException) -> None:
        """The next sends raise these, in order, and keep nothing."""
        self._script.extend(errors)

    def hang_next(self, times: int = 1) -> None:
        """The next sends keep the message but raise SmsOutcomeUnknown (a timeout after sending)."""
        self._script.extend(_Hang() for _ in range(times))

    async def send(self, sms: OutgoingSms) -> SmsReceipt:
        step = self._script.popleft() if self._script else None
        if isinstance(step, BaseException):
            raise step
        receipt = SmsReceipt(provider_sid="SM" + uuid.uuid4().hex, status=self._status)
        self.sent.append(SentSms(sms, receipt, self._clock()))
        if isinstance(step, _Hang):
            raise SmsOutcomeUnknown("the fake provider kept the message and did not answer")
        return receipt

    async def find_sent(self, sms: OutgoingSms, since: datetime) -> Sequence[SmsReceipt]:
        """Kept messages with the same to, from and body sent at or after `since`, newest first."""
        self.lookups.append((sms, since))
        return [
            kept.receipt
            for kept in reversed(self.sent)
            if (kept.sms.to, kept.sms.from_, kept.sms.body) == (sms.to, sms.from_, sms.body)
            and kept.sent_at >= since
        ]

    def messages_to(self, number: str) -> list[OutgoingSms]:
        """What the provider holds for `number`, oldest first."""
        return [kept.sms for kept in self.sent if kept.sms.to == number]
