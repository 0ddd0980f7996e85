"""The catalog page's forms read and written: a service item (the price in dollars and cents,
aliases as comma-separated text), the weekly hours (rows of start and end per weekday), and
which form field a domain fault names. Only the form's shape is checked here; every rule is
the domain's."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import attrs

from nmc_domain.catalog.model import PRICE_CENTS, ServiceItem
from nmc_domain.conversation.texts import money
from nmc_domain.messaging.segments import Segments
from nmc_domain.scheduling.model import Weekday, WeeklyHours, format_minutes

__all__ = [
    "DAYS",
    "HourRow",
    "ItemForm",
    "field_message",
    "hours_fault",
    "hours_rows",
    "item_values",
    "parse_hours",
    "parse_item",
    "segments_words",
]

_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# (the domain's weekday label, its name): the form's days in order.
DAYS = tuple((day.label, _NAMES[day]) for day in Weekday)
_PRICE = re.compile(r"^\$?\s*([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]{1,2}))?$")
_WHOLE = re.compile(r"^[+-]?[0-9]+$")
_HOUR_FIELD = re.compile(r"^hours-(mon|tue|wed|thu|fri|sat|sun)-([0-9]{1,3})-(start|end)$")
_ORDER = {label: i for i, (label, _) in enumerate(DAYS)}
# A domain field, as the item form names it.
_ITEM_FIELDS = {"price_cents": "price", "duration_minutes": "duration"}


def field_message(reason: str) -> str:
    """A domain reason as a sentence next to its field ("must not be empty" → "Must not be
    empty")."""
    return reason[:1].upper() + reason[1:]


def _price_text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def item_values(item: ServiceItem | None) -> dict[str, str]:
    """The item form's values for an item (a new one: active, nothing else filled)."""
    if item is None:
        return {"active": "on", "priority": "0"}
    return {
        "name": item.name,
        "price": _price_text(item.price_cents),
        "duration": str(item.duration_minutes),
        "aliases": ", ".join(item.aliases),
        "priority": str(item.priority),
        "active": "on" if item.active else "",
    }


@attrs.frozen
class ItemForm:
    """An item form read: the fields the domain takes (None where the form was unreadable),
    and what was wrong with the form's own shape."""

    fields: dict[str, object]
    errors: dict[str, str]

    @staticmethod
    def field_of(domain_field: str) -> str:
        return _ITEM_FIELDS.get(domain_field, domain_field)

    @staticmethod
    def reason_of(domain_field: str, reason: str) -> str:
        if domain_field == "price_cents" and reason.startswith("must be between"):
            low, high = PRICE_CENTS
            return f"Must be between {money(low, 'USD')} and {money(high, 'USD')}"
        return field_message(reason)


def _price(text: str) -> int | None:
    found = _PRICE.match(text.strip())
    if found is None:
        return None
    dollars = int(found[1].replace(",", ""))
    return dollars * 100 + int((found[2] or "0").ljust(2, "0"))


def parse_item(values: Mapping[str, str]) -> ItemForm:
    """The item form: the price in dollars ("189", "189.50", "$1,250.00"), the duration in
    whole minutes, the aliases comma-separated, active as a checkbox."""
    fields: dict[str, object] = {"name": values.get("name", "")}
    errors: dict[str, str] = {}
    price = _price(values.get("price", ""))
    if price is None:
        errors["price"] = "Write the price in dollars and cents, like 189.00"
    fields["price_cents"] = price
    duration = values.get("duration", "").strip()
    if not _WHOLE.match(duration):
        errors["duration"] = "Write the duration in whole minutes, like 90"
    fields["duration_minutes"] = int(duration) if _WHOLE.match(duration) else None
    priority = values.get("priority", "").strip() or "0"
    if not _WHOLE.match(priority):
        errors["priority"] = "Write a whole number, like 0 or 10"
    fields["priority"] = int(priority) if _WHOLE.match(priority) else None
    fields["aliases"] = [a for a in (p.strip() for p in values.get("aliases", "").split(",")) if a]
    fields["active"] = bool(values.get("active"))
    return ItemForm(fields, errors)


@attrs.frozen
class HourRow:
    """One period's row in the hours form: `key` is "mon-0"."""

    key: str
    day: str
    start: str
    end: str

    @property
    def blank(self) -> bool:
        return not self.start and not self.end


def hours_rows(hours: WeeklyHours) -> dict[str, list[HourRow]]:
    """The stored hours as the form's rows, per weekday (each with one blank row to add a
    period)."""
    rows: dict[str, list[HourRow]] = {label: [] for label, _ in DAYS}
    for period in hours.periods:
        label = period.weekday.label
        n = len(rows[label])
        rows[label].append(
            HourRow(f"{label}-{n}", label, format_minutes(period.start), format_minutes(period.end))
        )
    return _with_blank(rows)


def _with_blank(rows: dict[str, list[HourRow]]) -> dict[str, list[HourRow]]:
    for label, day_rows in rows.items():
        if not day_rows or not day_rows[-1].blank:
            day_rows.append(HourRow(f"{label}-{len(day_rows)}", label, "", ""))
    return rows


def parse_hours(
    values: Mapping[str, str],
) -> tuple[dict[str, list[HourRow]], list[tuple[str, str, str]], list[str], dict[str, str]]:
    """The hours form: its rows (as typed, renumbered, a blank one per day), the periods for
    the domain (weekday, start, end), which row each period came from, and rows with only
    one of start and end."""
    typed: dict[tuple[str, int], dict[str, str]] = {}
    for name, value in values.items():
        found = _HOUR_FIELD.match(name)
        if found is not None:
            typed.setdefault((found[1], int(found[2])), {})[found[3]] = value.strip()
    rows: dict[str, list[HourRow]] = {label: [] for label, _ in DAYS}
    for day, n in sorted(typed, key=lambda k: (_ORDER[k[0]], k[1])):
        given = typed[(day, n)]
        row = HourRow(f"{day}-{len(rows[day])}", day, given.get("start", ""), given.get("end", ""))
        if not row.blank:
            rows[day].append(row)
    periods: list[tuple[str, str, str]] = []
    keys: list[str] = []
    errors: dict[str, str] = {}
    for day_rows in rows.values():
        for row in day_rows:
            if not row.start or not row.end:
                errors[row.key] = "Give both the opening and the closing time, or clear both"
                continue
            periods.append((row.day, row.start, row.end))
            keys.append(row.key)
    return _with_blank(rows), periods, keys, errors


def hours_fault(field: str, keys: Sequence[str]) -> str:
    """The row a domain fault ("periods[3].start") names; "hours" when none does."""
    found = re.match(r"^periods\[([0-9]+)\]", field)
    if found is not None and int(found[1]) < len(keys):
        return keys[int(found[1])]
    return "hours"


def segments_words(segments: Segments) -> str:
    """ "1 segment", "2 segments (Unicode: ...)": what a text costs to send."""
    words = f"{segments.count} segment{'' if segments.count == 1 else 's'}"
    if segments.encoding != "GSM-7":
        words += " (Unicode: emoji or special characters make segments shorter)"
    return words
