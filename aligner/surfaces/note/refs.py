"""What Gmail calls a draft and a sent message, as the note keeps them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DraftRef:
    draft_id: str
    message_id: str
    thread_id: str


@dataclass(frozen=True)
class SentRef:
    message_id: str
    thread_id: str
