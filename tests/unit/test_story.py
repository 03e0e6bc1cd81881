"""Issue 11, item 13: `validate` and `plan` check the story, not only the syntax."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from aligner.errors import ConfigError
from aligner.theme.validation import load_theme
from tests.conftest import AFTER, BASE_THEME, DURING, SLACK_SECTION, Aligner, write_theme

BOTH = (
    '\n[slack]\nenabled = true\nstatus_emoji = ":rocket:"\n'
    'status_text = "{{ metrics.latency | change }}, {{ metrics.throughput | pct }}"\n'
)
ENDED = "warning: interview.starts_at: the window ended on Thu 03 Dec 2026 11:00 PST; "
ENDED += "aligner will only give back what it still holds"


def test_a_metric_that_got_worse_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(BASE_THEME.replace("after = 19", "after = 31") + BOTH, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_theme(path)
    assert caught.value.problems == [
        'metrics.latency: after (31 ms) is worse than before (28 ms) although better = "lower"'
    ]


def test_higher_is_better_is_worse_when_it_falls(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(BASE_THEME.replace("after = 4700", "after = 3000") + BOTH, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"metrics\.throughput: after \(3,000 QPS\) is worse"):
        load_theme(path)


def test_an_unchanged_metric_is_not_worse(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(BASE_THEME.replace("after = 19", "after = 28") + BOTH, encoding="utf-8")
    assert load_theme(path).warnings == ()


def test_a_metric_no_text_mentions_is_a_warning(tmp_path: Path) -> None:
    path = write_theme(tmp_path / "t.toml", SLACK_SECTION)  # mentions latency only
    warnings = load_theme(path, now=datetime(2026, 12, 1, tzinfo=UTC)).warnings
    assert [str(w) for w in warnings] == [
        "metrics.throughput: no text of an enabled surface mentions it "
        "(add {{ metrics.throughput | change }} to one, or remove the metric)"
    ]


def test_texts_of_disabled_surfaces_do_not_count(tmp_path: Path) -> None:
    signature = '\n[signature]\nenabled = false\nhtml = "{{ metrics.throughput }}"\n'
    path = write_theme(tmp_path / "t.toml", SLACK_SECTION, signature)
    warnings = load_theme(path, now=datetime(2026, 12, 1, tzinfo=UTC)).warnings
    assert [w.field for w in warnings] == ["metrics.throughput"]
    enabled = signature.replace("false", "true")
    path = write_theme(tmp_path / "t.toml", SLACK_SECTION, enabled)
    assert load_theme(path, now=datetime(2026, 12, 1, tzinfo=UTC)).warnings == ()


def test_a_metric_in_a_calendar_block_counts(tmp_path: Path) -> None:
    block = (
        '\n[calendar]\nenabled = true\n[[calendar.blocks]]\ntitle = "Focus"\nstart = "-2h"\n'
        'description = "{{ metrics.throughput | change }}"\n'
    )
    path = write_theme(tmp_path / "t.toml", SLACK_SECTION, block)
    assert load_theme(path, now=datetime(2026, 12, 1, tzinfo=UTC)).warnings == ()


def test_an_ended_window_is_a_warning_in_validate_and_plan(
    env: dict[str, str], tmp_path: Path
) -> None:
    aligner = Aligner(env, write_theme(tmp_path / "t.toml", BOTH))
    for command in ("validate", "plan"):
        result = aligner(command, now=AFTER)
        assert result.exit_code == 0, result.output
        assert ENDED in result.stderr.splitlines()
        assert ENDED not in aligner(command, now=DURING).stderr


def test_plan_at_a_moment_after_the_window_warns(env: dict[str, str], tmp_path: Path) -> None:
    aligner = Aligner(env, write_theme(tmp_path / "t.toml", BOTH))
    assert ENDED in aligner("plan", "--at", "+3h", now=DURING).stderr.splitlines()


def test_apply_after_the_window_still_gives_back(env: dict[str, str], tmp_path: Path) -> None:
    aligner = Aligner(env, write_theme(tmp_path / "t.toml", BOTH))
    assert aligner("apply", now=DURING).exit_code == 0
    result = aligner("apply", now=AFTER)
    assert result.exit_code == 0, result.output
    assert "restore" in result.output.lower() or "back" in result.output.lower()
    assert ENDED not in result.stderr  # cron runs apply: no warning every five minutes
