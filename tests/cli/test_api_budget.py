"""`apply` calls an API only when something can change (cron may run it every 5 minutes forever)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from aligner.core.rehearsal import sandbox_settings, steps
from aligner.core.session import open_session
from aligner.sandbox.server import Sandbox
from aligner.theme.validation import load_theme
from tests.conftest import REPO, SLACK_SECTION, Aligner, write_theme

EXAMPLE = REPO / "config" / "example.toml"


def _live_the_whole_timeline(sandbox: Sandbox, tmp_path: Path) -> None:
    config = load_theme(EXAMPLE).config
    settings = sandbox_settings(sandbox.url, tmp_path / "state")
    for at, _ in steps(config):
        sandbox.clock.pinned = at
        with open_session(settings, config, lock=True, busy_at=at) as session:
            assert not session.apply(at).failed


def test_after_the_window_every_later_apply_makes_no_call_at_all(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    _live_the_whole_timeline(sandbox, tmp_path)
    config = load_theme(EXAMPLE).config
    settings = sandbox_settings(sandbox.url, tmp_path / "state")
    after = config.schedule.window_end + timedelta(hours=2)
    for later in (after, after + timedelta(days=30)):
        sandbox.clear_log()
        with open_session(settings, config, lock=True, busy_at=later) as session:
            result = session.apply(later)
        assert not result.failed and result.written == ()
        assert sandbox.requests() == []  # no read, no write, no token refresh


def test_apply_refresh_reads_every_surface_anyway(env: dict[str, str], sandbox: Sandbox) -> None:
    aligner = Aligner(env, EXAMPLE, sandbox)
    config = load_theme(EXAMPLE).config
    after = (config.schedule.window_end + timedelta(days=2)).isoformat()
    sandbox.clear_log()
    assert aligner("apply", "--quiet", now=after).exit_code == 0
    assert sandbox.requests() == []
    assert aligner("apply", "--refresh", now=after).exit_code == 0
    assert {r.service for r in sandbox.requests()} >= {"slack", "calendar", "gmail.settings"}


def test_before_the_window_only_the_calendar_is_due(env: dict[str, str], sandbox: Sandbox) -> None:
    """Blocks count as due as soon as they can be created; the status, signature and note wait."""
    aligner = Aligner(env, EXAMPLE, sandbox)
    config = load_theme(EXAMPLE).config
    early = (config.schedule.window_start - timedelta(days=2)).isoformat()
    sandbox.clear_log()
    assert aligner("apply", now=early).exit_code == 0
    services = {r.service for r in sandbox.requests()}
    assert services == {"calendar"}


def test_before_the_window_with_nothing_due_no_call_is_made(
    env: dict[str, str], sandbox: Sandbox, tmp_path: Path
) -> None:
    theme = write_theme(tmp_path / "theme.toml", SLACK_SECTION)
    aligner = Aligner(env, theme, sandbox)
    sandbox.clear_log()
    result = aligner("apply", "--quiet", now="2026-12-01T08:00:00Z")
    assert result.exit_code == 0 and result.output == ""
    assert sandbox.requests() == []


def test_the_daemon_reconcile_is_the_same_budgeted_apply(sandbox: Sandbox, tmp_path: Path) -> None:
    from aligner.core.daemon import reconcile_once

    config = load_theme(EXAMPLE).config
    settings = sandbox_settings(sandbox.url, tmp_path / "state").with_config(EXAMPLE)
    after = config.schedule.window_end + timedelta(days=3)
    frozen = settings.model_copy(update={"now": after.isoformat()})
    sandbox.clear_log()
    assert not reconcile_once(frozen, config).failed
    assert sandbox.requests() == []
