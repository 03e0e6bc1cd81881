"""Issue 11, "Keep it true": a stateful test interleaving apply, revert, a person's edits on every
surface, faults and clock jumps against the in-process sandbox, with the issue's invariants checked
after every aligner run (see `world.World`).

- `test_every_interleaving_keeps_the_invariants` draws faults that today's aligner survives (429,
  5xx and one lost answer on any operation; every answer lost on Calendar and note writes). It
  must pass.
- `test_lost_answers_on_every_write_keep_the_invariants` also loses every answer of
  `users.profile.set` and `gmail.sendAs.patch` (issue 11 items 1 and 2 broke it before).
- The `test_item_*` tests are the minimal reproductions, written as the same machine's steps.

`--slow` (or ALIGNER_SLOW=1) runs many more and longer examples.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from slack_sdk.http_retry import builtin_handlers, handler
from slack_sdk.http_retry.jitter import Jitter

from aligner.sandbox.seed import seeded_sandbox
from aligner.vendors.google import client as google_client
from tests.reliability.world import (
    BLOCKS,
    INSTANTS,
    LOSABLE_TODAY,
    READ_OPERATIONS,
    WRITE_OPERATIONS,
    World,
)

PERSON_ACTIONS = (
    "status",
    "signature",
    "rename-block",
    "delete-block",
    "send-draft",
    "delete-draft",
    "edit-draft",
)


class NoJitter(Jitter):
    def recalculate(self, duration: float) -> float:
        return duration


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Retries without waiting (faults say Retry-After: 0): the runs stay short; nothing here
    measures time, the request log is what counts."""
    monkeypatch.setattr(google_client, "BACKOFF_BASE", 0.0)
    monkeypatch.setattr(handler.default_interval_calculator, "backoff_factor", 0.0)
    monkeypatch.setattr(handler.default_interval_calculator, "jitter", NoJitter())
    monkeypatch.setattr(builtin_handlers, "random", SimpleNamespace(random=lambda: 0.0))
    yield


class AlignerMachine(RuleBasedStateMachine):
    """The example theme (every surface on) on a seeded sandbox, lived through in random order."""

    # operations whose every answer may be lost in a run
    losable: tuple[str, ...] = LOSABLE_TODAY + READ_OPERATIONS

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="aligner-reliability-"))
        self.box = seeded_sandbox().start()
        self._world: World | None = None

    @property
    def world(self) -> World:
        assert self._world is not None
        return self._world

    def teardown(self) -> None:
        self.box.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    @initialize(
        mode=st.sampled_from(["append", "replace"]), delivery=st.sampled_from(["draft", "send"])
    )
    def theme(self, mode: str, delivery: str) -> None:
        self._world = World(self.box, self.root, mode, delivery)
        self.world.log.append(f"theme: signature mode {mode}, note delivery {delivery}")

    # -- aligner -------------------------------------------------------------------------------

    @rule(command=st.sampled_from(["apply", "apply", "apply", "revert"]))
    def run(self, command: str) -> None:
        self.world.aligner(command)

    @rule(steps=st.integers(1, 4), then_apply=st.booleans())
    def clock_forward(self, steps: int, then_apply: bool) -> None:
        """Time only moves forward, across the window's transitions."""
        at = INSTANTS.index(self.world.now)
        self.world.move_clock(INSTANTS[min(at + steps, len(INSTANTS) - 1)])
        if then_apply:
            self.world.aligner("apply")

    # -- a person ------------------------------------------------------------------------------

    @rule(
        action=st.sampled_from(PERSON_ACTIONS),
        block=st.sampled_from(BLOCKS),
        then_apply=st.booleans(),
    )
    def person(self, action: str, block: str, then_apply: bool) -> None:
        world = self.world
        if action == "status":
            world.edit_status()
        elif action == "signature":
            world.edit_signature()
        elif action == "rename-block":
            world.edit_block(block)
        elif action == "delete-block":
            world.delete_block(block)
        elif action == "send-draft":
            world.send_draft()
        elif action == "delete-draft":
            world.delete_draft()
        else:
            world.edit_draft()
        if then_apply:
            world.aligner("apply")

    # -- faults --------------------------------------------------------------------------------

    @rule(
        operation=st.sampled_from(WRITE_OPERATIONS + READ_OPERATIONS),
        kind=st.sampled_from(["429", "5xx", "drop", "lost"]),
        then_apply=st.booleans(),
    )
    def fault(self, operation: str, kind: str, then_apply: bool) -> None:
        if kind == "lost":
            self.lose_every_answer(operation)
        else:
            self.world.inject(operation, kind)
        if then_apply:
            self.world.aligner("apply")

    def lose_every_answer(self, operation: str) -> None:
        """Every answer lost during the next aligner run (a single lost answer where that would
        show a known defect; see `losable`)."""
        self.world.inject(operation, "lost" if operation in self.losable else "drop")

    def heal(self) -> None:
        self.world.heal()

    # -- invariants that hold between any two steps ---------------------------------------------

    @invariant()
    def never_twice(self) -> None:
        if self._world is not None:
            self.world.check_note_once()
            self.world.check_no_duplicate_events()


class EveryAnswerLostMachine(AlignerMachine):
    losable = WRITE_OPERATIONS + READ_OPERATIONS


def machine_settings(slow: bool) -> settings:
    return settings(
        max_examples=200 if slow else 15,
        stateful_step_count=40 if slow else 12,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


@pytest.mark.heavy(6)
@pytest.mark.usefixtures("no_backoff")
def test_every_interleaving_keeps_the_invariants(slow: bool) -> None:
    run_state_machine_as_test(AlignerMachine, settings=machine_settings(slow))


@pytest.mark.heavy(6)
@pytest.mark.usefixtures("no_backoff")
def test_lost_answers_on_every_write_keep_the_invariants(slow: bool) -> None:
    """The whole fault set, every answer of every write lost included."""
    run_state_machine_as_test(EveryAnswerLostMachine, settings=machine_settings(slow))


# -- minimal reproductions, as steps of the same machine ----------------------------------------


def replay(steps: list[tuple[str, dict[str, object]]], mode: str = "append") -> None:
    machine = EveryAnswerLostMachine()
    try:
        machine.theme(mode=mode, delivery="draft")
        for name, args in steps:
            getattr(machine, name)(**args)
            machine.never_twice()
    finally:
        machine.teardown()


DURING = 3  # steps from INSTANTS[0] to 2026-12-03T00:00Z, inside the window


@pytest.mark.usefixtures("no_backoff")
@pytest.mark.parametrize("mode", ["append", "replace"])
def test_item_1_lost_signature_answer_then_the_timeline_gives_back_the_exact_original(
    mode: str,
) -> None:
    replay(
        [
            ("clock_forward", {"steps": DURING, "then_apply": False}),
            ("lose_every_answer", {"operation": "gmail.sendAs.patch"}),
            ("run", {"command": "apply"}),  # exit 1: the answer never came
            ("run", {"command": "apply"}),
            ("clock_forward", {"steps": 3, "then_apply": True}),  # after the window
        ],
        mode,
    )


@pytest.mark.usefixtures("no_backoff")
@pytest.mark.parametrize("operation", ["users.profile.set", "gmail.sendAs.patch"])
def test_item_2_lost_answer_then_first_run_after_the_window_gives_back(operation: str) -> None:
    replay(
        [
            ("clock_forward", {"steps": DURING, "then_apply": False}),
            ("lose_every_answer", {"operation": operation}),
            ("run", {"command": "apply"}),  # exit 1
            ("clock_forward", {"steps": 3, "then_apply": True}),  # the next run: after the window
        ]
    )


@pytest.mark.usefixtures("no_backoff")
@pytest.mark.parametrize("operation", LOSABLE_TODAY)
def test_every_answer_lost_on_calendar_and_note_writes_still_converges(operation: str) -> None:
    """The writes that survive a lost answer today, over the whole timeline."""
    steps: list[tuple[str, dict[str, object]]] = [
        ("lose_every_answer", {"operation": operation}),
        ("clock_forward", {"steps": 1, "then_apply": True}),
    ]
    steps += [("clock_forward", {"steps": 1, "then_apply": True})] * (len(INSTANTS) - 2)
    steps += [("heal", {}), ("run", {"command": "apply"})]
    replay(steps)
