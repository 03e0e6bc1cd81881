"""Reading the calendar's opaque block marks back in tests: which block id an event is.

An event carries only `block_token(theme id, block id)`, so a test finds the block id by
computing the token of each block id its themes use (THEMES × KNOWN_KEYS).
"""

from __future__ import annotations

from typing import Any

from aligner.surfaces.calendar.events import BLOCK_PROP, MARK_NAME, MARK_VALUE, block_token

THEMES = ("inference",)  # the theme id of tests/conftest.py's BASE_THEME
KNOWN_KEYS = (
    "data-refresh",
    "rehearsal",
    "mock",
    "open",
    "prep",
    "warm-up",
    "day-before",
    "elapsed",
    *(f"b{i:03}" for i in range(200)),
)
_BY_TOKEN = {block_token(t, k): k for t in THEMES for k in KNOWN_KEYS}


def key_of_token(token: str) -> str:
    """The block id behind an opaque token (AssertionError for a block id tests do not know)."""
    assert token in _BY_TOKEN, f"unknown block token {token}: add its block id to KNOWN_KEYS"
    return _BY_TOKEN[token]


def private(event: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = (event.get("extendedProperties") or {}).get("private") or {}
    return found


def google_block_key(event: dict[str, Any]) -> str | None:
    """The block id of a Google event aligner marked (None for any other event)."""
    props = private(event)
    if props.get(MARK_NAME) != MARK_VALUE or not props.get(BLOCK_PROP):
        return None
    return key_of_token(props[BLOCK_PROP])
