"""Nothing aligner keeps on a calendar names aligner, the theme or the company (issue 12 §3):
every private property of every event it creates, on Google and on Outlook, is neutral, even
when the theme id and the block ids contain the company's name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aligner.sandbox.server import Sandbox
from tests.conftest import AFTER, BASE_THEME, BEFORE, DURING, Aligner
from tests.surfaces.calendar.test_calendar_surface import NO_SLACK
from tests.surfaces.calendar_microsoft.conftest import outlook

COMPANY_THEME = (
    BASE_THEME.replace('id = "inference"', 'id = "acme-staff"').replace(
        'company = "Example Corp"', 'company = "Acme"'
    )
    + NO_SLACK
    + """
[[calendar.blocks]]
id = "acme-prep"
title = "Focus: pipeline review"
start = "-20h"
duration = "1h"

[[calendar.blocks]]
id = "acme-mock"
title = "Mock session"
start = "-3h"
duration = "1h"
"""
)
GOOGLE = '\n[calendar]\nenabled = true\nevent_type = "focusTime"\n'
OUTLOOK = '\n[calendar]\nenabled = true\nprovider = "microsoft"\n'
FORBIDDEN = ("aligner", "acme", "staff", "prep", "mock")  # the tool, the company, the ids


def company_theme(path: Path, calendar: str) -> Path:
    text = COMPANY_THEME.replace(NO_SLACK, NO_SLACK + calendar)
    path.write_text(text, encoding="utf-8")
    return path


def run_the_timeline(aligner: Aligner, inspect: Callable[[], None]) -> None:
    """Validate, then apply before, during and after the window and revert; `inspect` reads
    the calendar after every run."""
    assert aligner("validate").exit_code == 0
    for command, now in (("apply", BEFORE), ("apply", DURING), ("apply", AFTER), ("revert", AFTER)):
        result = aligner(command, now=now)
        assert result.exit_code == 0, result.output
        inspect()


def assert_neutral(texts: list[str], what: str) -> None:
    for text in texts:
        for word in FORBIDDEN:
            assert word not in text.lower(), f"{what}: {text!r} contains {word!r}"


@pytest.fixture
def google(env: dict[str, str], tmp_path: Path, sandbox: Sandbox) -> Aligner:
    return Aligner(env, company_theme(tmp_path / "theme.toml", GOOGLE), sandbox)


@pytest.fixture
def microsoft(env: dict[str, str], tmp_path: Path, sandbox: Sandbox) -> Aligner:
    return Aligner(env, company_theme(tmp_path / "theme.toml", OUTLOOK), sandbox)


def test_google_events_carry_no_word_of_the_tool_theme_or_company(
    google: Aligner, sandbox: Sandbox
) -> None:
    seen: set[str] = set()

    def inspect() -> None:
        for event in sandbox.service("calendar").events(deleted=True):
            if event.get("summary") == "Team standup":
                continue
            seen.add(event["id"])
            extended = event.get("extendedProperties") or {}
            private: dict[str, Any] = extended.get("private") or {}
            assert private and not extended.get("shared")
            assert_neutral([*private, *map(str, private.values())], f"event {event['id']}")
            assert_neutral([event["id"]], "event id")

    run_the_timeline(google, inspect)
    assert len(seen) == 2
    written = sandbox.requests("calendar", writes=True)
    assert written
    for request in written:
        body = request.body.decode()
        assert "aligner" not in body.lower() and "acme" not in body.lower(), request


def test_outlook_events_carry_no_word_of_the_tool_theme_or_company(
    microsoft: Aligner, sandbox: Sandbox
) -> None:
    seen: set[str] = set()

    def inspect() -> None:
        for event in outlook(sandbox).all_events():
            props = event.get("singleValueExtendedProperties") or []
            if not props:
                continue  # the person's own events
            seen.add(event["id"])
            texts = [str(p["id"]) for p in props] + [str(p["value"]) for p in props]
            assert_neutral([*texts, str(event.get("transactionId") or "")], f"event {event['id']}")

    run_the_timeline(microsoft, inspect)
    assert len(seen) == 2
    written = [r for r in sandbox.requests("graph", writes=True) if r.body]
    assert written
    for request in written:
        body = request.body.decode().lower()
        assert "aligner" not in body and "acme" not in body, request
