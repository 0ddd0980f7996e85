"""Console SMS for `nmc dev`: the developer's terminal is the caller's phone."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TextIO

from nmc_domain.messaging.ports import OutgoingSms, SmsReceipt

__all__ = ["ConsoleSmsSender"]


class ConsoleSmsSender:
    """SmsSender that prints each message in full (number and text) instead of sending it."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def send(self, sms: OutgoingSms) -> SmsReceipt:
        stream = self._stream or sys.stdout
        print(f"\n📱 SMS to {sms.to} (from {sms.from_}):\n   {sms.body}\n", file=stream, flush=True)
        return SmsReceipt(provider_sid="SM" + uuid.uuid4().hex, status="sent")

    async def find_sent(self, sms: OutgoingSms, since: datetime) -> Sequence[SmsReceipt]:
        # Printing cannot time out half-way, so there is never anything to reconcile.
        return ()
