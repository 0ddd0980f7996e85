"""Charts drawn on the server as inline SVG text (no chart library): bars per day, and the
funnel as horizontal bars with their counts.

Plain functions from numbers to markup. Every text is escaped here (the page inserts the SVG
as it is); each chart is an `<svg role="img">` with an aria-label and a <title>, and the page
puts a table of the same numbers beside it for screen readers and exact values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

import attrs

__all__ = [
    "FUNNEL_BAR_WIDTH",
    "PLOT_HEIGHT",
    "PLOT_WIDTH",
    "Bar",
    "bar_chart",
    "funnel_chart",
    "nice_max",
    "number",
]

# A daily chart's geometry, in viewBox units (the SVG scales to the page's width).
WIDTH = 640
HEIGHT = 220
LEFT = 56  # the y axis' labels
RIGHT = 8
TOP = 12
BOTTOM = 28  # the days' labels
PLOT_WIDTH = WIDTH - LEFT - RIGHT  # 576
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM  # 180
BAR_SHARE = 0.7  # of a day's slot; the rest is the gap around the bar
MAX_DAY_LABELS = 7
# The funnel's geometry: a row per step, its label on the left, its count after the bar.
FUNNEL_LABEL = 150
FUNNEL_COUNT = 60
FUNNEL_ROW = 36
FUNNEL_BAR = 24
FUNNEL_BAR_WIDTH = WIDTH - FUNNEL_LABEL - FUNNEL_COUNT  # 430


@attrs.frozen
class Bar:
    """One bar: what it is (a day, a funnel step), its value (None: nothing to draw, as for
    a day without replies), and the value as people read it ("6.8 s", "$189.00")."""

    label: str
    value: float | None
    shown: str


def number(value: float) -> str:
    """A coordinate as SVG text: at most two decimals, no trailing zeros ("64", "29.2")."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def nice_max(value: float) -> float:
    """The axis' top: the smallest 1, 2 or 5 times a power of ten at or above `value`
    (1 when nothing is above zero)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        top = step * power
        if top >= value * (1 - 1e-9):  # 3 * 0.1 is a hair above 0.3
            return float(f"{top:.12g}")
    return 10 * power  # not reached: 10 x power is above any value in [power, 10 power)


def _open(chart_id: str, title: str, width: int, height: int, desc: str) -> list[str]:
    ident, label = escape(chart_id), escape(title)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{ident}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{label}" '
        f'preserveAspectRatio="xMinYMin meet">',
        f"<title>{label}</title>",
        f"<desc>{escape(desc)}</desc>",
    ]


def bar_chart(
    chart_id: str,
    title: str,
    bars: Sequence[Bar],
    *,
    axis: Callable[[float], str] = number,
) -> str:
    """Vertical bars, one per day, on a scale from 0 to `nice_max` of the largest value;
    `axis` writes the scale's top as people read it. No value at all: "No data"."""
    values = [bar.value for bar in bars if bar.value is not None]
    top = nice_max(max(values, default=0.0))
    desc = f"Bars from 0 to {axis(top)}; the table under the chart lists every value."
    parts = _open(chart_id, title, WIDTH, HEIGHT, desc)
    base = TOP + PLOT_HEIGHT
    parts += [
        f'<line class="grid" x1="{LEFT}" y1="{TOP}" x2="{WIDTH - RIGHT}" y2="{TOP}"/>',
        f'<line class="grid" x1="{LEFT}" y1="{number(TOP + PLOT_HEIGHT / 2)}" '
        f'x2="{WIDTH - RIGHT}" y2="{number(TOP + PLOT_HEIGHT / 2)}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}"/>',
        f'<text class="tick" x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">'
        f"{escape(axis(top))}</text>",
        f'<text class="tick" x="{LEFT - 6}" y="{base + 4}" text-anchor="end">'
        f"{escape(axis(0))}</text>",
    ]
    if not values:
        parts.append(
            f'<text class="empty" x="{number(LEFT + PLOT_WIDTH / 2)}" '
            f'y="{number(TOP + PLOT_HEIGHT / 2 - 6)}" text-anchor="middle">No data</text>'
        )
    slot = PLOT_WIDTH / max(len(bars), 1)
    every = max(1, math.ceil(len(bars) / MAX_DAY_LABELS))
    for i, bar in enumerate(bars):
        left = LEFT + i * slot
        if bar.value is not None:
            height = max(bar.value, 0.0) / top * PLOT_HEIGHT
            parts.append(
                f'<rect class="bar" x="{number(left + slot * (1 - BAR_SHARE) / 2)}" '
                f'y="{number(base - height)}" width="{number(slot * BAR_SHARE)}" '
                f'height="{number(height)}" data-label="{escape(bar.label)}">'
                f"<title>{escape(bar.label)}: {escape(bar.shown)}</title></rect>"
            )
        if i % every == 0:
            parts.append(
                f'<text class="day" x="{number(left + slot / 2)}" y="{HEIGHT - 10}" '
                f'text-anchor="middle">{escape(bar.label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def funnel_chart(chart_id: str, title: str, steps: Sequence[Bar]) -> str:
    """Horizontal bars, one row per step, the largest count filling the width; each row's
    count written after its bar."""
    largest = max((step.value or 0.0 for step in steps), default=0.0)
    scale = largest if largest > 0 else 1.0
    height = TOP + len(steps) * FUNNEL_ROW
    desc = "; ".join(f"{step.label}: {step.shown}" for step in steps) or "No steps"
    parts = _open(chart_id, title, WIDTH, height, desc)
    for i, step in enumerate(steps):
        y = TOP + i * FUNNEL_ROW
        width = max(step.value or 0.0, 0.0) / scale * FUNNEL_BAR_WIDTH
        middle = number(y + FUNNEL_BAR / 2 + 5)
        parts += [
            f'<text class="step" x="{FUNNEL_LABEL - 8}" y="{middle}" text-anchor="end">'
            f"{escape(step.label)}</text>",
            f'<rect class="bar" x="{FUNNEL_LABEL}" y="{y}" width="{number(width)}" '
            f'height="{FUNNEL_BAR}" data-label="{escape(step.label)}">'
            f"<title>{escape(step.label)}: {escape(step.shown)}</title></rect>",
            f'<text class="count" x="{number(FUNNEL_LABEL + width + 6)}" y="{middle}">'
            f"{escape(step.shown)}</text>",
        ]
    parts.append("</svg>")
    return "".join(parts)
