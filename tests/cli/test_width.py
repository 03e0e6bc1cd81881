"""Human text wraps: to the terminal's width on a terminal, at 100 columns in a pipe."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from aligner.cli.context import Output
from aligner.render.text import wrap
from aligner.sandbox.server import Sandbox
from tests.conftest import Aligner

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.toml"
BEFORE_WINDOW = "2026-12-02T16:00:00+00:00"  # 08:00 PST, before every block of the example
DURING_WINDOW = "2026-12-02T19:30:00+00:00"


@pytest.fixture
def example(env: dict[str, str], sandbox: Sandbox) -> Aligner:
    return Aligner(env, EXAMPLE, sandbox)


def widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def flat(text: str) -> str:
    return " ".join(text.split())


def test_piped_plan_folds_long_lines_at_100_columns_and_loses_nothing(example: Aligner) -> None:
    plan = example("plan", now=BEFORE_WINDOW)
    assert plan.exit_code == 0, plan.output
    assert widest(plan.stdout) <= 100
    assert "“Data refresh: PRD, OKR impact, latency numbers” Wed 02 Dec 10:00–12:00 PST" in flat(
        plan.stdout
    )
    assert "I'll walk through how we cut p50 latency 28 ms → 19 ms (−32%) while raising" in flat(
        plan.stdout
    )


def test_piped_apply_and_status_never_pass_100_columns(example: Aligner) -> None:
    applied = example("apply", now=DURING_WINDOW)
    assert applied.exit_code == 0, applied.output
    assert widest(applied.stdout) <= 100
    status_text = "“Optimizing inference pipelines: p50 latency 28 ms → 19 ms (−32%)” until"
    assert status_text in flat(applied.stdout)
    status = example("status", now=DURING_WINDOW)
    assert status.exit_code == 0, status.output
    assert widest(status.stdout) <= 100


def test_a_long_line_folds_under_its_mark_and_loses_no_word() -> None:
    line = "  + create block: " + " ".join(f"word{i}" for i in range(40))
    folded = wrap(line, 60).splitlines()
    assert len(folded) > 1 and all(len(part) <= 60 for part in folded)
    assert all(part.startswith("      ") for part in folded[1:])  # under the text, not the mark
    assert " ".join(" ".join(folded).split()) == " ".join(line.split())
    assert wrap("short", 60) == "short"


def test_on_a_terminal_text_wraps_to_its_width(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setattr("sys.stdout", Terminal())
    assert Output([]).width() == 60
    monkeypatch.setenv("COLUMNS", "180")
    assert Output([]).width() == 180
    monkeypatch.setattr("sys.stdout", io.StringIO())  # a pipe: 100, whatever COLUMNS says
    assert Output([]).width() == 100


def test_a_word_longer_than_the_width_is_never_cut() -> None:
    """A path or URL must stay whole to be copied; only spaces fold a line."""
    from aligner.render.text import wrap

    path = "/tmp/" + "deep/" * 30 + "google-credentials.json"
    folded = wrap(f"  ✗ google.credentials: too open — chmod 600 {path}", 100)
    assert path in folded.splitlines()[-1]
