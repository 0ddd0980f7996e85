"""Golden tests of the conversation's words: segments, keywords, picks and the assistant's texts.

Every expected value is written out by hand from the rules (GSM 03.38, the CTIA keywords, the
offers as a caller reads them), never computed with the code under test.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from nmc_domain.conversation import texts
from nmc_domain.conversation.keywords import Keyword, keyword_of
from nmc_domain.conversation.memory import Offer
from nmc_domain.conversation.picks import pick_offer
from nmc_domain.messaging.segments import count_segments, is_gsm7

CHICAGO = ZoneInfo("America/Chicago")
NEW_YORK = ZoneInfo("America/New_York")
CURLY = "\u2019"  # the right single quotation mark: not in GSM-7
EMOJI = "\U0001f527"  # 🔧 : outside the BMP, a surrogate pair in UTF-16

# --- segments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "count", "units"),
    [
        ("", "GSM-7", 1, 0),
        ("a" * 160, "GSM-7", 1, 160),
        ("a" * 161, "GSM-7", 2, 161),
        ("a" * 306, "GSM-7", 2, 306),
        ("a" * 307, "GSM-7", 3, 307),
        ("é" * 160, "GSM-7", 1, 160),  # é is in the basic set: still one septet
        ("ж" * 70, "UCS-2", 1, 70),
        ("ж" * 71, "UCS-2", 2, 71),
        ("ж" * 134, "UCS-2", 2, 134),
        ("ж" * 135, "UCS-2", 3, 135),
    ],
)
def test_segment_boundaries(text: str, encoding: str, count: int, units: int) -> None:
    segments = count_segments(text)

    assert (segments.encoding, segments.count, segments.units) == (encoding, count, units)


@pytest.mark.parametrize("intruder", [CURLY, EMOJI, "ê"])
def test_one_character_outside_gsm7_makes_the_whole_text_ucs2(intruder: str) -> None:
    # 60 plain letters are 60 septets; with one intruder they are UTF-16 units instead.
    assert count_segments("a" * 60).encoding == "GSM-7"
    segments = count_segments("a" * 60 + intruder)

    assert segments.encoding == "UCS-2"
    assert not is_gsm7("a" * 60 + intruder)


def test_one_curly_apostrophe_turns_160_gsm_characters_into_three_segments() -> None:
    # "a" * 159 + CURLY is 160 characters: one GSM-7 segment if it were "'", three UCS-2 ones
    # (67 + 67 + 26 units) as it is.
    assert count_segments("a" * 159 + "'").count == 1
    assert count_segments("a" * 159 + CURLY).count == 3


@pytest.mark.parametrize("escaped", list("^{}\\[~]|€"))
def test_extension_characters_cost_two_septets(escaped: str) -> None:
    assert count_segments(escaped).units == 2
    assert count_segments(escaped * 80).count == 1  # 160 septets
    assert count_segments(escaped * 81).count == 2  # 162 septets
    assert count_segments("a" * 159 + escaped).count == 2  # 161 septets


def test_euro_signs_at_the_single_segment_boundary() -> None:
    assert (count_segments("€" * 80).units, count_segments("€" * 80).count) == (160, 1)
    assert (count_segments("€" * 81).units, count_segments("€" * 81).count) == (162, 2)


def test_an_escape_pair_never_straddles_two_segments() -> None:
    # 152 + 2 + 152 = 306 septets would fill two segments exactly, but the € (ESC + e) would
    # start at septet 153 of the first: it moves whole to the second, which then overflows.
    text = "a" * 152 + "€" + "a" * 152
    assert count_segments(text).units == 306
    assert count_segments(text).count == 3
    # Without the split problem the same 306 septets fit in two.
    assert count_segments("a" * 151 + "€" + "a" * 153).count == 2


def test_an_emoji_is_never_split_across_segments() -> None:
    # 66 + 2 + 66 = 134 units would fill two UCS-2 segments, but the surrogate pair would
    # straddle units 67 and 68: it moves whole to the second segment, leaving one unit over.
    text = "a" * 66 + EMOJI + "a" * 66
    assert count_segments(text).units == 134
    assert count_segments(text).count == 3
    assert count_segments("a" * 65 + EMOJI + "a" * 67).count == 2
    assert count_segments(EMOJI * 35).count == 1  # 70 units
    assert count_segments(EMOJI * 36).count == 2  # 72 units


# --- keywords ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        " Stop please",
        "STOP!!",
        "  stop.  ",
        "opt out",
        "OPT-OUT",
        "Opt out.",
        "Optout",
        "OPTOUT",
        "STOPALL",
        "unsubscribe",
        "UNSUBSCRIBE",
        "Cancel",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "Stop texting me",
    ],
)
def test_opt_out_words(text: str) -> None:
    assert keyword_of(text) is Keyword.OPT_OUT


@pytest.mark.parametrize("text", ["START", "start", "UNSTOP", "Yes", "YES!", " yes "])
def test_opt_in_words(text: str) -> None:
    assert keyword_of(text) is Keyword.OPT_IN


@pytest.mark.parametrize("text", ["HELP", "help", "Help?", "INFO", " info. "])
def test_help_words_alone(text: str) -> None:
    assert keyword_of(text) is Keyword.HELP


@pytest.mark.parametrize(
    "text",
    [
        "Help, my pipe burst",
        "info about the water heater please",
        "please stop",
        "don't stop",
        "my water heater is leaking",
        "stopped drain",  # a word that starts with STOP is not STOP
        "optional",
        "",
        "!!!",
        "2",
    ],
)
def test_not_keywords(text: str) -> None:
    assert keyword_of(text) is None


# --- picks ---------------------------------------------------------------------------------


def offer(number: int, local: datetime) -> Offer:
    return Offer(number, uuid.uuid4(), uuid.uuid4(), local, local + timedelta(minutes=90))


# Mon Dec 1, 10:00 AM; Tue Dec 2, 9:00 AM; Tue Dec 2, 2:00 PM (Chicago).
OFFERS = (
    offer(1, datetime(2025, 12, 1, 10, 0, tzinfo=CHICAGO)),
    offer(2, datetime(2025, 12, 2, 9, 0, tzinfo=CHICAGO)),
    offer(3, datetime(2025, 12, 2, 14, 0, tzinfo=CHICAGO)),
)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("2", 2),
        ("2.", 2),
        ("#2", 2),
        ("# 2", 2),
        ("option 2", 2),
        ("Option #3", 3),
        ("the second one", 2),
        ("the first one", 1),
        ("second", 2),
        ("2nd", 2),
        ("the 3rd please", 3),
        ("two please", 2),
        ("9am tuesday", 2),
        ("Tuesday 9am", 2),
        ("tue 9:00", 2),
        ("9:00 AM", 2),
        ("2pm", 3),
        ("2 pm", 3),  # the time, not option 2
        ("2:00 pm", 3),
        ("10am", 1),
        ("mon 10", 1),
    ],
)
def test_pick_offer_reads_the_pick(text: str, number: int) -> None:
    picked = pick_offer(text, OFFERS, CHICAGO)

    assert picked is not None, text
    assert picked.number == number


@pytest.mark.parametrize(
    "text",
    [
        "1 or 2",  # two numbers
        "first or second",
        "9",  # a bare number that is not an offer's number and not a time
        "4",  # no fourth offer
        "at 9",  # no day, no am/pm
        "tuesday",  # two offers on Tuesday
        "wed 9am",  # no offer then
        "11am",
        "hello",
        "",
        "my water heater is leaking",
    ],
)
def test_pick_offer_ambiguous_or_absent_is_none(text: str) -> None:
    assert pick_offer(text, OFFERS, CHICAGO) is None


def test_nothing_is_picked_when_nothing_was_offered() -> None:
    assert pick_offer("2", (), CHICAGO) is None


def test_a_time_is_read_in_the_tenants_zone() -> None:
    # Offer 2 is 9:00 Chicago, 10:00 in New York: "10am" names it only in New York's zone.
    shifted = tuple(offer(o.number, o.start.astimezone(NEW_YORK)) for o in OFFERS)  # same instants
    picked = pick_offer("tue 10am", shifted, NEW_YORK)
    assert picked is not None
    assert picked.number == 2
    assert pick_offer("tue 10am", OFFERS, CHICAGO) is None


# --- texts ---------------------------------------------------------------------------------


def test_gsm7_keeps_the_basic_set_and_strips_or_plains_the_rest() -> None:
    text = f"Café \u2013 \u201cJoe{CURLY}s\u201d naïve\u2026 {EMOJI}ok"  # en dash, curly quotes

    assert texts.gsm7(text) == 'Café - "Joe\'s" naive... ok'
    assert texts.gsm7("😀🔥🚿") == ""
    assert texts.gsm7("Ærø Søren Ñandú") == "Ærø Søren Ñandu"  # ú is not in GSM-7: u


def test_fit_leaves_short_texts_alone() -> None:
    assert texts.fit("See you then!") == "See you then!"
    assert texts.fit("a" * 306) == "a" * 306


def test_fit_cuts_to_two_segments_with_an_ellipsis() -> None:
    assert texts.fit("a" * 307) == "a" * 303 + "..."
    assert texts.fit("ê" * 400) == "e" * 303 + "..."  # plained to GSM-7 first, then cut


def test_fit_of_an_emoji_storm_is_gsm7_and_short() -> None:
    fitted = texts.fit(("Plumbing " + EMOJI * 5) * 40)

    segments = count_segments(fitted)
    assert segments.encoding == "GSM-7"
    assert segments.count <= 2
    assert fitted.endswith("...")


def test_lead_with_puts_the_line_first() -> None:
    assert texts.lead_with("Automated assistant for ACME", "Hi!") == (
        "Automated assistant for ACME. Hi!"
    )


def test_lead_with_shortens_the_line_rather_than_the_body() -> None:
    body = "b" * 290
    led = texts.lead_with("Automated assistant for " + "Z" * 100, body)

    # 290 + ". " leaves 14 septets of the 306 for the line: 11 of it and "...".
    assert led == "Automated a.... " + body
    assert count_segments(led).count == 2


def test_lead_with_a_body_that_fills_two_segments_cuts_the_end() -> None:
    led = texts.lead_with("Automated assistant", "b" * 306)

    assert count_segments(led).count == 2
    assert led.endswith("...")


@pytest.mark.parametrize(
    ("moment", "zone", "expected"),
    [
        (datetime(2025, 12, 2, 15, 0, tzinfo=UTC), CHICAGO, "Tue Dec 2, 9:00 AM"),
        (datetime(2025, 12, 2, 15, 0, tzinfo=UTC), NEW_YORK, "Tue Dec 2, 10:00 AM"),
        (datetime(2025, 12, 2, 18, 30, tzinfo=UTC), CHICAGO, "Tue Dec 2, 12:30 PM"),
        (datetime(2025, 12, 3, 6, 5, tzinfo=UTC), CHICAGO, "Wed Dec 3, 12:05 AM"),
        # Summer time: Chicago is UTC-5 in July.
        (datetime(2025, 7, 4, 21, 0, tzinfo=UTC), CHICAGO, "Fri Jul 4, 4:00 PM"),
    ],
)
def test_when_formats_in_the_tenants_zone(moment: datetime, zone: ZoneInfo, expected: str) -> None:
    assert texts.when(moment, zone) == expected


@pytest.mark.parametrize(
    ("cents", "currency", "expected"),
    [(18_900, "USD", "$189.00"), (123_450, "CAD", "$1,234.50"), (5, "EUR", "0.05 EUR")],
)
def test_money(cents: int, currency: str, expected: str) -> None:
    assert texts.money(cents, currency) == expected


def test_the_offers_text() -> None:
    assert texts.offers("Water heater flush", "$189.00", OFFERS, CHICAGO) == (
        "Water heater flush: $189.00. Reply 1, 2 or 3 to book:\n"
        "1) Mon Dec 1, 10:00 AM\n"
        "2) Tue Dec 2, 9:00 AM\n"
        "3) Tue Dec 2, 2:00 PM"
    )
    assert texts.offers("Drain clean", "$99.00", OFFERS[:1], CHICAGO) == (
        "Drain clean: $99.00. Reply 1 to book:\n1) Mon Dec 1, 10:00 AM"
    )
    assert texts.offers("Drain clean", "$99.00", OFFERS[:2], CHICAGO).startswith(
        "Drain clean: $99.00. Reply 1 or 2 to book:\n"
    )


def test_the_booked_and_handed_off_texts() -> None:
    start = datetime(2025, 12, 2, 15, 0, tzinfo=UTC)

    assert texts.booked("Water heater flush", start, "$189.00", CHICAGO) == (
        "You're booked: Water heater flush, Tue Dec 2, 9:00 AM, $189.00. See you then!"
    )
    assert texts.handed_off(f"ACME {EMOJI} Plumbing") == (
        "Thanks! Someone from ACME  Plumbing will text you back shortly."
    )
    assert texts.clarify().startswith("Sorry, what do you need help with?")
