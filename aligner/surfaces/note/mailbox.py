"""What the note's delivery needs from a mailbox, whichever provider keeps it.

`delivery.NoteDelivery` keeps the exactly-once rules; a mailbox only makes the calls. Two
implement it: `gmail.NoteMailbox` (Gmail, gmail.compose) and `outlook.OutlookMailbox`
(Outlook through Microsoft Graph, Mail.ReadWrite and Mail.Send).

The mark: every draft the note makes carries a private mark that finds it again when an answer
was lost. The delivery makes a random token, asks the mailbox for the mark it stands for
(`mark`), saves it in the ledger, and only then creates the draft with it (`create`). What the
mark is depends on the provider (Gmail: an ordinary Message-ID header; Outlook: a private MAPI
property that never leaves the mailbox); it never names aligner.
"""

from __future__ import annotations

from typing import Protocol

from aligner.surfaces.note.message import NoteContent
from aligner.surfaces.note.refs import DraftRef, SentRef


class Mailbox(Protocol):
    vendor: str  # how texts name the provider: "Gmail", "Outlook"
    # Seconds a send whose answer was lost may still be in progress with the draft in Drafts
    # (0: the provider sends before it answers).
    settle: float

    def address(self) -> str:
        """The sender's address, or "" when the provider cannot tell it cheaply."""

    def mark(self, token: str, sender: str | None) -> str:
        """The mark a draft made from `token` carries (saved before the draft is created)."""

    def create(self, note: NoteContent, mark: str) -> DraftRef:
        """Create the draft, at most once (never re-sent, even after a lost answer)."""

    def draft(self, draft_id: str) -> DraftRef | None:
        """The draft as it is now, or None when it left Drafts (sent or deleted)."""

    def find(self, mark: str) -> DraftRef | None:
        """The draft carrying `mark`, if it is in Drafts."""

    def find_legacy(self, token: str, query: str) -> DraftRef | None:
        """A draft an older version marked differently (Gmail only)."""

    def sent(self, mark: str) -> SentRef | None:
        """The sent copy carrying `mark`, when the provider lets aligner see sent mail."""

    def send(self, draft_id: str) -> SentRef:
        """Send the draft, at most once."""

    def delete(self, draft_id: str) -> bool:
        """Delete the draft; False when it was already gone."""

    def close(self) -> None:
        """The run is over: close the connection its calls shared."""
