"""Shared pieces of the Outlook note tests: the note theme with provider "outlook", and views of
the sandbox's Outlook mailbox (drafts, Sent Items, what recipients received, calls)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aligner.sandbox.microsoft.mail import OutlookMailService, StoredMail
from aligner.sandbox.server import Sandbox
from tests.conftest import write_theme
from tests.surfaces.note.note_helpers import note_section

PERSONS_OWN = "friend@example.org"  # the seeded mailbox holds one draft of the person's own
RECRUITER = "recruiter@example.com"


def outlook_section(delivery: str = "draft", **options: Any) -> str:
    section = note_section(delivery, **options)
    assert "[note]\n" in section
    return section.replace("[note]\n", '[note]\nprovider = "outlook"\n', 1)


def outlook_theme(tmp_path: Path, delivery: str = "draft", **options: Any) -> Path:
    return write_theme(tmp_path / "theme.toml", outlook_section(delivery, **options))


def outlook(sandbox: Sandbox) -> OutlookMailService:
    return next(s for s in sandbox.services if isinstance(s, OutlookMailService))


def _addresses(message: StoredMail) -> list[str]:
    return [r["emailAddress"]["address"] for r in message.fields["toRecipients"]]


def note_drafts(sandbox: Sandbox) -> list[StoredMail]:
    """Drafts aligner made (told apart from the person's own by the recipient: the message
    carries no visible mark of aligner, on purpose)."""
    return [m for m in outlook(sandbox).drafts() if PERSONS_OWN not in _addresses(m)]


def sent_items(sandbox: Sandbox) -> list[StoredMail]:
    return outlook(sandbox).sent()


def delivered(sandbox: Sandbox) -> list[dict[str, Any]]:
    return outlook(sandbox).delivered


def calls(sandbox: Sandbox, operation: str) -> int:
    return len(sandbox.requests("graph", f"messages.{operation}"))


def statuses(sandbox: Sandbox, operation: str) -> list[int]:
    return [r.status for r in sandbox.requests("graph", f"messages.{operation}")]


def mail_writes(sandbox: Sandbox) -> int:
    return len(
        [r for r in sandbox.requests("graph", writes=True) if r.operation.startswith("messages.")]
    )


def mail_requests(sandbox: Sandbox) -> int:
    return len([r for r in sandbox.requests("graph") if r.operation.startswith("messages.")])
