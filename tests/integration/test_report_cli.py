"""`nmc report TENANT_ID --from --to [--json] [--plot FILE.png]` on real PostgreSQL: the rows
`recompute_day` wrote for the story of tests/support/reports.py, as a table, as JSON and as a
PNG (matplotlib, the CLI's optional `plot` extra; without it, the install hint)."""

from __future__ import annotations

import importlib.util
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_cli.report import PLOT_HINT
from tests.support.cli import clean_env, nmc_inline
from tests.support.reports import FIRST, LAST, tell_story
from tests.support.tenants import onboard

SPAN = ("--from", FIRST.isoformat(), "--to", LAST.isoformat())
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def env(database_url: str) -> dict[str, str]:
    return clean_env(NMC_DATABASE_URL=database_url, COLUMNS="120")


@pytest.fixture(scope="module")
async def tenant_id(engine: AsyncEngine) -> str:
    new_uow = lambda: PgUnitOfWork(engine)  # noqa: E731
    tenant, number = await onboard(new_uow)
    await tell_story(new_uow, tenant.id, number)
    return str(tenant.id)


def last_json(stdout: str) -> dict[str, Any]:
    return json.loads(stdout.strip().splitlines()[-1])


def test_the_table_shows_the_funnel_latencies_and_each_day(
    tenant_id: str, env: dict[str, str]
) -> None:
    result = nmc_inline("report", tenant_id, *SPAN, env=env)
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.replace("│", " ").split()) for line in result.stdout.splitlines()]
    for expected in (
        "missed calls 3",
        "text-backs sent 3",
        "conversations replied 1",
        "bookings 0",
        "recovered revenue 0.00",
        "text-back p50 (s) 5",  # merged over two days: bucket bounds
        "text-back p95 (s) 10",
        "first response p50 (s) -",
        "first response p95 (s) -",
        # day, missed calls, text-back p95, bookings
        "2026-03-09 0 - 0",
        "2026-03-10 2 6.8 0",
        "2026-03-11 1 4 0",
        "2026-03-12 0 - 0",
    ):
        assert expected in lines, (expected, result.stdout)


def test_json_is_the_summary_and_the_days(tenant_id: str, env: dict[str, str]) -> None:
    result = nmc_inline("report", tenant_id, *SPAN, "--json", env=env)
    assert result.exit_code == 0, result.output
    data = last_json(result.stdout)
    assert set(data) == {"tenant_id", "summary", "days", "plot"}
    assert data["tenant_id"] == tenant_id
    assert data["plot"] is None
    summary = data["summary"]
    assert (summary["from"], summary["to"]) == ("2026-03-09", "2026-03-12")
    assert (summary["missed_calls"], summary["text_backs_sent"]) == (3, 3)
    assert summary["text_back"] == {"count": 3, "p50": 5.0, "p95": 10.0}
    assert summary["assistant_response"] == {"count": 1, "p50": 2.0, "p95": 2.0}
    text_back = [
        (d["day"], d["count"], d["p95"]) for d in data["days"] if d["metric"] == "text_back_seconds"
    ]
    assert text_back == [
        ("2026-03-09", 0, None),
        ("2026-03-10", 2, pytest.approx(6.8)),
        ("2026-03-11", 1, 4.0),
        ("2026-03-12", 0, None),
    ]


def test_days_never_computed_say_so(tenant_id: str, env: dict[str, str]) -> None:
    result = nmc_inline("report", tenant_id, "--from", "2025-01-01", "--to", "2025-01-02",
                        env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "not computed" in result.stdout
    as_json = nmc_inline("report", tenant_id, "--from", "2025-01-01", "--to", "2025-01-02",
                         "--json", env=env)  # fmt: skip
    assert last_json(as_json.stdout)["days"] == []


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("not-a-uuid", *SPAN), "'not-a-uuid'"),
        ((str(uuid.uuid4()), *SPAN), "no tenant"),
        (("{tenant}", "--from", "2026-02-30", "--to", "2026-03-01"), "--from '2026-02-30'"),
        (("{tenant}", "--from", "2026-03-01", "--to", "tomorrow"), "--to 'tomorrow'"),
        (("{tenant}", "--from", "20260301", "--to", "2026-03-02"), "--from '20260301'"),
        (("{tenant}", "--from", "2026-03-02", "--to", "2026-03-01"), "to: must not be before"),
        (("{tenant}", "--from", "2025-01-01", "--to", "2026-01-02"), "to: a report spans"),
    ],
)
def test_bad_input_exits_2_naming_the_value(
    tenant_id: str, env: dict[str, str], args: tuple[str, ...], named: str
) -> None:
    argv = [arg.replace("{tenant}", tenant_id) for arg in args]
    result = nmc_inline("report", *argv, env=env)
    assert result.exit_code == 2, result.output
    assert named in result.stderr, result.stderr
    assert "Traceback" not in result.output


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="the plot extra is not installed")
def test_plot_writes_a_png(tenant_id: str, env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "report.png"
    result = nmc_inline("report", tenant_id, *SPAN, "--plot", str(target), env=env)
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:8] == PNG_MAGIC
    assert target.stat().st_size > 5_000  # a drawn figure, not an empty image
    assert f"plot written to {target}" in result.stdout
    as_json = nmc_inline("report", tenant_id, *SPAN, "--plot", str(target), "--json", env=env)
    assert last_json(as_json.stdout)["plot"] == str(target)


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="the plot extra is not installed")
def test_a_plot_nowhere_to_write_exits_2(
    tenant_id: str, env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "missing-folder" / "report.png"
    result = nmc_inline("report", tenant_id, *SPAN, "--plot", str(target), env=env)
    assert result.exit_code == 2, result.output
    assert "cannot write the plot" in result.stderr


def test_without_matplotlib_plot_exits_2_with_the_install_hint(
    tenant_id: str, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on an install without the extra: importing matplotlib fails (None in sys.modules).
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    target = tmp_path / "report.png"
    result = nmc_inline("report", tenant_id, *SPAN, "--plot", str(target), env=env)
    assert result.exit_code == 2, result.output
    assert "uv sync --all-packages --extra plot" in result.stderr
    assert PLOT_HINT in result.stderr
    assert not target.exists()
