"""Each Google surface makes all the calls of a run over one kept-alive connection (issue 13:
"reuse one HTTP connection per vendor per run"); the sandbox counts the connections it accepts."""

from __future__ import annotations

from pathlib import Path

from aligner.sandbox.google.common import EMAIL
from aligner.sandbox.server import Sandbox
from tests.conftest import DURING, Aligner, write_theme
from tests.surfaces.note.note_helpers import DUE, aligner_drafts, calls, note_theme, sent
from tests.surfaces.test_lost_answers import signature_section


def test_the_signatures_apply_reads_and_writes_over_one_connection(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    signature = Aligner(env, write_theme(tmp_path / "t.toml", signature_section("append")), sandbox)
    result = signature("apply", now=DURING)
    assert result.exit_code == 0, result.output
    assert "Optimizing inference pipelines" in sandbox.service("gmail.settings").signature(EMAIL)
    operations = [r.operation for r in sandbox.requests("gmail.settings")]
    assert operations == ["gmail.sendAs.list", "gmail.sendAs.patch"]
    assert sandbox.accepted == 1


def test_the_notes_apply_finds_creates_and_sends_over_one_connection(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    note = Aligner(env, note_theme(tmp_path, "send"), sandbox)
    result = note("apply", now=DUE)
    assert result.exit_code == 0, result.output
    assert len(sent(sandbox)) == 1 and aligner_drafts(sandbox) == []
    assert calls(sandbox, "drafts.create") == calls(sandbox, "drafts.send") == 1
    assert len(sandbox.requests("gmail")) >= 3
    assert sandbox.accepted == 1


def test_a_draft_note_and_the_signature_use_one_connection_each(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    """Surfaces apply side by side, so each keeps its own connection (httplib2 is not
    thread-safe): two surfaces, two connections, however many calls."""
    theme = note_theme(tmp_path, "draft")
    theme.write_text(
        theme.read_text(encoding="utf-8").replace(
            "[signature]\nenabled = false", '[signature]\nenabled = true\nmode = "append"'
        ),
        encoding="utf-8",
    )
    both = Aligner(env, theme, sandbox)
    result = both("apply", now=DUE)
    assert result.exit_code == 0, result.output
    assert len(aligner_drafts(sandbox)) == 1
    assert sandbox.requests("gmail.settings", "gmail.sendAs.patch")
    assert sandbox.connections("gmail") == sandbox.connections("gmail.settings") == 1
    assert sandbox.accepted == 2
