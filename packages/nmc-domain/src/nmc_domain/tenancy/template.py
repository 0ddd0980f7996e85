"""Message templates: checked when saved, so a caller never waits on a broken one."""

from __future__ import annotations

import string

import attrs

from nmc_domain.tenancy.errors import TemplateError

__all__ = ["DEFAULT_TEXT_BACK", "TEXT_BACK_VARIABLES", "TextBackTemplate"]

TEXT_BACK_VARIABLES = frozenset({"business_name"})
DEFAULT_TEXT_BACK = (
    "Hi, this is {business_name}. Sorry we missed your call! "
    "What can we help you with? Reply here and we'll get you sorted."
)
# Twilio concatenates at most 1,600 characters into one message.
MAX_TEMPLATE_LENGTH = 1600


def _check(instance: TextBackTemplate, attribute: attrs.Attribute[str], text: str) -> None:
    if not text.strip():
        raise TemplateError("text_back_template", "must not be empty")
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise TemplateError("text_back_template", f"longer than {MAX_TEMPLATE_LENGTH} characters")
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError("text_back_template", f"malformed braces ({exc})") from exc
    available = ", ".join("{" + v + "}" for v in sorted(TEXT_BACK_VARIABLES))
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in TEXT_BACK_VARIABLES:
            shown = "{" + field + "}" if field else "{}"
            raise TemplateError(
                "text_back_template", f"unknown variable {shown}; available: {available}"
            )
        if spec or conversion:
            raise TemplateError(
                "text_back_template", "format specs and conversions are not allowed"
            )


@attrs.frozen
class TextBackTemplate:
    """The first text a missed caller receives; `{business_name}` is filled in."""

    text: str = attrs.field(default=DEFAULT_TEXT_BACK, validator=_check)

    def render(self, *, business_name: str) -> str:
        """The message body for this business."""
        return self.text.format(business_name=business_name)
