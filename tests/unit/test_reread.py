"""When a write may rely on the run's read, and when it must read again first."""

from __future__ import annotations

from aligner.surfaces.reread import REREAD_AFTER, LastRead
from tests.conftest import ReadClock


def test_a_fresh_read_serves_each_item_once(read_clock: ReadClock) -> None:
    last = LastRead()
    assert not last.fresh_for("status")  # nothing read yet
    last.mark()
    assert last.fresh_for("status") and last.fresh_for("other")
    assert not last.fresh_for("status")  # a second write of the item reads again
    last.mark()
    assert last.fresh_for("status")  # a new read serves it again


def test_a_read_older_than_the_bound_is_read_again(read_clock: ReadClock) -> None:
    last = LastRead()
    last.mark()
    read_at = read_clock.now
    read_clock.now = read_at + REREAD_AFTER / 2
    assert last.fresh_for("a")
    read_clock.now = read_at + REREAD_AFTER
    assert not last.fresh_for("b")


def test_the_bound_is_milliseconds() -> None:
    assert 0 < REREAD_AFTER <= 0.25
