"""Unit tests for the text-back template: checked when built, so rendering never fails."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nmc_domain.shared.errors import InvalidInput
from nmc_domain.tenancy.errors import TemplateError
from nmc_domain.tenancy.template import DEFAULT_TEXT_BACK, TextBackTemplate

BUSINESS = "ACME-PLUMBING"


def test_default_template_renders_with_the_business_name() -> None:
    body = TextBackTemplate().render(business_name=BUSINESS)

    assert TextBackTemplate().text == DEFAULT_TEXT_BACK
    assert body.startswith("Hi, this is ACME-PLUMBING. Sorry we missed your call!")
    assert "{" not in body
    assert "}" not in body


def test_business_name_placeholder_is_filled_everywhere() -> None:
    template = TextBackTemplate("{business_name} here! Text {business_name} back anytime.")

    body = template.render(business_name="Bob's Boilers")

    assert body == "Bob's Boilers here! Text Bob's Boilers back anytime."


def test_braces_in_the_business_name_are_not_interpreted() -> None:
    body = TextBackTemplate("Hi from {business_name}").render(business_name="{first_name} HVAC")

    assert body == "Hi from {first_name} HVAC"


def test_unknown_variable_is_rejected_at_construction_naming_it_and_the_field() -> None:
    with pytest.raises(TemplateError) as caught:
        TextBackTemplate("Hi {first_name}, {business_name} will call you back.")

    assert isinstance(caught.value, InvalidInput)
    assert caught.value.field == "text_back_template"
    assert "{first_name}" in str(caught.value)
    assert "text_back_template" in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Hi from {}", id="positional-auto"),
        pytest.param("Hi from {0}", id="positional-index"),
        pytest.param("Hi from {business_name.upper}", id="attribute-access"),
        pytest.param("Hi from {business_name[0]}", id="item-access"),
        pytest.param("Hi from {business_name:>10}", id="format-spec"),
        pytest.param("Hi from {business_name!r}", id="conversion"),
        pytest.param("Hi from {business_name!s:^20}", id="conversion-and-spec"),
        pytest.param("Hi from { business_name }", id="spaces-inside-braces"),
        pytest.param("Hi from {BUSINESS_NAME}", id="wrong-case"),
        pytest.param("Hi from {business_name", id="unclosed-brace"),
        pytest.param("Hi from business_name}", id="lone-closing-brace"),
        pytest.param("}", id="only-closing-brace"),
        pytest.param("{", id="only-opening-brace"),
        pytest.param("Hi from {business_name}}", id="extra-closing-brace"),
        pytest.param("Hi from {business_name!}", id="empty-conversion"),
    ],
)
def test_malformed_or_unsupported_placeholders_are_rejected_at_construction(text: str) -> None:
    with pytest.raises(TemplateError) as caught:
        TextBackTemplate(text)

    assert caught.value.field == "text_back_template"


def test_escaped_braces_render_literally() -> None:
    template = TextBackTemplate("{{ACME}} {business_name}: reply {{YES}} to book}}")

    body = template.render(business_name=BUSINESS)

    assert body == "{ACME} ACME-PLUMBING: reply {YES} to book}"


@pytest.mark.parametrize("text", ["", " ", "   \n\t  "])
def test_empty_or_blank_template_is_rejected(text: str) -> None:
    with pytest.raises(TemplateError, match="empty"):
        TextBackTemplate(text)


def test_template_of_exactly_1600_characters_is_accepted() -> None:
    text = "{business_name}" + "x" * (1600 - len("{business_name}"))

    assert len(TextBackTemplate(text).text) == 1600


def test_template_over_1600_characters_is_rejected() -> None:
    text = "{business_name}" + "x" * (1601 - len("{business_name}"))

    with pytest.raises(TemplateError, match="1600"):
        TextBackTemplate(text)


# Literal text never contains an upper-case letter or "-", business names only those: so the
# business name can only appear in the rendered text where a placeholder put it.
_literal = st.text(alphabet="abcxyz {}!?.,:'\n0123", max_size=40)
_business_name = st.text(alphabet="ACMEPLUMBINGHVAC-", min_size=1, max_size=30)


def _escape(literal: str) -> str:
    return literal.replace("{", "{{").replace("}", "}}")


@given(segments=st.lists(_literal, min_size=2, max_size=11), name=_business_name)
def test_escaped_literals_with_placeholders_render_the_name_once_per_placeholder(
    segments: list[str], name: str
) -> None:
    text = "{business_name}".join(_escape(s) for s in segments)

    body = TextBackTemplate(text).render(business_name=name)

    placeholders = len(segments) - 1
    assert body == name.join(segments)
    assert body.count(name) == placeholders
