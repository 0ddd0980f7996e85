"""The inbox's SVG charts (nmc_api.web.charts): the axis' top, bar positions and heights,
empty data, one day, the day labels' spacing, the funnel's widths, accessible names, and
every text escaped (the SVG parses as XML whatever the labels say).

Geometry, by hand: a daily chart is 640 x 220 with the plot from x 56 to 632 (576 wide) and
y 12 to 192 (180 high); each of n days has a 576/n slot, its bar 70% of it, centred. The
funnel's bars start at x 150 and the largest is 430 wide.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest

from nmc_api.web.charts import Bar, bar_chart, funnel_chart, nice_max, number

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 (our own output, not untrusted input)


def rects(svg: str) -> list[dict[str, str]]:
    root = parse(svg)
    return [dict(rect.attrib) for rect in root.iter(f"{SVG}rect")]


def texts(svg: str, cls: str) -> list[str]:
    root = parse(svg)
    return [t.text or "" for t in root.iter(f"{SVG}text") if t.get("class") == cls]


@pytest.mark.parametrize(
    ("value", "top"),
    [
        (0, 1),
        (-4, 1),
        (math.nan, 1),
        (0.3, 0.5),
        (0.07, 0.1),
        (1, 1),
        (3, 5),
        (5, 5),
        (6.8, 10),
        (10, 10),
        (12, 20),
        (90, 100),
        (201, 500),
        (56_700, 100_000),
    ],
)
def test_the_axis_top_is_1_2_or_5_times_a_power_of_ten(value: float, top: float) -> None:
    assert nice_max(value) == top


@pytest.mark.parametrize(
    ("value", "text"),
    [(64.0, "64"), (29.25, "29.25"), (102.06, "102.06"), (1 / 3, "0.33"), (-0.001, "0"), (0, "0")],
)
def test_numbers_have_at_most_two_decimals(value: float, text: str) -> None:
    assert number(value) == text


def test_bars_are_scaled_to_the_axis_top() -> None:
    # 0, 3 and 1 on a 0..5 scale; four slots of 144, bars 100.8 wide, 21.6 into the slot.
    svg = bar_chart(
        "bookings",
        "Bookings",
        [
            Bar("Mar 9", 0, "0"),
            Bar("Mar 10", 3, "3"),
            Bar("Mar 11", 1, "1"),
            Bar("Mar 12", None, "-"),
        ],
    )

    drawn = rects(svg)
    assert [(r["data-label"], r["x"], r["y"], r["width"], r["height"]) for r in drawn] == [
        ("Mar 9", "77.6", "192", "100.8", "0"),
        ("Mar 10", "221.6", "84", "100.8", "108"),
        ("Mar 11", "365.6", "156", "100.8", "36"),
    ]
    assert texts(svg, "tick") == ["5", "0"]
    # Four days: each labelled, under its slot's middle (56 + 72, + 144, ...).
    assert texts(svg, "day") == ["Mar 9", "Mar 10", "Mar 11", "Mar 12"]
    assert re.findall(r'class="day" x="([^"]+)"', svg) == ["128", "272", "416", "560"]


def test_the_axis_is_written_as_people_read_it() -> None:
    svg = bar_chart("revenue", "Recovered revenue", [Bar("Mar 10", 56_700, "$567.00")],
                    axis=lambda v: f"${v / 100:,.2f}")  # fmt: skip

    assert texts(svg, "tick") == ["$1,000.00", "$0.00"]
    # 56 700 of 100 000: 102.06 of 180.
    assert rects(svg)[0]["height"] == "102.06"


def test_one_day_is_one_wide_bar() -> None:
    svg = bar_chart("tb", "Text-back p95", [Bar("Mar 9", 6.8, "6.8 s")])

    [bar] = rects(svg)
    # Slot 576: the bar 403.2 wide from 56 + 86.4; 6.8 of 10 is 122.4 of 180.
    assert (bar["x"], bar["width"], bar["height"], bar["y"]) == ("142.4", "403.2", "122.4", "69.6")
    assert texts(svg, "empty") == []


@pytest.mark.parametrize("bars", [[], [Bar("Mar 9", None, "no data"), Bar("Mar 10", None, "none")]])
def test_no_value_draws_no_bar_and_says_no_data(bars: list[Bar]) -> None:
    svg = bar_chart("tb", "Text-back p95", bars)

    assert rects(svg) == []
    assert texts(svg, "empty") == ["No data"]
    assert texts(svg, "tick") == ["1", "0"]


def test_a_negative_value_draws_no_height() -> None:
    svg = bar_chart("x", "X", [Bar("a", -3, "-3"), Bar("b", 2, "2")])

    assert [r["height"] for r in rects(svg)] == ["0", "180"]


@pytest.mark.parametrize(("days", "labelled"), [(7, 7), (8, 4), (14, 7), (15, 5), (366, 7)])
def test_at_most_seven_days_are_labelled(days: int, labelled: int) -> None:
    # Every ceil(days / 7)-th day from the first: 8 days every 2nd (1, 3, 5, 7), 15 days
    # every 3rd (1, 4, 7, 10, 13), 366 days every 53rd (7 labels: 1 .. 319).
    svg = bar_chart("x", "X", [Bar(f"d{i}", i, str(i)) for i in range(days)])

    assert len(texts(svg, "day")) == labelled
    assert len(rects(svg)) == days


def test_the_chart_is_named_for_assistive_technology() -> None:
    svg = bar_chart("chart-bookings", "Bookings", [Bar("Mar 9", 2, "2")])
    root = parse(svg)

    assert root.get("role") == "img"
    assert root.get("aria-label") == "Bookings"
    assert root.get("id") == "chart-bookings"
    assert root.findtext(f"{SVG}title") == "Bookings"
    assert root.findtext(f"{SVG}desc") == (
        "Bars from 0 to 2; the table under the chart lists every value."
    )
    # Each bar says its day and value (a tooltip, and read by screen readers).
    assert [t.text for t in root.iter(f"{SVG}title")] == ["Bookings", "Mar 9: 2"]


def test_every_text_is_escaped() -> None:
    nasty = "<script>alert(\"x\")</script> & 'Tom'"
    svg = bar_chart(
        'id"><x', nasty, [Bar(nasty, 1, nasty)], axis=lambda v: f"<{v}>"
    ) + funnel_chart("f", nasty, [Bar(nasty, 1, nasty)])

    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    for part in svg.split("</svg>")[:-1]:
        root = parse(part + "</svg>")
        assert root.get("aria-label") == nasty
        assert root.findtext(f"{SVG}title") == nasty
    assert parse(svg.split("</svg>")[0] + "</svg>").get("id") == 'id"><x'


def test_the_funnel_fills_the_width_with_the_largest_step() -> None:
    svg = funnel_chart(
        "funnel",
        "From missed calls to bookings",
        [
            Bar("Missed calls", 8, "8"),
            Bar("Replied", 4, "4"),
            Bar("Quotes", 1, "1"),
            Bar("Bookings", 0, "0"),
        ],
    )

    drawn = rects(svg)
    # 8 is 430 wide; 4 is 215, 1 is 53.75, 0 none; rows 36 apart from y 12.
    assert [(r["data-label"], r["width"], r["y"]) for r in drawn] == [
        ("Missed calls", "430", "12"),
        ("Replied", "215", "48"),
        ("Quotes", "53.75", "84"),
        ("Bookings", "0", "120"),
    ]
    assert all(r["x"] == "150" for r in drawn)
    assert texts(svg, "count") == ["8", "4", "1", "0"]
    # Each count just after its bar: 150 + width + 6.
    assert re.findall(r'class="count" x="([^"]+)"', svg) == ["586", "371", "209.75", "156"]
    assert texts(svg, "step") == ["Missed calls", "Replied", "Quotes", "Bookings"]
    # 12 + 4 rows of 36.
    assert parse(svg).get("viewBox") == "0 0 640 156"


def test_a_funnel_of_zeros_draws_empty_bars() -> None:
    svg = funnel_chart("funnel", "Funnel", [Bar("Missed calls", 0, "0"), Bar("Bookings", 0, "0")])

    assert [r["width"] for r in rects(svg)] == ["0", "0"]
    assert parse(svg).findtext(f"{SVG}desc") == "Missed calls: 0; Bookings: 0"
