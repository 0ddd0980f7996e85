"""A tenant's conversation settings: when silence closes a thread, the HELP line, the
assistant's disclosure."""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any
from uuid import UUID

import attrs

from nmc_domain.shared.errors import InvalidInput

__all__ = [
    "DEFAULT_DISCLOSURE",
    "SHORTEST_IDLE_HOURS",
    "ConversationSettings",
    "change_conversation_settings",
]

DEFAULT_DISCLOSURE = "Automated assistant for {business_name}"
_IDLE_HOURS = (1, 720)
SHORTEST_IDLE_HOURS = _IDLE_HOURS[0]
_MAX_LINE = 100


def _idle(value: object) -> int:
    low, high = _IDLE_HOURS
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("conversation_idle_hours", "must be an integer")
    if not low <= value <= high:
        raise InvalidInput("conversation_idle_hours", f"must be between {low} and {high}")
    return value


def _line(field: str, variables: frozenset[str]) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(field, "must be a non-empty text or null")
        if len(value) > _MAX_LINE:
            raise InvalidInput(field, f"longer than {_MAX_LINE} characters")
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as exc:
            raise InvalidInput(field, f"malformed braces ({exc})") from None
        if not names <= variables:
            unknown = ", ".join(sorted(names - variables)) or "{}"
            raise InvalidInput(field, f"unknown variable {unknown}")
        return value.strip()

    return check


_CHECKS: dict[str, Callable[[object], Any]] = {
    "conversation_idle_hours": _idle,
    "help_contact": _line("help_contact", frozenset()),
    "assistant_disclosure": _line("assistant_disclosure", frozenset({"business_name"})),
}


@attrs.frozen
class ConversationSettings:
    tenant_id: UUID
    conversation_idle_hours: int = 24
    # None: the business's forward-to number.
    help_contact: str | None = None
    # None: DEFAULT_DISCLOSURE.
    assistant_disclosure: str | None = None

    def disclosure(self, business_name: str) -> str:
        return (self.assistant_disclosure or DEFAULT_DISCLOSURE).format(business_name=business_name)


def change_conversation_settings(
    settings: ConversationSettings, **changes: object
) -> ConversationSettings:
    checked: dict[str, Any] = {}
    for field, value in changes.items():
        check = _CHECKS.get(field)
        if check is None:
            raise InvalidInput(field, "is not a conversation setting")
        checked[field] = check(value)
    return attrs.evolve(settings, **checked)
