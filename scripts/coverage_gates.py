#!/usr/bin/env python3
"""Enforce the coverage gates of pyproject.toml's [tool.nmc.coverage-gates] on `coverage json`.

Each row is `"path/prefix" = { line = %, branch = % }`; "*" is every measured file. A prefix
matches a file when its parts appear as consecutive folders (or the file) of the file's path, so
"nmc_domain/conversation" matches packages/nmc-domain/src/nmc_domain/conversation/model.py.
A prefix that matches no measured file is skipped, unless it exists on disk next to a measured
package (code that coverage never saw fails: it is 0 % covered, not absent).

    python scripts/coverage_gates.py [--json reports/coverage.json] [--config pyproject.toml]
                                     [--advisory]

Prints a table; exits 1 naming each failed gate (with --advisory: prints, never fails).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

ALL = "*"
LOWEST_SHOWN = 5


@dataclass(frozen=True)
class Gate:
    prefix: str
    line: float
    branch: float


@dataclass
class Tally:
    covered_lines: int = 0
    statements: int = 0
    covered_branches: int = 0
    branches: int = 0
    files: list[tuple[str, Mapping[str, int]]] = field(default_factory=list)

    def add(self, path: str, summary: Mapping[str, int]) -> None:
        self.covered_lines += summary["covered_lines"]
        self.statements += summary["num_statements"]
        self.covered_branches += summary.get("covered_branches", 0)
        self.branches += summary.get("num_branches", 0)
        self.files.append((path, summary))


@dataclass(frozen=True)
class Outcome:
    gate: Gate
    status: str  # "ok", "FAILED", "skipped"
    line_pct: float | None = None
    branch_pct: float | None = None
    reasons: tuple[str, ...] = ()
    lowest: tuple[str, ...] = ()


def percent(covered: int, total: int) -> float:
    """Coverage's convention: nothing to cover is fully covered."""
    return 100.0 if total == 0 else 100.0 * covered / total


def meets(covered: int, total: int, threshold: float) -> bool:
    return total == 0 or covered * 100 >= threshold * total  # exact, no float rounding


def shown(pct: float) -> str:
    """Rounded down, so a figure under its threshold never prints as meeting it."""
    return f"{math.floor(pct * 10) / 10:.1f}%"


def load_gates(config: Mapping[str, Any]) -> list[Gate]:
    table = config.get("tool", {}).get("nmc", {}).get("coverage-gates")
    if not table:
        raise SystemExit("coverage gates: no [tool.nmc.coverage-gates] table")
    gates = []
    for prefix, row in table.items():
        if set(row) != {"line", "branch"}:
            raise SystemExit(f"coverage gates: {prefix!r} needs exactly `line` and `branch`")
        gates.append(Gate(prefix.strip("/"), float(row["line"]), float(row["branch"])))
    return gates


def _parts(path: str) -> tuple[str, ...]:
    return PurePath(path.replace("\\", "/")).parts


def _find(needle: Sequence[str], parts: Sequence[str]) -> int | None:
    """Index where `needle` starts as a consecutive run of `parts`, or None."""
    for i in range(len(parts) - len(needle) + 1):
        if tuple(parts[i : i + len(needle)]) == tuple(needle):
            return i
    return None


def matches(prefix: str, path: str) -> bool:
    return prefix == ALL or _find(_parts(prefix), _parts(path)) is not None


def exists_unmeasured(prefix: str, measured: Iterable[str], root: Path) -> bool:
    """Does `prefix` exist on disk beside a measured package (e.g. a new, untested context)?"""
    needle = _parts(prefix)
    for path in measured:
        parts = _parts(path)
        at = _find(needle[:1], parts)
        if at is None:
            continue
        candidate = root.joinpath(*parts[:at], *needle)
        if candidate.is_file() and candidate.suffix == ".py":
            return True
        if candidate.is_dir() and any(candidate.rglob("*.py")):
            return True
    return False


def evaluate(gates: Sequence[Gate], report: Mapping[str, Any], root: Path) -> list[Outcome]:
    files: Mapping[str, Any] = report["files"]
    outcomes = []
    for gate in gates:
        tally = Tally()
        for path, data in files.items():
            if matches(gate.prefix, path):
                tally.add(path, data["summary"])
        if not tally.files:
            if gate.prefix == ALL:
                outcomes.append(Outcome(gate, "FAILED", 0.0, 0.0, ("no file was measured",)))
            elif exists_unmeasured(gate.prefix, files, root):
                outcomes.append(
                    Outcome(gate, "FAILED", 0.0, 0.0, ("exists but coverage measured none of it",))
                )
            else:
                outcomes.append(Outcome(gate, "skipped"))
            continue
        line_pct = percent(tally.covered_lines, tally.statements)
        branch_pct = percent(tally.covered_branches, tally.branches)
        reasons = []
        if not meets(tally.covered_lines, tally.statements, gate.line):
            reasons.append(f"lines {shown(line_pct)} < {gate.line:g}%")
        if not meets(tally.covered_branches, tally.branches, gate.branch):
            reasons.append(f"branches {shown(branch_pct)} < {gate.branch:g}%")
        lowest: tuple[str, ...] = ()
        if reasons:
            lowest = tuple(_lowest(tally.files))
        status = "FAILED" if reasons else "ok"
        outcomes.append(Outcome(gate, status, line_pct, branch_pct, tuple(reasons), lowest))
    return outcomes


def _lowest(files: Sequence[tuple[str, Mapping[str, int]]]) -> list[str]:
    """The files missing the most lines and branches, worst first."""

    def missed(summary: Mapping[str, int]) -> int:
        return (summary["num_statements"] - summary["covered_lines"]) + (
            summary.get("num_branches", 0) - summary.get("covered_branches", 0)
        )

    ranked = sorted(files, key=lambda item: missed(item[1]), reverse=True)
    return [
        f"{path}: lines {shown(percent(s['covered_lines'], s['num_statements']))}, "
        f"branches {shown(percent(s.get('covered_branches', 0), s.get('num_branches', 0)))}"
        for path, s in ranked[:LOWEST_SHOWN]
        if missed(s)
    ]


def render(outcomes: Sequence[Outcome]) -> str:
    width = max(len("gate"), *(len(o.gate.prefix) for o in outcomes))
    lines = [f"{'gate':<{width}}  {'lines':>15}  {'branches':>15}  result"]
    for o in outcomes:
        if o.line_pct is None or o.branch_pct is None:
            line_cell = branch_cell = "-"
            result = "skipped (no such code yet)"
        else:
            line_cell = f"{shown(o.line_pct)} (>={o.gate.line:g})"
            branch_cell = f"{shown(o.branch_pct)} (>={o.gate.branch:g})"
            result = o.status if not o.reasons else f"{o.status}: {'; '.join(o.reasons)}"
        lines.append(f"{o.gate.prefix:<{width}}  {line_cell:>15}  {branch_cell:>15}  {result}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default="reports/coverage.json", help="coverage's JSON report")
    parser.add_argument("--config", default="pyproject.toml", help="file with the gates table")
    parser.add_argument("--root", default=".", help="where the report's relative paths start")
    parser.add_argument(
        "--advisory", action="store_true", help="print the table but never fail (partial runs)"
    )
    args = parser.parse_args(argv)

    gates = load_gates(tomllib.loads(Path(args.config).read_text(encoding="utf-8")))
    if not Path(args.json).is_file():
        print(f"coverage gates: no report at {args.json} (pytest --cov --cov-report=json)")
        return 1
    report = json.loads(Path(args.json).read_text(encoding="utf-8"))
    if not report.get("meta", {}).get("branch_coverage"):
        print("coverage gates: the report has no branch data (run with branch = true)")
        return 1
    outcomes = evaluate(gates, report, Path(args.root))

    print(render(outcomes))
    failed = [o for o in outcomes if o.status == "FAILED"]
    for o in failed:
        print(f"\ncoverage gate {o.gate.prefix!r} failed: {'; '.join(o.reasons)}")
        for entry in o.lowest:
            print(f"  {entry}")
    if failed and args.advisory:
        print("\n(partial run: coverage gates reported, not enforced)")
        return 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
