"""Pure logic: desired state as a function of (config, now), and the shared ownership diff."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from aligner.core.model import Record
from aligner.core.ownership import OwnedValue
from aligner.core.timeline import transitions
from aligner.surfaces.slack_status.surface import SlackStatus
from aligner.theme.schema import ThemeConfig, parse_config
from tests.conftest import BASE_THEME, SLACK_SECTION

CONFIG: ThemeConfig = parse_config(tomllib.loads(BASE_THEME + SLACK_SECTION))
WINDOW_START = datetime(2026, 12, 2, 18, tzinfo=UTC)
WINDOW_END = datetime(2026, 12, 3, 19, tzinfo=UTC)


def test_schedule() -> None:
    s = CONFIG.schedule
    assert (s.window_start, s.window_end) == (WINDOW_START, WINDOW_END)
    assert s.interview_start == datetime(2026, 12, 3, 18, tzinfo=UTC)
    assert s.phase(WINDOW_START - timedelta(seconds=1)) == "before"
    assert s.phase(WINDOW_START) == "during"
    assert s.phase(WINDOW_END) == "after"


def test_slack_desired_inside_and_outside_the_window() -> None:
    inside = SlackStatus.desired(CONFIG, WINDOW_START + timedelta(hours=1))
    assert inside == {
        "status": {
            "text": "Optimizing inference pipelines: 28 ms → 19 ms (−32%)",
            "emoji": ":rocket:",
            "expiration": int(WINDOW_END.timestamp()),
        }
    }
    assert SlackStatus.desired(CONFIG, WINDOW_START - timedelta(minutes=1)) == {"status": None}
    assert SlackStatus.desired(CONFIG, WINDOW_END) == {"status": None}


@given(st.datetimes(min_value=datetime(2026, 11, 1), max_value=datetime(2027, 1, 1)))
def test_desired_is_pure_and_only_depends_on_the_phase(moment: datetime) -> None:
    now = moment.replace(tzinfo=UTC)
    first = SlackStatus.desired(CONFIG, now)
    assert first == SlackStatus.desired(CONFIG, now)
    assert (first["status"] is not None) == CONFIG.schedule.in_window(now)


def test_timeline_is_ordered_and_names_the_window() -> None:
    items = transitions(CONFIG)
    assert items == sorted(items)
    whats = [t.what for t in items]
    assert "window starts" in whats and "window ends" in whats and "interview starts" in whats


# -- the ownership rule --------------------------------------------------------------------

OWNED = OwnedValue("s", "k", lambda a, b: a == b, str)
NOW = datetime(2026, 12, 2, tzinfo=UTC)


def record(snapshot: object, applied: object, state: str = "active") -> Record:
    return Record("s", "k", snapshot, applied, state, {}, NOW)  # type: ignore[arg-type]


def test_first_write_is_a_set() -> None:
    [change] = OWNED.diff("themed", "original", None, None)
    assert (change.action, change.before, change.after, change.writes) == (
        "set",
        "original",
        "themed",
        True,
    )


def test_in_sync_is_no_change() -> None:
    assert OWNED.diff("themed", "themed", record("original", "themed"), "original") == []


def test_theme_edit_updates_what_aligner_owns() -> None:
    [change] = OWNED.diff("new", "themed", record("original", "themed"), "original")
    assert change.action == "update"


def test_hand_edit_during_window_is_a_conflict_without_a_write() -> None:
    [change] = OWNED.diff("themed", "lunch", record("original", "themed"), "original")
    assert change.action == "conflict" and not change.writes and change.ownership == "keep"


def test_force_reasserts() -> None:
    [change] = OWNED.diff("themed", "lunch", record("original", "themed"), "original", force=True)
    assert change.action == "update" and change.writes


def test_after_window_restores_only_what_aligner_set() -> None:
    [change] = OWNED.diff(None, "themed", record("original", "themed"), "original")
    assert (change.action, change.after, change.ownership) == ("restore", "original", "restored")
    [conflict] = OWNED.diff(None, "lunch", record("original", "themed"), "original")
    assert conflict.action == "conflict" and conflict.ownership == "released"


def test_nothing_owned_nothing_to_give_back() -> None:
    assert OWNED.diff(None, "anything", None, None) == []
    assert OWNED.diff(None, "anything", record("o", "t", "restored"), "o") == []


def test_already_back_is_bookkeeping_only() -> None:
    [change] = OWNED.diff(None, "original", record("original", "themed"), "original")
    assert change.action == "release" and not change.writes
