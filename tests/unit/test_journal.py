"""The journal: indexed per item, pruned by age (never below each item's last rows), never
holding a value twice in one row, and read by `status` through its index."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from aligner.core.model import Change
from aligner.state.compact import compact, expand
from aligner.state.store import Store
from tests.conftest import AFTER, DURING, Aligner

NOW = datetime(2026, 12, 2, 20, tzinfo=UTC)
ORIGINAL = '<div dir="ltr"><div><b>Alex Doe</b></div>' + "<div>Platform · Northwind</div>" * 20
THEMED = ORIGINAL + '<div class="aligner-theme"><div>Optimizing inference pipelines</div></div>'


def notice(key: str, n: int) -> Change:
    return Change("slack", key, "conflict", None, f"by hand {n}", "changed by hand", writes=False)


def test_status_finds_each_surface_last_change_past_a_thousand_rows(
    aligner: Aligner, state_dir: Path
) -> None:
    state_dir.mkdir(parents=True)
    with Store(state_dir / "state.db") as store:
        sent = Change("note", "example-corp", "send", None, {"to": "r@example.com"}, "send")
        store.save_applied("note", "example-corp", sent.after, "active", NOW)
        store.journal(sent, "applied", "", NOW)
        store.journal(notice("status", 0), "conflict", "", NOW)
    db = sqlite3.connect(state_dir / "state.db")
    with db:  # 1,100 more rows of another surface in one transaction
        db.executemany(
            "INSERT INTO journal (at, surface, key, action, before, after, outcome, detail) "
            "VALUES (?, 'slack', 'status', 'conflict', 'null', ?, 'conflict', '')",
            [((NOW + timedelta(seconds=n)).isoformat(), f'"by hand {n}"') for n in range(1_100)],
        )
    db.close()
    result = aligner("status", "--json", now=DURING)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["surfaces"]
    assert data["note"]["last"]["action"] == "send"
    assert data["slack"]["conflicts"]["status"]["shows"] == "by hand 1099"
    text = aligner("status", now=DURING).stdout
    assert "note: last change never" not in text


def test_status_clears_a_conflict_once_a_later_write_applied(tmp_path: Path) -> None:
    from aligner.core.status import status_report
    from aligner.theme.validation import load_theme
    from tests.conftest import write_theme

    config = load_theme(write_theme(tmp_path / "theme.toml")).config
    with Store(tmp_path / "state.db") as store:
        store.journal(notice("status", 1), "conflict", "", NOW)
        store.journal(notice("emoji", 1), "conflict", "", NOW)
        write = Change("slack", "status", "set", "a", "b", "a → b")
        store.journal(write, "failed", "503", NOW + timedelta(minutes=1))
        store.journal(write, "applied", "", NOW + timedelta(minutes=2))
        report = status_report(store, config, NOW)
    slack = report["surfaces"]["slack"]
    assert list(slack["conflicts"]) == ["emoji"]
    assert (slack["last"]["key"], slack["last"]["outcome"]) == ("status", "applied")


def test_last_rows_are_read_through_the_per_item_index(tmp_path: Path) -> None:
    Store(tmp_path / "state.db").close()
    db = sqlite3.connect(tmp_path / "state.db")
    plan = db.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM journal WHERE surface = 'a' AND key = 'b' "
        "AND outcome IN ('applied') ORDER BY id DESC LIMIT 1"
    ).fetchall()
    db.close()
    assert any("journal_item" in str(row) for row in plan), plan


def test_prune_keeps_recent_rows_and_each_item_last_rows(tmp_path: Path) -> None:
    old = NOW - timedelta(days=200)
    with Store(tmp_path / "state.db") as store:
        store.take_snapshot("slack", "status", "original", old)
        for n in range(150):
            write = Change("slack", "status", "set", n, n + 1, "set")
            store.journal(write, "applied", "", old + timedelta(minutes=n))
        once = Change("note", "n", "send", None, "note", "send")
        store.journal(once, "applied", "", old)
        store.journal(Change("slack", "status", "set", 0, 1, "set"), "applied", "", NOW)
        gone = store.prune(NOW, keep_days=90, keep_rows=100)
        assert gone == 51
        rows = store.entries(limit=10_000)
        assert [e.key for e in rows].count("status") == 100
        assert [e.key for e in rows].count("n") == 1  # an item's last rows stay, however old
        assert store.record("slack", "status").snapshot == "original"  # type: ignore[union-attr]
        assert store.prune(NOW, keep_days=0, keep_rows=1) == 99


def test_apply_prunes_with_the_configured_retention(aligner: Aligner, state_dir: Path) -> None:
    assert aligner("apply", now=DURING).exit_code == 0
    result = aligner(
        "apply", now=AFTER, ALIGNER_JOURNAL_KEEP_DAYS="0", ALIGNER_JOURNAL_KEEP_ROWS="1"
    )
    assert result.exit_code == 0, result.output
    with Store(state_dir / "state.db", readonly=True) as store:
        assert [e.action for e in store.entries()] == ["restore"]
        assert store.record("slack", "status").snapshot is not None  # type: ignore[union-attr]


def test_a_signature_row_holds_its_html_once(tmp_path: Path) -> None:
    theme = Change("signature", "me", "set", ORIGINAL, THEMED, "themed")
    back = Change("signature", "me", "restore", f'<div dir="ltr">{THEMED}</div>', ORIGINAL, "back")
    with Store(tmp_path / "state.db") as store:
        store.journal(theme, "applied", "", NOW)
        store.journal(back, "applied", "", NOW)
        assert [(e.before, e.after) for e in store.entries()] == [
            (theme.before, theme.after),
            (back.before, back.after),
        ]
    db = sqlite3.connect(tmp_path / "state.db")
    rows = db.execute("SELECT before || after FROM journal ORDER BY id").fetchall()
    db.close()
    for (stored,) in rows:
        assert stored.count("Platform · Northwind") == 20  # one copy of the HTML, not two


@given(
    text=st.text(alphabet='ab"\\<>é', max_size=700),
    base=st.text(alphabet='ab"\\<>é', max_size=700),
    cut=st.integers(min_value=0, max_value=700),
)
def test_a_compacted_value_reads_back_exactly(text: str, base: str, cut: int) -> None:
    related = text[:cut] + base[:30] + text[cut:]
    for value, other in ((text, base), (text, related), (related, text), (f'"{text}"', related)):
        assert expand(compact(value, other), other) == value


def test_compacting_a_large_signature_takes_linear_time() -> None:
    """A 60 KB signature with repeated markup must not cost seconds on every journal row."""
    big = json.dumps("<div></div>" * 6000 + "x")
    started = time.monotonic()
    for other in (json.dumps("y" + "<div></div>" * 6000), json.dumps("<div></div>" * 6000)):
        assert expand(compact(big, other), other) == big
    # milliseconds when linear, minutes when quadratic: a bound far from both, so a busy
    # machine cannot fail it (speed itself is for benchmarks/)
    assert time.monotonic() - started < 20
    assert len(compact(big, json.dumps("<div></div>" * 6000))) < 100
