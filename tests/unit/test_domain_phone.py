"""Unit tests for the domain's view of phone numbers: the E.164 shape and masking for logs."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nmc_domain.shared.phone import is_e164, mask_number


@pytest.mark.parametrize(
    "number",
    [
        "+15005550006",
        "+442079460958",
        "+18005551212",
        "+1234567",  # shortest shape accepted: seven digits
        "+123456789012345",  # longest E.164: fifteen digits
    ],
)
def test_e164_numbers_are_accepted(number: str) -> None:
    assert is_e164(number) is True


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("anonymous", id="caller-id-withheld"),
        pytest.param("", id="empty"),
        pytest.param("+", id="plus-only"),
        pytest.param("15005550006", id="no-plus"),
        pytest.param("+0123456789", id="leading-zero"),
        pytest.param("+1 500 555 0006", id="spaces"),
        pytest.param("+1-500-555-0006", id="dashes"),
        pytest.param("+1(500)5550006", id="parentheses"),
        pytest.param("++15005550006", id="double-plus"),
        pytest.param("+1234567890123456", id="sixteen-digits"),
        pytest.param("+15005550006000000000", id="far-too-long"),
        pytest.param("+123456", id="six-digits"),
        pytest.param(" +15005550006", id="leading-space"),
        pytest.param("+15005550006 ", id="trailing-space"),
        pytest.param("+1500555000x", id="letter"),
        pytest.param("tel:+15005550006", id="tel-uri"),
    ],
)
def test_values_without_e164_shape_are_rejected(value: str) -> None:
    assert is_e164(value) is False


def test_trailing_newline_is_not_e164() -> None:
    assert is_e164("+15005550006\n") is False


def test_non_ascii_digits_are_not_e164() -> None:
    assert is_e164("+1\u0665\u0660\u0660\u0665\u0665\u0665\u0660\u0660\u0660\u0666") is False


@given(
    digits=st.text(alphabet="0123456789", min_size=6, max_size=14),
    lead=st.sampled_from("123456789"),
)
def test_every_plus_nonzero_lead_and_7_to_15_ascii_digits_is_e164(digits: str, lead: str) -> None:
    assert is_e164("+" + lead + digits) is True


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+18005551212", "+*******1212"),
        ("+15005550006", "+*******0006"),
        ("+442079460958", "+********0958"),
        ("anonymous", "*****mous"),
    ],
)
def test_mask_keeps_the_plus_and_the_last_four_digits(value: str, masked: str) -> None:
    assert mask_number(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"), [("", ""), ("7", "*"), ("+1", "**"), ("1212", "****")]
)
def test_short_values_are_fully_masked(value: str, masked: str) -> None:
    assert mask_number(value) == masked


@given(
    digits=st.text(alphabet="0123456789", min_size=6, max_size=14),
    lead=st.sampled_from("123456789"),
)
def test_mask_keeps_length_and_last_four_and_hides_every_other_digit(
    digits: str, lead: str
) -> None:
    number = "+" + lead + digits

    masked = mask_number(number)

    assert len(masked) == len(number)
    assert masked[0] == "+"
    assert masked[-4:] == number[-4:]
    assert set(masked[1:-4]) == {"*"}
