"""The layout keeps its promises: surfaces are plugins, and commands pay only for what they use."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from aligner.surfaces import REGISTRY
from tests.conftest import SLACK_SECTION, write_theme

PACKAGE = Path(__file__).resolve().parents[2] / "aligner"
SURFACES = PACKAGE / "surfaces"
NAMES = {cls.name for cls in REGISTRY}
SURFACE_PACKAGES = {cls.__module__.rsplit(".", 1)[0] for cls in REGISTRY}
CLASS_NAMES = {cls.__name__ for cls in REGISTRY}
# Vendor vocabulary that happens to spell a surface's name, where it means the vendor's thing.
VENDOR_WORDS = {
    ("vendors/google/client.py", "calendar"): "the Calendar API's name in Google's discovery",
    ("vendors/google/scopes.py", "calendar"): "Google's OAuth scope names (calendar.events)",
    ("sandbox/google/gmail/settings.py", "signature"): "the `signature` field of Gmail's SendAs",
}
VENDOR_SDKS = (
    "slack_sdk",
    "googleapiclient",
    "google_auth_oauthlib",
    "httplib2",
    "apscheduler",
    "cryptography",
    "msal",
    "httpx",
)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _allowed(relative: Path, name: str) -> bool:
    """A vendor's or fake service's own folder may say its own name (vendors/slack: "slack")."""
    if relative.parts[0] in ("vendors", "sandbox") and name in relative.parts[:-1]:
        return True
    return (relative.as_posix(), name) in VENDOR_WORDS


def _spells_a_surface(value: str) -> str | None:
    for name in NAMES:
        if value == name or value.startswith(f"{name}.") or value == f"[{name}]":
            return name
    return None


def _problems(relative: Path, source: str) -> list[str]:
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    problems = []
    for node in ast.walk(tree):
        where = f"{relative}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            names = {a.name for a in node.names}
            if any(m.startswith(p) for m in modules for p in SURFACE_PACKAGES):
                problems.append(f"{where} imports a surface's own module ({node.module})")
            elif node.module == "aligner.surfaces" and names & CLASS_NAMES:
                problems.append(f"{where} imports a surface class from the registry")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if any(alias.name.startswith(p) for p in SURFACE_PACKAGES):
                    problems.append(f"{where} imports a surface's own module ({alias.name})")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            name = _spells_a_surface(node.value)
            if name and id(node) not in docstrings and not _allowed(relative, name):
                problems.append(f"{where} names the {name} surface ({node.value!r})")
        elif isinstance(node, ast.Attribute) and node.attr in NAMES:
            problems.append(f"{where} reads a surface's section (.{node.attr})")
    return problems


def test_nothing_outside_a_surface_package_knows_a_surface() -> None:
    """Adding a surface is its package plus one registry line: no one else names it."""
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if SURFACES in path.parents:
            continue
        problems += _problems(path.relative_to(PACKAGE), path.read_text(encoding="utf-8"))
    assert problems == []


def test_the_guard_catches_what_it_guards_against() -> None:
    sneaky = (
        '"""Says "slack" in its docstring: that is fine."""\n'
        "from aligner.surfaces.note.surface import InterviewNote\n"
        "from aligner.surfaces import SlackStatus\n"
        "CHECK = 'calendar.works'\n"
        "def enabled(config):\n"
        "    return config.signature.enabled\n"
    )
    found = _problems(Path("core/sneaky.py"), sneaky)
    assert len(found) == 4, found


def test_every_surface_package_brings_its_whole_interface() -> None:
    for cls in REGISTRY:
        package = cls.__module__.rsplit(".", 1)[0]
        assert package.startswith("aligner.surfaces."), cls
        assert cls.section.__module__.startswith(package), f"{cls.name}: section elsewhere"
        assert cls.accounts, f"{cls.name}: no account"
        assert cls.name and cls.title


def _imported_by(args: list[str], cwd: Path) -> list[str]:
    """The modules a command imports, run in a fresh interpreter."""
    code = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: print('MODULES=' + json.dumps(sorted(sys.modules))))\n"
        "from aligner.cli import cli\n"
        f"cli.main({args!r}, prog_name='aligner')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    line = next(x for x in result.stdout.splitlines() if x.startswith("MODULES="))
    return list(json.loads(line.removeprefix("MODULES=")))


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["init", "new.toml"],
        ["validate", "--config", "theme.toml"],
        ["timeline", "--config", "theme.toml"],
        ["status", "--config", "theme.toml"],
        ["preview", "--config", "theme.toml"],
    ],
    ids=lambda args: args[0],
)
def test_commands_that_talk_to_no_api_import_no_vendor_sdk(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_theme(tmp_path / "theme.toml", SLACK_SECTION)
    monkeypatch.setenv("ALIGNER_STATE_DIR", str(tmp_path / "state"))
    modules = _imported_by(args, tmp_path)
    assert "aligner" in modules
    loaded = sorted({m.split(".")[0] for m in modules} & set(VENDOR_SDKS))
    assert loaded == []


def test_help_imports_neither_pydantic_nor_the_registry(tmp_path: Path) -> None:
    modules = _imported_by(["--help"], tmp_path)
    assert "pydantic" not in modules
    assert "aligner.surfaces" not in modules


@pytest.mark.parametrize(
    ("sections", "wanted"),
    [
        (
            '\n[slack]\nenabled = false\n[teams]\nenabled = true\nmessage = "{{ theme.name }}"\n',
            {"httpx"},
        ),
        (SLACK_SECTION, {"slack_sdk"}),
    ],
    ids=["teams", "slack"],
)
def test_plan_imports_only_the_sdks_of_the_enabled_surfaces(
    sections: str,
    wanted: set[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aligner.sandbox.seed import SANDBOX_ENV, seeded_sandbox

    write_theme(tmp_path / "theme.toml", sections)
    monkeypatch.setenv("ALIGNER_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("ALIGNER_NOW", "2026-12-02T20:00:00Z")
    with seeded_sandbox() as box:
        for name, value in SANDBOX_ENV(box.url).items():
            monkeypatch.setenv(name, value)
        modules = _imported_by(["plan", "--config", "theme.toml"], tmp_path)
        assert box.requests(writes=False)  # it did read the enabled surface
    loaded = {m.split(".")[0] for m in modules} & set(VENDOR_SDKS)
    assert loaded == wanted  # a raw Graph token needs no MSAL either
