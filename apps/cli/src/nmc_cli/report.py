"""`nmc report TENANT_ID --from DATE --to DATE [--json] [--plot FILE.png]`: a tenant's funnel
and response times over tenant-local days, from the rows the worker last recomputed.

The plot needs matplotlib, in the CLI's optional `plot` extra: imported only when asked for.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from nmc_cli.bootstrap import with_uow
from nmc_cli.devstate import database_url
from nmc_cli.output import emit, fail, reported
from nmc_domain.reporting import DailyRow, Latency, Summary, tenant_daily_report
from nmc_domain.reporting.use_cases import summarize
from nmc_domain.unit_of_work import UnitOfWorkFactory

__all__ = ["PLOT_HINT", "report"]

PLOT_HINT = "--plot needs matplotlib: install the plot extra: uv sync --all-packages --extra plot"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


def _tenant(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail(f"tenant id {value!r} is not a UUID")


def _day(option: str, value: str) -> date:
    try:
        if _DATE.match(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    fail(f"{option} {value!r} is not a date (YYYY-MM-DD)")


def _check_plot(plot: Path | None) -> None:
    """Before any work: is matplotlib there to draw it?"""
    if plot is None:
        return
    try:
        import matplotlib  # noqa: F401  (the plot extra)
    except ImportError:
        fail(PLOT_HINT)


def _latency(latency: Latency) -> dict[str, Any]:
    return {"count": latency.count, "p50": latency.p50, "p95": latency.p95}


def _summary_json(summary: Summary) -> dict[str, Any]:
    return {
        "from": summary.first.isoformat(),
        "to": summary.last.isoformat(),
        "missed_calls": summary.missed_calls,
        "text_backs_sent": summary.text_backs_sent,
        "conversations_replied": summary.conversations_replied,
        "quotes": summary.quotes,
        "offers": summary.offers,
        "bookings": summary.bookings,
        "recovered_revenue_cents": summary.recovered_revenue_cents,
        "opt_outs": summary.opt_outs,
        "text_back": _latency(summary.text_back),
        "first_response": _latency(summary.first_response),
        "assistant_response": _latency(summary.assistant_response),
    }


def _row_json(row: DailyRow) -> dict[str, Any]:
    return {
        "day": row.day.isoformat(),
        "metric": row.metric,
        "count": row.count,
        "p50": row.p50,
        "p95": row.p95,
        "buckets": list(row.buckets),
        "total": row.total,
    }


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _per_day(
    rows: Sequence[DailyRow], first: date, last: date
) -> list[tuple[date, DailyRow | None, DailyRow | None, DailyRow | None]]:
    """Each day: its missed calls, text-back latency and bookings rows (None: not computed)."""
    by = {(row.day, row.metric): row for row in rows}
    return [
        (
            day,
            by.get((day, "missed_calls")),
            by.get((day, "text_back_seconds")),
            by.get((day, "bookings")),
        )
        for day in _days(first, last)
    ]


def _print_tables(tenant_id: uuid.UUID, summary: Summary, rows: Sequence[DailyRow]) -> None:
    console = Console(highlight=False, soft_wrap=False)
    console.print(f"tenant {tenant_id}: {summary.first} to {summary.last} (tenant-local days)")
    funnel = Table(title="funnel and response times")
    funnel.add_column("measure")
    funnel.add_column("value", justify="right")
    revenue = f"{summary.recovered_revenue_cents / 100:.2f}"
    for name, value in (
        ("missed calls", str(summary.missed_calls)),
        ("text-backs sent", str(summary.text_backs_sent)),
        ("conversations replied", str(summary.conversations_replied)),
        ("quotes", str(summary.quotes)),
        ("offers", str(summary.offers)),
        ("bookings", str(summary.bookings)),
        ("recovered revenue", revenue),
        ("opt-outs", str(summary.opt_outs)),
        ("text-back p50 (s)", _seconds(summary.text_back.p50)),
        ("text-back p95 (s)", _seconds(summary.text_back.p95)),
        ("first response p50 (s)", _seconds(summary.first_response.p50)),
        ("first response p95 (s)", _seconds(summary.first_response.p95)),
    ):
        funnel.add_row(name, value)
    console.print(funnel)
    daily = Table(title="per day (tenant-local)")
    for name in ("day", "missed calls", "text-back p95 (s)", "bookings"):
        daily.add_column(name, justify="left" if name == "day" else "right", no_wrap=True)
    for day, missed, text_back, bookings in _per_day(rows, summary.first, summary.last):
        if missed is None and text_back is None and bookings is None:
            daily.add_row(day.isoformat(), "not computed", "", "")
            continue
        daily.add_row(
            day.isoformat(),
            "-" if missed is None else str(missed.count),
            "-" if text_back is None else _seconds(text_back.p95),
            "-" if bookings is None else str(bookings.count),
        )
    console.print(daily)


def _plot(path: Path, rows: Sequence[DailyRow], first: date, last: date) -> None:
    """Daily text-back p95 (a line, left axis) and bookings (bars, right axis) as a PNG."""
    from matplotlib.figure import Figure  # the plot extra, checked by _check_plot
    from matplotlib.ticker import MaxNLocator

    days = _per_day(rows, first, last)
    x = list(range(len(days)))
    p95 = [
        float("nan") if text_back is None or text_back.p95 is None else text_back.p95
        for _, _, text_back, _ in days
    ]
    booked = [0 if bookings is None else bookings.count for *_, bookings in days]
    figure = Figure(figsize=(10, 4.5), layout="constrained")
    left = figure.subplots()
    right = left.twinx()
    right.bar(x, booked, color="tab:green", alpha=0.35, label="bookings")
    right.set_ylabel("bookings")
    right.set_ylim(0, max([1, *booked]) * 1.1)
    right.yaxis.set_major_locator(MaxNLocator(integer=True))
    left.plot(x, p95, color="tab:blue", marker="o", label="text-back p95 (s)")
    left.set_ylabel("text-back p95 (seconds)")
    left.set_ylim(bottom=0)
    left.set_zorder(right.get_zorder() + 1)
    left.patch.set_visible(False)
    stride = max(1, len(days) // 12)  # a dozen day labels at most
    left.set_xticks(x[::stride], [day.isoformat() for day, *_ in days][::stride])
    left.set_title(f"{first} to {last} (tenant-local days)")
    figure.autofmt_xdate()
    try:
        figure.savefig(path, format="png")
    except OSError as exc:
        fail(f"cannot write the plot {str(path)!r}: {exc.strerror or exc}")


def report(
    tenant_id: str = typer.Argument(..., help="the tenant's id"),
    first: str = typer.Option(..., "--from", help="the first tenant-local day, YYYY-MM-DD"),
    last: str = typer.Option(..., "--to", help="the last tenant-local day, YYYY-MM-DD"),
    as_json: bool = typer.Option(False, "--json", help="print a JSON object as the last line"),
    plot: Path | None = typer.Option(  # noqa: B008
        None, "--plot", help="draw daily text-back p95 and bookings to this PNG (matplotlib)"
    ),
) -> None:
    """A tenant's funnel and response times over tenant-local days (the worker's rollups)."""
    tenant = _tenant(tenant_id)
    start, end = _day("--from", first), _day("--to", last)
    _check_plot(plot)

    async def read(new_uow: UnitOfWorkFactory) -> Sequence[DailyRow]:
        return await tenant_daily_report(new_uow(), tenant, start, end, None)

    with reported():
        rows = asyncio.run(with_uow(database_url(), read))
    summary = summarize(start, end, rows)
    if plot is not None:
        _plot(plot, rows, start, end)
    data = {
        "tenant_id": str(tenant),
        "summary": _summary_json(summary),
        "days": [_row_json(row) for row in rows],
        "plot": None if plot is None else str(plot),
    }
    if as_json:
        emit("", data, as_json=True)
        return
    _print_tables(tenant, summary, rows)
    if plot is not None:
        print(f"plot written to {plot}")
