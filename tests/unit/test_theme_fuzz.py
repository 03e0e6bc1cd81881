"""Issue 11, item 8: any theme file makes `validate` and `plan` exit 0 or 2, never crash.

Themes are drawn from the fragments of tests/fuzz_themes.py (sound values, known crashers,
hostile templates) and run in-process against the sandbox. ALIGNER_FUZZ_EXAMPLES raises the
count (default 80, under 10 s); `python -m tests.fuzz_themes` runs thousands in subprocesses.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aligner.cli import cli
from tests.conftest import DURING
from tests.fuzz_themes import TEMPLATES, theme_text

EXAMPLES = int(os.environ.get("ALIGNER_FUZZ_EXAMPLES", "80"))


@st.composite
def themes(draw: st.DrawFn) -> str:
    def pick(options: Sequence[str]) -> str:  # the sound first option half of the time
        return draw(st.one_of(st.just(options[0]), st.sampled_from(options)))

    text = theme_text(pick, TEMPLATES)
    if draw(st.booleans()):  # and some random damage on top
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.text(max_size=3)) + text[at + draw(st.integers(0, 3)) :]
    return text


@pytest.mark.heavy(3)
@settings(
    max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=themes())
def test_validate_and_plan_never_crash(env: dict[str, str], tmp_path: Path, text: str) -> None:
    path = tmp_path / "theme.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    for args in (["validate"], ["plan"]):
        started = time.monotonic()
        result = CliRunner().invoke(
            cli, [*args, "--config", str(path)], env={**env, "ALIGNER_NOW": DURING}
        )
        assert result.exit_code in (0, 2), result.output
        assert "internal error" not in result.output
        assert "Traceback" not in result.output
        # within seconds, never hanging: the theme's texts share a 2 s budget per command
        # (see jinja_limits); the bound leaves room for a busy machine
        assert time.monotonic() - started < 15
