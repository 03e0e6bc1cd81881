"""`doctor`: check everything a real run needs, one ✓/✗ line each with what to fix."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from aligner.cli.context import EXIT_FAILED, State, config_option, handled, pass_state
from aligner.core.doctor import Check

MARKS = {"ok": "✓", "fail": "✗", "warn": "!", "unknown": "?"}


@click.command(short_help="Check everything a real run needs.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@config_option
@pass_state
@handled
def doctor(state: State, as_json: bool, config_path: Path | None) -> None:
    """Check everything a real run needs; one line per check with what to fix."""
    from aligner.core.doctor import run_checks

    checks = run_checks(state.settings(config_path))
    failed = any(c.failed for c in checks)
    if as_json:
        body = {"ok": not failed, "checks": [c.to_json() for c in checks]}
        state.output.print(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        for check in checks:
            state.output.painted(check_line(check))
    if failed:
        sys.exit(EXIT_FAILED)


def check_line(check: Check) -> str:
    line = f"{MARKS[check.status]} {check.name}: {check.detail}"
    return f"{line} — {check.remedy}" if check.remedy else line
