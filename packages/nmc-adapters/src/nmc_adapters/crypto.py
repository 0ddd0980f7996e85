"""Fernet (from `cryptography`) behind the domain's Sealer: tokens at rest and OAuth states."""

from __future__ import annotations

import time
from collections.abc import Callable

from cryptography.fernet import Fernet, InvalidToken

from nmc_domain.shared.secrets import SealBroken

__all__ = ["FernetSealer", "new_fernet_key"]


class FernetSealer:
    """Seals with NMC_SECRET_KEY; `clock` (seconds since the epoch) lets tests age a token."""

    def __init__(self, key: str, *, clock: Callable[[], float] = time.time) -> None:
        self._fernet = Fernet(key.encode("ascii"))
        self._clock = clock

    def seal(self, text: str) -> str:
        return self._fernet.encrypt_at_time(text.encode("utf-8"), int(self._clock())).decode(
            "ascii"
        )

    def unseal(self, sealed: str, *, max_age_seconds: float | None = None) -> str:
        try:
            token = sealed.encode("ascii")
            if max_age_seconds is None:
                return self._fernet.decrypt(token).decode("utf-8")
            ttl = max(1, int(max_age_seconds))
            return self._fernet.decrypt_at_time(token, ttl, int(self._clock())).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError, TypeError):
            raise SealBroken("sealed value is invalid, from another key, or expired") from None


def new_fernet_key() -> str:
    """A fresh key for NMC_SECRET_KEY."""
    return Fernet.generate_key().decode("ascii")
