"""Errors of messaging: the three ways handing an SMS to the provider can fail."""

from __future__ import annotations

from nmc_domain.shared.errors import DomainError

__all__ = ["SmsNotSent", "SmsOutcomeUnknown", "SmsRejected", "SmsSendError"]


class SmsSendError(DomainError):
    """Base of the three ways an SMS send can fail."""


class SmsRejected(SmsSendError):
    """The provider refused the message for good (bad number, blocked): do not retry."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"provider rejected the message ({code}): {detail}")
        self.code = code
        self.detail = detail


class SmsNotSent(SmsSendError):
    """The provider certainly did not accept the message (no connection, 5xx, 429): retry."""


class SmsOutcomeUnknown(SmsSendError):
    """The request may have reached the provider (timeout after sending): reconcile first."""
