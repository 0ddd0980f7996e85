"""scripts/coverage_gates.py on a small synthetic `coverage json` report."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from scripts import coverage_gates

SRC = "packages/nmc-domain/src/nmc_domain"

CONFIG = """
[tool.nmc.coverage-gates]
"*" = { line = 85, branch = 75 }
"nmc_domain/conversation" = { line = 90, branch = 90 }
"nmc_domain/catalog" = { line = 90, branch = 90 }
"nmc_domain/scheduling" = { line = 90, branch = 90 }
"""


def summary(lines: tuple[int, int], branches: tuple[int, int]) -> dict[str, object]:
    return {
        "summary": {
            "covered_lines": lines[0],
            "num_statements": lines[1],
            "covered_branches": branches[0],
            "num_branches": branches[1],
        }
    }


def report(files: dict[str, dict[str, object]]) -> dict[str, object]:
    return {"meta": {"branch_coverage": True}, "files": files}


GOOD = {
    f"{SRC}/conversation/model.py": summary((95, 100), (19, 20)),
    f"{SRC}/catalog/model.py": summary((100, 100), (10, 10)),
}


def run(tmp_path: Path, files: dict[str, dict[str, object]], *args: str) -> int:
    (tmp_path / "pyproject.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "coverage.json").write_text(json.dumps(report(files)), encoding="utf-8")
    return coverage_gates.main(
        [
            "--config",
            str(tmp_path / "pyproject.toml"),
            "--json",
            str(tmp_path / "coverage.json"),
            "--root",
            str(tmp_path),
            *args,
        ]
    )


def outcomes(tmp_path: Path, files: dict[str, dict[str, object]]) -> dict[str, str]:
    gates = coverage_gates.load_gates(tomllib.loads(CONFIG))
    return {
        o.gate.prefix: o.status for o in coverage_gates.evaluate(gates, report(files), tmp_path)
    }


def test_packages_above_their_thresholds_pass_and_a_missing_one_is_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, GOOD) == 0

    out = capsys.readouterr().out
    assert "nmc_domain/conversation" in out
    assert "skipped" in out.splitlines()[-1]  # scheduling: not in the tree
    assert outcomes(tmp_path, GOOD) == {
        "*": "ok",
        "nmc_domain/conversation": "ok",
        "nmc_domain/catalog": "ok",
        "nmc_domain/scheduling": "skipped",
    }


def test_a_package_below_its_threshold_fails_and_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = GOOD | {f"{SRC}/conversation/flow.py": summary((40, 100), (20, 20))}

    assert run(tmp_path, files) == 1

    out = capsys.readouterr().out
    assert "coverage gate 'nmc_domain/conversation' failed: lines 67.5% < 90%" in out
    assert f"{SRC}/conversation/flow.py" in out  # the low module is listed
    assert outcomes(tmp_path, files)["nmc_domain/catalog"] == "ok"


def test_branches_are_gated_separately_from_lines(tmp_path: Path) -> None:
    files = GOOD | {f"{SRC}/conversation/flow.py": summary((100, 100), (5, 20))}

    assert outcomes(tmp_path, files)["nmc_domain/conversation"] == "FAILED"


def test_the_whole_backend_is_gated_by_the_star_row(tmp_path: Path) -> None:
    files = GOOD | {"apps/api/src/nmc_api/app.py": summary((10, 1000), (0, 100))}

    result = outcomes(tmp_path, files)

    assert result["*"] == "FAILED"
    assert result["nmc_domain/conversation"] == "ok"


def test_a_threshold_is_met_exactly_without_float_rounding(tmp_path: Path) -> None:
    files = {f"{SRC}/conversation/model.py": summary((9, 10), (9, 10))}

    assert outcomes(tmp_path, files)["nmc_domain/conversation"] == "ok"
    assert run(tmp_path, {f"{SRC}/conversation/model.py": summary((899, 1000), (9, 10))}) == 1


def test_a_prefix_matches_whole_folder_names_only(tmp_path: Path) -> None:
    files = GOOD | {f"{SRC}/conversation_archive/old.py": summary((0, 100), (0, 10))}

    assert outcomes(tmp_path, files)["nmc_domain/conversation"] == "ok"


def test_code_on_disk_that_coverage_never_measured_fails(tmp_path: Path) -> None:
    scheduling = tmp_path / SRC / "scheduling"
    scheduling.mkdir(parents=True)
    (scheduling / "booking.py").write_text("x = 1\n", encoding="utf-8")

    assert outcomes(tmp_path, GOOD)["nmc_domain/scheduling"] == "FAILED"
    assert run(tmp_path, GOOD) == 1


def test_an_empty_report_fails_the_whole_backend_gate(tmp_path: Path) -> None:
    assert outcomes(tmp_path, {})["*"] == "FAILED"


def test_advisory_reports_without_failing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = GOOD | {f"{SRC}/conversation/flow.py": summary((0, 100), (0, 20))}

    assert run(tmp_path, files, "--advisory") == 0
    assert "not enforced" in capsys.readouterr().out


def test_a_report_without_branch_data_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "coverage.json").write_text(
        json.dumps({"meta": {"branch_coverage": False}, "files": GOOD}), encoding="utf-8"
    )

    code = coverage_gates.main(
        ["--config", str(tmp_path / "pyproject.toml"), "--json", str(tmp_path / "coverage.json")]
    )

    assert code == 1


def test_a_missing_report_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIG, encoding="utf-8")

    code = coverage_gates.main(
        ["--config", str(tmp_path / "pyproject.toml"), "--json", str(tmp_path / "none.json")]
    )

    assert code == 1
    assert "no report at" in capsys.readouterr().out


def test_the_repository_table_gates_the_critical_contexts() -> None:
    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    gates = {g.prefix: g for g in coverage_gates.load_gates(config)}

    assert (gates["*"].line, gates["*"].branch) == (85, 75)
    for critical in ("nmc_domain/conversation", "nmc_domain/scheduling"):
        assert (gates[critical].line, gates[critical].branch) == (90, 90)
