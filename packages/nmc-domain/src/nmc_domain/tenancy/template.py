"""Message templates: checked when saved, so a caller never waits on a broken one."""

from __future__ import annotations

import string

import attrs

from nmc_domain.tenancy.errors import TemplateError

__all__ = [
    "AFTER_HOURS_VARIABLES",
    "DEFAULT_AFTER_HOURS",
    "DEFAULT_TEXT_BACK",
    "TEXT_BACK_VARIABLES",
    "AfterHoursTemplate",
    "TextBackTemplate",
    "check_template",
]

TEXT_BACK_VARIABLES = frozenset({"business_name"})
AFTER_HOURS_VARIABLES = frozenset({"business_name", "next_open"})
DEFAULT_TEXT_BACK = (
    "Hi, this is {business_name}. Sorry we missed your call! "
    "What can we help you with? Reply here and we'll get you sorted."
)
DEFAULT_AFTER_HOURS = (
    "Hi, this is {business_name}. Sorry we missed your call! We're closed now and open "
    "again {next_open}. Reply here with what you need and we'll get back to you."
)
# Twilio concatenates at most 1,600 characters into one message.
MAX_TEMPLATE_LENGTH = 1600


def check_template(field: str, text: str, variables: frozenset[str]) -> None:
    """TemplateError naming `field` unless `text` is a template over exactly these variables."""
    if not text.strip():
        raise TemplateError(field, "must not be empty")
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise TemplateError(field, f"longer than {MAX_TEMPLATE_LENGTH} characters")
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError(field, f"malformed braces ({exc})") from exc
    available = ", ".join("{" + v + "}" for v in sorted(variables))
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in variables:
            shown = "{" + name + "}" if name else "{}"
            raise TemplateError(field, f"unknown variable {shown}; available: {available}")
        if spec or conversion:
            raise TemplateError(field, "format specs and conversions are not allowed")


def _text_back(instance: object, attribute: attrs.Attribute[str], text: str) -> None:
    check_template("text_back_template", text, TEXT_BACK_VARIABLES)


def _after_hours(instance: object, attribute: attrs.Attribute[str], text: str) -> None:
    check_template("after_hours_template", text, AFTER_HOURS_VARIABLES)


@attrs.frozen
class TextBackTemplate:
    """The first text a missed caller receives; `{business_name}` is filled in."""

    text: str = attrs.field(default=DEFAULT_TEXT_BACK, validator=_text_back)

    def render(self, *, business_name: str) -> str:
        """The message body for this business."""
        return self.text.format(business_name=business_name)


@attrs.frozen
class AfterHoursTemplate:
    """The text-back while the business is closed; `{next_open}` says when it opens again."""

    text: str = attrs.field(default=DEFAULT_AFTER_HOURS, validator=_after_hours)

    def render(self, *, business_name: str, next_open: str) -> str:
        return self.text.format(business_name=business_name, next_open=next_open)
