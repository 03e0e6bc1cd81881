"""A write whose answer is lost (the vendor committed it, the connection dropped) never costs
the person their original: whatever runs follow, the timeline ends with it back byte for byte."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from aligner.sandbox.google.common import EMAIL
from aligner.sandbox.server import Sandbox
from tests.conftest import SLACK_SECTION, USER_ID, Aligner, write_theme

EARLY = "2026-12-03T16:00:00Z"  # 10 h before the interview (10:00 PST = 18:00Z)
LATE = "2026-12-03T21:00:00Z"  # 3 h after it
NO_SLACK = "\n[slack]\nenabled = false\n"
SIGNATURE_HTML = "<div>{{ theme.name }} · {{ metrics.latency | change }}</div>"


def signature_section(mode: str) -> str:
    return (
        f'{NO_SLACK}[signature]\nenabled = true\nmode = "{mode}"\n'
        f"html = {json.dumps(SIGNATURE_HTML)}\n"
    )


def slack_shows(sandbox: Sandbox) -> object:
    return dict(sandbox.service("slack").status(USER_ID))


def signature_shows(sandbox: Sandbox) -> object:
    return sandbox.service("gmail.settings").signature(EMAIL)


CASES: dict[str, tuple[str, str, Callable[[Sandbox], object]]] = {
    "slack": (SLACK_SECTION, "users.profile.set", slack_shows),
    "signature-append": (signature_section("append"), "gmail.sendAs.patch", signature_shows),
    "signature-replace": (signature_section("replace"), "gmail.sendAs.patch", signature_shows),
}


@pytest.fixture(params=sorted(CASES))
def case(
    request: pytest.FixtureRequest, env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> tuple[Aligner, str, Callable[[Sandbox], object]]:
    section, operation, shows = CASES[request.param]
    return Aligner(env, write_theme(tmp_path / "theme.toml", section), sandbox), operation, shows


@pytest.mark.parametrize("drops", [1, 5])
def test_a_dropped_write_then_the_rest_of_the_timeline_gives_the_original_back(
    case: tuple[Aligner, str, Callable[[Sandbox], object]], sandbox: Sandbox, drops: int
) -> None:
    aligner, operation, shows = case
    original = shows(sandbox)
    sandbox.inject(operation, "drop", times=drops)
    aligner("apply", now=EARLY)
    second = aligner("apply", now=EARLY)
    assert second.exit_code == 0, second.output
    assert shows(sandbox) != original
    last = aligner("apply", now=LATE)
    assert last.exit_code == 0, last.output
    assert "conflict" not in last.output
    assert shows(sandbox) == original


def test_a_lost_write_then_a_first_run_after_the_window_gives_the_original_back(
    case: tuple[Aligner, str, Callable[[Sandbox], object]], sandbox: Sandbox
) -> None:
    aligner, operation, shows = case
    original = shows(sandbox)
    sandbox.inject(operation, "drop", times=5)  # every retry's answer is lost too
    assert aligner("apply", now=EARLY).exit_code == 1
    assert shows(sandbox) != original
    last = aligner("apply", now=LATE)
    assert last.exit_code == 0, last.output
    assert "conflict" not in last.output
    assert shows(sandbox) == original


def test_a_theme_edited_after_a_lost_write_still_gives_the_original_back(
    case: tuple[Aligner, str, Callable[[Sandbox], object]], sandbox: Sandbox
) -> None:
    """The surface shows the lost write's (old) theme, not an original, when the new one goes."""
    aligner, operation, shows = case
    original = shows(sandbox)
    sandbox.inject(operation, "drop", times=5)
    assert aligner("apply", now=EARLY).exit_code == 1
    edited = aligner.config.read_text(encoding="utf-8").replace("{{ theme.name }}", "Edited")
    aligner.config.write_text(edited, encoding="utf-8")
    assert aligner("apply", now=EARLY).exit_code == 0
    assert aligner("apply", now=LATE).exit_code == 0
    assert shows(sandbox) == original
