"""Errors of scheduling: a time that is taken, or that cannot be booked at all."""

from __future__ import annotations

from nmc_domain.shared.errors import Conflict, Gone, InvalidInput

__all__ = ["HoldExpired", "NotBookable", "SlotTaken"]


class SlotTaken(Conflict):
    """Another hold, booking or busy block already has (part of) this time (409)."""

    def __init__(self, reason: str = "this time is taken") -> None:
        super().__init__("start", reason)


class NotBookable(InvalidInput):
    """The time can never be booked as asked: outside hours, too soon, too far, in the past."""

    def __init__(self, reason: str, field: str = "start") -> None:
        super().__init__(field, reason)


class HoldExpired(Gone):
    """The hold's time limit passed (or it was released) before it was booked (410)."""

    def __init__(self, hold_id: object) -> None:
        super().__init__("hold", hold_id)
        self.args = (f"hold {hold_id} expired or was released",)
