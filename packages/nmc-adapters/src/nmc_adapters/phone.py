"""Phone numbers as people type them, read with libphonenumber into E.164."""

from __future__ import annotations

import phonenumbers

from nmc_domain.tenancy.errors import InvalidPhoneNumber

__all__ = ["LibPhoneNumbers"]


class LibPhoneNumbers:
    """PhoneNumberParser on `phonenumbers`; national numbers are read in `default_region`."""

    def __init__(self, default_region: str = "US") -> None:
        self._region = default_region

    def parse(self, text: str, *, field: str) -> str:
        try:
            number = phonenumbers.parse(text, self._region)
        except phonenumbers.NumberParseException as exc:
            raise InvalidPhoneNumber(field, f"not a phone number: {text!r}") from exc
        if not phonenumbers.is_valid_number(number):
            raise InvalidPhoneNumber(field, f"not a valid phone number: {text!r}")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
