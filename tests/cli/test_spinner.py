"""The waiting spinner: on a terminal only; never in a pipe, under --quiet or under --json."""

from __future__ import annotations

import io
import threading

import pytest

from aligner.cli.spinner import waiting, wanted
from tests.conftest import DURING, Aligner


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_it_spins_on_a_terminal_and_cleans_its_line_after() -> None:
    stream = Terminal()
    shown = threading.Event()
    original = stream.write

    def write(text: str) -> int:
        if "waiting for" in text:
            shown.set()
        return original(text)

    stream.write = write  # type: ignore[method-assign]
    with waiting("Slack status", stream=stream, delay=0):
        assert shown.wait(5)
    assert "waiting for Slack status…" in stream.getvalue()
    assert stream.getvalue().endswith("\r\x1b[K")


@pytest.mark.parametrize(
    ("stream", "quiet", "as_json"),
    [(io.StringIO(), False, False), (Terminal(), True, False), (Terminal(), False, True)],
    ids=["not a terminal", "--quiet", "--json"],
)
def test_never_in_a_pipe_under_quiet_or_json(
    stream: io.StringIO, quiet: bool, as_json: bool
) -> None:
    assert not wanted(stream, quiet=quiet, as_json=as_json)
    with waiting("Slack status", stream=stream, quiet=quiet, as_json=as_json, delay=0):
        pass
    assert stream.getvalue() == ""


def test_a_piped_apply_has_no_spinner_on_stderr(aligner: Aligner) -> None:
    result = aligner("apply", now=DURING)
    assert result.exit_code == 0, result.output
    assert "waiting for" not in result.stderr and "\r" not in result.stderr
