#!/usr/bin/env python3
"""Refresh .secrets.baseline: rescan the tracked files, keep the audit labels, drop line numbers.

With line numbers, the detect-secrets hook rewrites the baseline (and fails) whenever a known
public test value merely moves inside its file. Without them a value is known by its file, type
and hash: moving it is fine, a new value (or a known one in another file) still fails the hook.

    uv run python scripts/secrets_baseline.py    # after adding a deliberate test/dev value
    uv run detect-secrets audit .secrets.baseline  # label each new entry (real secrets: never)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BASELINE = Path(".secrets.baseline")


def strip_positions(baseline: dict[str, object]) -> dict[str, object]:
    """The baseline without line numbers and without its timestamp."""
    baseline.pop("generated_at", None)
    results = baseline.get("results", {})
    assert isinstance(results, dict)
    for secrets in results.values():
        for secret in secrets:
            secret.pop("line_number", None)
    return baseline


def main() -> int:
    tool = Path(sys.executable).parent / "detect-secrets"
    subprocess.run([str(tool), "scan", "--baseline", str(BASELINE)], check=True)
    baseline = strip_positions(json.loads(BASELINE.read_text(encoding="utf-8")))
    BASELINE.write_text(json.dumps(baseline, indent=2) + "\n", encoding="utf-8")
    results = baseline["results"]
    assert isinstance(results, dict)
    unlabelled = [
        f"{name}: {secret['type']}"
        for name, secrets in results.items()
        for secret in secrets
        if "is_secret" not in secret
    ]
    for entry in unlabelled:
        print(f"not audited yet: {entry}")
    if unlabelled:
        print("run: uv run detect-secrets audit .secrets.baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
