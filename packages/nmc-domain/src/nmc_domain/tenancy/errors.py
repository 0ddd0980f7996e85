"""Errors of tenancy: onboarding input that cannot be taken."""

from __future__ import annotations

from nmc_domain.shared.errors import DomainError, InvalidInput

__all__ = ["InvalidPhoneNumber", "NumberAlreadyTaken", "TemplateError"]


class InvalidPhoneNumber(InvalidInput):
    """A phone number could not be read as a valid, dialable number."""


class TemplateError(InvalidInput):
    """A message template refers to a variable we cannot fill, or is malformed."""


class NumberAlreadyTaken(DomainError):
    """The phone number already routes to a tenant (one number, one tenant)."""

    def __init__(self, number: str) -> None:
        super().__init__(f"number {number} already belongs to a tenant")
        self.number = number
