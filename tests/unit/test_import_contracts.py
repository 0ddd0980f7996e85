"""The import-linter contracts hold on the real tree, and each one demonstrably can fail."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "importlinter.cfg"
# The five src trees, relative to the repository root (and to the copy in tmp_path).
SRC_TREES = (
    Path("packages/nmc-domain/src"),
    Path("packages/nmc-adapters/src"),
    Path("apps/api/src"),
    Path("apps/worker/src"),
    Path("apps/cli/src"),
)
# `lint-imports` is a console script for importlinter.cli:lint_imports_command; that module has
# no `__main__` guard, so `python -m importlinter.cli` would do nothing. Use the script installed
# beside this interpreter (the venv's), never whatever is first on PATH.
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACT_PREFIX = "importlinter:contract:"
STATUS_LINE = re.compile(r"^(?P<name>.+) (?P<status>KEPT|BROKEN)$")

# What the domain and the adapters must never import (DESIGN.md section 1). Spelled out here, not
# read from the cfg, so a library dropped from the cfg (or hidden in a comma list) fails a test.
DOMAIN_FORBIDDEN = (
    "sqlalchemy",
    "psycopg",
    "httpx",
    "litestar",
    "typer",
    "cattrs",
    "alembic",
    "structlog",
    "phonenumbers",
    "uvicorn",
)
ADAPTERS_FORBIDDEN = ("litestar", "typer")


@dataclass(frozen=True)
class Probe:
    """Modules added to a copy of the tree to break one contract, and what the report must say."""

    files: dict[str, str]  # path relative to the copied src root -> source
    broken: frozenset[str]  # ids of the contracts this probe must break (all others stay KEPT)
    evidence: tuple[str, ...]  # substrings of the report under this contract's heading


def _imports(*modules: str) -> str:
    return '"""Probe."""\n\n' + "".join(f"import {module}\n" for module in modules)


def _targets(*packages: str) -> dict[str, str]:
    """Empty leaf modules to import, so a probe adds exactly one edge and no onward chain."""
    return {
        f"{package.replace('.', '/')}/_probe_target.py": '"""Probe."""\n' for package in packages
    }


# One probe per contract id (the `importlinter:contract:<id>` section suffix in the cfg). Each
# import crosses one boundary per entry of the contract, so an entry dropped from the cfg fails.
PROBES: dict[str, Probe] = {
    # Domain importing adapters is also an unauthorised importer of adapters (protected).
    "layers": Probe(
        files={
            **_targets("nmc_api", "nmc_worker", "nmc_cli", "nmc_adapters"),
            "nmc_adapters/_probe.py": _imports(
                "nmc_api._probe_target", "nmc_worker._probe_target", "nmc_cli._probe_target"
            ),
            # Inside a context: a module directly under nmc_domain would break the exhaustive
            # context contract as well.
            "nmc_domain/shared/_probe.py": _imports("nmc_adapters._probe_target"),
        },
        broken=frozenset({"layers", "only-bootstraps-import-adapters"}),
        evidence=(
            "nmc_adapters is not allowed to import nmc_api",
            "nmc_adapters is not allowed to import nmc_worker",
            "nmc_adapters is not allowed to import nmc_cli",
            "nmc_domain is not allowed to import nmc_adapters",
        ),
    ),
    # The layers contract lists the apps as `|` siblings, so it breaks too.
    "apps-independent": Probe(
        files={
            **_targets("nmc_api", "nmc_worker", "nmc_cli"),
            "nmc_api/_probe.py": _imports("nmc_worker._probe_target"),
            "nmc_worker/_probe.py": _imports("nmc_cli._probe_target"),
            "nmc_cli/_probe.py": _imports("nmc_api._probe_target"),
        },
        broken=frozenset({"apps-independent", "layers"}),
        evidence=(
            "nmc_api is not allowed to import nmc_worker",
            "nmc_worker is not allowed to import nmc_cli",
            "nmc_cli is not allowed to import nmc_api",
        ),
    ),
    "domain-pure": Probe(
        files={"nmc_domain/shared/_probe.py": _imports(*DOMAIN_FORBIDDEN)},
        broken=frozenset({"domain-pure"}),
        evidence=tuple(f"nmc_domain.shared._probe -> {lib} " for lib in DOMAIN_FORBIDDEN),
    ),
    # Upwards across several layers, sideways between siblings (scheduling does not exist yet: the
    # copy creates it), and a context the list does not name (the contract is exhaustive).
    "domain-contexts": Probe(
        files={
            **_targets(
                "nmc_domain.telephony",
                "nmc_domain.tenancy",
                "nmc_domain.compliance",
                "nmc_domain.scheduling",
                "nmc_domain.conversation",
            ),
            "nmc_domain/shared/_probe.py": _imports("nmc_domain.telephony._probe_target"),
            "nmc_domain/identity/_probe.py": _imports("nmc_domain.tenancy._probe_target"),
            "nmc_domain/catalog/_probe.py": _imports("nmc_domain.compliance._probe_target"),
            "nmc_domain/messaging/_probe.py": _imports(
                "nmc_domain.scheduling._probe_target", "nmc_domain.conversation._probe_target"
            ),
            "nmc_domain/rogue/_probe.py": '"""Probe."""\n',
        },
        broken=frozenset({"domain-contexts"}),
        evidence=(
            "nmc_domain.shared is not allowed to import nmc_domain.telephony",
            "nmc_domain.identity is not allowed to import nmc_domain.tenancy",
            "nmc_domain.catalog is not allowed to import nmc_domain.compliance",
            "nmc_domain.messaging is not allowed to import nmc_domain.scheduling",
            "nmc_domain.messaging is not allowed to import nmc_domain.conversation",
            "nmc_domain.rogue",
        ),
    ),
    "adapters-no-frameworks": Probe(
        files={"nmc_adapters/_probe.py": _imports(*ADAPTERS_FORBIDDEN)},
        broken=frozenset({"adapters-no-frameworks"}),
        evidence=tuple(f"nmc_adapters._probe -> {lib} " for lib in ADAPTERS_FORBIDDEN),
    ),
    # Adapter packages missing from the real tree are created in the copy (none today).
    "provider-adapters-independent": Probe(
        files={
            **_targets("nmc_adapters.postgres", "nmc_adapters.twilio", "nmc_adapters.stripe"),
            "nmc_adapters/postgres/_probe.py": _imports("nmc_adapters.twilio._probe_target"),
            "nmc_adapters/twilio/_probe.py": _imports("nmc_adapters.stripe._probe_target"),
            "nmc_adapters/stripe/_probe.py": _imports("nmc_adapters.postgres._probe_target"),
        },
        broken=frozenset({"provider-adapters-independent"}),
        evidence=(
            "nmc_adapters.postgres is not allowed to import nmc_adapters.twilio",
            "nmc_adapters.twilio is not allowed to import nmc_adapters.stripe",
            "nmc_adapters.stripe is not allowed to import nmc_adapters.postgres",
        ),
    ),
    # A direct import is enough (protected checks direct imports only), of the package or of
    # anything inside it.
    "only-bootstraps-import-adapters": Probe(
        files={
            **_targets("nmc_adapters"),
            "nmc_api/_probe.py": _imports("nmc_adapters"),
            "nmc_worker/_probe.py": _imports("nmc_adapters._probe_target"),
            "nmc_cli/_probe.py": _imports("nmc_adapters"),
        },
        broken=frozenset({"only-bootstraps-import-adapters"}),
        evidence=(
            "nmc_api._probe -> nmc_adapters ",
            "nmc_worker._probe -> nmc_adapters._probe_target ",
            "nmc_cli._probe -> nmc_adapters ",
        ),
    ),
}


def _read_config() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read_string(CONFIG.read_text(encoding="utf-8"))
    return parser


def _contract_names() -> dict[str, str]:
    """Contract id -> the `name` lint-imports prints."""
    parser = _read_config()
    return {
        section.removeprefix(CONTRACT_PREFIX): parser[section]["name"]
        for section in parser.sections()
        if section.startswith(CONTRACT_PREFIX)
    }


@dataclass(frozen=True)
class LintResult:
    returncode: int
    output: str

    def statuses(self) -> dict[str, str]:
        """Contract name -> KEPT or BROKEN, as printed in the report."""
        matches = (STATUS_LINE.match(line.strip()) for line in self.output.splitlines())
        return {m["name"]: m["status"] for m in matches if m}

    def broken_report(self, name: str) -> str:
        """The details printed under one broken contract's underlined heading."""
        lines = [line.rstrip() for line in self.output.splitlines()]
        headings = [
            i
            for i in range(len(lines) - 1)
            if lines[i] and lines[i + 1] == "-" * len(lines[i]) and not lines[i].startswith("-")
        ]
        for start, end in zip(headings, [*headings[1:], len(lines)], strict=True):
            if lines[start] == name:
                return "\n".join(lines[start + 2 : end])
        raise AssertionError(f"no report for {name!r} in:\n{self.output}")


def _lint_imports(cwd: Path, pythonpath: str | None) -> LintResult:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if pythonpath is not None:
        # PYTHONPATH entries come before site-packages, so the copies shadow the editable
        # installs (whose .pth paths are appended after site-packages).
        env["PYTHONPATH"] = pythonpath
    env["COLUMNS"] = "250"  # rich wraps at 80 columns when not on a terminal
    env["NO_COLOR"] = "1"
    completed = subprocess.run(
        [str(LINT_IMPORTS), "--config", "importlinter.cfg", "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return LintResult(completed.returncode, completed.stdout + completed.stderr)


def _copy_tree(destination: Path) -> str:
    """Copy the cfg and the five src trees into destination; return the PYTHONPATH for them."""
    shutil.copy2(CONFIG, destination / CONFIG.name)
    for tree in SRC_TREES:
        shutil.copytree(
            ROOT / tree, destination / tree, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    return os.pathsep.join(str(destination / tree) for tree in SRC_TREES)


def _package_root(copy: Path, module_path: str) -> Path:
    top_level = module_path.split("/", 1)[0]
    for tree in SRC_TREES:
        if (copy / tree / top_level).is_dir():
            return copy / tree
    raise AssertionError(f"no src tree holds {top_level}")


def _write_probe(copy: Path, probe: Probe) -> None:
    for module_path, source in probe.files.items():
        root = _package_root(copy, module_path)
        target = root / module_path
        # Create packages on the way that do not exist (yet) in the real tree.
        for package in reversed(target.relative_to(root).parents[:-1]):
            (root / package).mkdir(exist_ok=True)
            init = root / package / "__init__.py"
            if not init.exists():
                init.write_text('"""Probe package."""\n', encoding="utf-8")
        assert not target.exists(), f"probe would overwrite {target}"
        target.write_text(source, encoding="utf-8")


def test_real_tree_keeps_every_contract() -> None:
    result = _lint_imports(ROOT, pythonpath=None)

    assert result.returncode == 0, result.output
    assert result.statuses() == dict.fromkeys(_contract_names().values(), "KEPT"), result.output


def test_every_contract_has_a_failure_probe() -> None:
    assert sorted(_contract_names()) == sorted(PROBES)


def test_config_lists_one_module_per_line() -> None:
    parser = _read_config()

    assert parser.getboolean("importlinter", "include_external_packages")
    free_text = {"name", "broken_contract_guidance"}
    for section in parser.sections():
        for option, value in parser[section].items():
            if option not in free_text:
                assert "," not in value, f"[{section}] {option}: comma list, use one per line"


def test_every_ignored_import_carries_a_reason() -> None:
    previous = ""
    in_ignore_imports = False
    for line in CONFIG.read_text(encoding="utf-8").splitlines():
        if line and not line[0].isspace():
            in_ignore_imports = line.split("=", 1)[0].strip() == "ignore_imports"
        elif in_ignore_imports and line.strip() and not line.strip().startswith("#"):
            assert previous.strip().startswith("#"), f"ignore_imports without a reason: {line}"
        previous = line


def test_copy_of_the_tree_shadows_the_editable_installs(tmp_path: Path) -> None:
    pythonpath = _copy_tree(tmp_path)
    env = {**os.environ, "PYTHONPATH": pythonpath}
    code = "import nmc_domain, nmc_adapters, nmc_api, nmc_worker, nmc_cli as m; print(m.__file__)"

    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )

    assert completed.returncode == 0, completed.stderr
    assert Path(completed.stdout.strip()).is_relative_to(tmp_path)


def test_unchanged_copy_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint_imports(tmp_path, pythonpath=_copy_tree(tmp_path))

    assert result.returncode == 0, result.output
    assert result.statuses() == dict.fromkeys(_contract_names().values(), "KEPT"), result.output


def test_a_bootstrap_may_grow_into_a_package(tmp_path: Path) -> None:
    pythonpath = _copy_tree(tmp_path)
    for app in ("apps/api/src/nmc_api", "apps/worker/src/nmc_worker", "apps/cli/src/nmc_cli"):
        module, package = tmp_path / app / "bootstrap.py", tmp_path / app / "bootstrap"
        package.mkdir(exist_ok=True)
        if module.exists():
            module.rename(package / "__init__.py")
        (package / "_probe.py").write_text(_imports("nmc_adapters"), encoding="utf-8")

    result = _lint_imports(tmp_path, pythonpath=pythonpath)

    assert result.returncode == 0, result.output
    assert result.statuses() == dict.fromkeys(_contract_names().values(), "KEPT"), result.output


@pytest.mark.parametrize("contract_id", sorted(PROBES))
def test_contract_breaks_on_its_probe(tmp_path: Path, contract_id: str) -> None:
    probe = PROBES[contract_id]
    names = _contract_names()
    pythonpath = _copy_tree(tmp_path)
    _write_probe(tmp_path, probe)

    result = _lint_imports(tmp_path, pythonpath=pythonpath)

    assert result.returncode != 0, result.output
    expected = {
        name: "BROKEN" if other_id in probe.broken else "KEPT" for other_id, name in names.items()
    }
    assert result.statuses() == expected, result.output
    report = result.broken_report(names[contract_id])
    for line in probe.evidence:
        assert line in report, result.output
