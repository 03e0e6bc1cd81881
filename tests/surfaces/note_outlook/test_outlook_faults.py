"""Random faults on every Outlook mail call across the note's timeline (a seeded generator, so a
failure repeats): whatever fails, the note reaches the recruiter at most once, and once the faults
stop before the interview it reaches them exactly once."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from aligner.sandbox.seed import SANDBOX_ENV, seeded_sandbox
from tests.conftest import Aligner
from tests.surfaces.note_outlook.helpers import delivered, note_drafts, outlook_theme

OPERATIONS = ("messages.create", "messages.send", "messages.get", "messages.list")
FAULTS = (
    {"kind": "drop"},
    {"kind": "status", "status": 429, "retry_after": 0},
    {"kind": "status", "status": 503, "retry_after": 0},
    {"kind": "status", "status": 500},
)
# Every 20 minutes from send_at (02:00Z) until the interview (18:00Z); the last runs fault-free.
RUNS = [f"2026-12-03T{hour:02d}:{minute:02d}:00Z" for hour in range(2, 6) for minute in (5, 25, 45)]


@pytest.mark.parametrize("delivery", ["draft", "send"])
@pytest.mark.parametrize("seed", range(4))
def test_random_faults_never_deliver_twice(
    tmp_path: Path, seed: int, delivery: str, state_dir: Path
) -> None:
    rng = random.Random(f"outlook-note-{seed}-{delivery}")
    with seeded_sandbox() as box:
        env = {**SANDBOX_ENV(box.url), "ALIGNER_STATE_DIR": str(state_dir)}
        aligner = Aligner(env, outlook_theme(tmp_path, delivery), box)
        for index, now in enumerate(RUNS):
            box.faults.clear()
            if index < len(RUNS) - 3:
                for _ in range(rng.randint(0, 3)):
                    box.inject(rng.choice(OPERATIONS), **rng.choice(FAULTS))
            result = aligner("apply", now=now)
            assert "Traceback" not in result.output, result.output
            assert len(delivered(box)) + len(note_drafts(box)) <= 1, (now, result.output)
        if delivery == "send":
            assert len(delivered(box)) == 1 and note_drafts(box) == []
        else:
            assert len(note_drafts(box)) == 1 and delivered(box) == []
