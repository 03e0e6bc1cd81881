"""Delivering the note exactly once, across retries, crashes, concurrent runs and lost answers.

The note's progress lives in the ledger (the store's extras for the note's item). Each stage is
saved — and committed — before the Gmail call it announces, so whatever happens to that call, the
next attempt knows what may have happened and asks Gmail before doing anything again:

    creating  a draft whose Message-ID is M (`<random@sender-domain>`, an ordinary header that
              names nothing) is about to be created
              -> later: look for the draft with M (drafts.list q=rfc822msgid:M, confirmed with
                 drafts.get) before creating one;
                 if the create's answer was lost and no such draft is found, it may have been
                 made and then sent or deleted by the person: never created again (but --force)
                 (a create that Gmail refused with an error goes back to the start)
    drafted   draft D exists; for delivery "draft" the note is delivered
    sending   drafts.send(D) is about to be called
              -> later: D no longer exists = it was sent; D still there = it was not
                 (Outlook: Graph's send answers 202 and sends afterwards, so within
                 `mailbox.settle` seconds of a send whose answer was lost, D still there may be
                 a send in progress: nothing is sent until that time has passed)
    sent      done (with the sent message's Gmail id, when the answer arrived)
    deleted   `revert` deleted the unsent draft

Creates and sends are never retried blindly, and a run-local lock file serialises attempts even
without the run lock; under it the ledger is re-read, so a second run sees the first one's work.

The store is not the only memory. Each stage is also written to a small receipt file next to the
state database (`note-receipts.json`: the interview's start, the stage, the time, the Message-ID;
no text of the note). When the state database is lost, the receipt still says the note went out
and it is not delivered again. Gmail itself is asked what gmail.compose lets aligner ask: whether
the draft is still in Drafts. A sent message cannot be seen with gmail.compose (messages.list and
messages.get need a read scope), so if both the state database and the receipt are lost, aligner
cannot tell a sent note from one never made.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from aligner.core.model import Json
from aligner.errors import LockTimeout, PermanentError, SurfaceError, TransientError
from aligner.state.lock import exclusive
from aligner.surfaces.base import Ledger
from aligner.surfaces.note.message import NoteContent, new_token
from aligner.surfaces.note.refs import DraftRef

if TYPE_CHECKING:
    from aligner.surfaces.note.mailbox import Mailbox

CREATING, DRAFTED, SENDING, SENT, DELETED = "creating", "drafted", "sending", "sent", "deleted"


@dataclass(frozen=True)
class Attempt:
    key: str
    note: NoteContent
    delivery: str  # "draft" | "send"
    interview: str  # which interview the note is for (company and start), see surface.note_key
    interview_start: str  # ISO
    content: str  # fingerprint of the note as rendered now
    at: str  # ISO time of this run
    may_start: bool  # False once the interview started: only confirm what Gmail already has


def intent_of(ledger: Ledger, key: str) -> dict[str, Json]:
    record = ledger.record(key)
    return dict(record.extra) if record else {}


def mailbox_of(intent: Mapping[str, Json]) -> str:
    """Which mailbox the note was started in ("Gmail" when the intent does not say: every note
    before the Outlook provider)."""
    return str(intent.get("mailbox") or "Gmail")


def is_delivered(intent: Mapping[str, Json]) -> bool:
    stage = intent.get("stage")
    return stage in (SENT, DELETED) or (stage == DRAFTED and intent.get("delivery") == "draft")


def outcome(intent: Mapping[str, Json]) -> dict[str, Json]:
    fields = ("stage", "delivery", "draft_id", "message_id", "sent_id")
    return {k: intent[k] for k in fields if intent.get(k) is not None}


class NoteDelivery:
    def __init__(
        self, mailbox: Mailbox, lock_path: Path, lock_wait: float, receipts: Receipts
    ) -> None:
        self.mailbox = mailbox
        self.lock_path = lock_path
        self.lock_wait = lock_wait
        self.receipts = receipts

    def find(self, intent: Mapping[str, Json]) -> DraftRef | None:
        """The draft an interrupted create made, if it is in Drafts."""
        if intent.get("msgid"):
            return self.mailbox.find(str(intent["msgid"]))
        return self.mailbox.find_legacy(str(intent["token"]), str(intent.get("search") or ""))

    def deliver(
        self, attempt: Attempt, ledger: Ledger, adopt: Mapping[str, Json] | None = None
    ) -> dict[str, Json]:
        """`adopt`: the receipt's progress when the state database lost it; it is saved back as
        "creating" with its Message-ID, so the draft it made is looked for before anything else."""
        with self._serialised():
            intent = intent_of(ledger, attempt.key)
            if intent.get("stage") is None and adopt and adopt.get("msgid"):
                kept = {k: adopt[k] for k in RECEIPT_FIELDS if adopt.get(k) is not None}
                intent = self._save(ledger, attempt.key, **{**kept, "stage": CREATING})
            if is_delivered(intent):
                return outcome(intent)  # another run finished it meanwhile
            self._same_mailbox(intent)
            stage = intent.get("stage")
            if stage is None:
                if not attempt.may_start:
                    return outcome(intent)
                intent = self._announce_creating(attempt, ledger)
                intent = self._create(attempt, ledger, intent, fresh=True)
            elif stage == CREATING:
                intent = self._create(attempt, ledger, intent, fresh=False)
            if intent.get("stage") == DRAFTED and intent.get("delivery") == "send":
                if not attempt.may_start:
                    return outcome(intent)
                intent = self._save(ledger, attempt.key, stage=SENDING, send_started_at=attempt.at)
                intent = self._send(attempt, ledger, intent, fresh=True)
            elif intent.get("stage") == SENDING:
                intent = self._send(attempt, ledger, intent, fresh=False)
            return outcome(intent)

    def take_back(self, key: str, at: str, ledger: Ledger) -> dict[str, Json]:
        """Delete the draft if it is still the unsent, unedited draft aligner made."""
        with self._serialised():
            intent = intent_of(ledger, key)
            stage = intent.get("stage")
            if stage in (CREATING, DRAFTED, SENDING):
                self._same_mailbox(intent)
            if stage == CREATING:
                found = self.find(intent)
                if found is None:
                    return outcome(intent)
                intent = self._save(ledger, key, **_drafted(found, str(intent["started_at"])))
            elif stage not in (DRAFTED, SENDING):
                return outcome(intent)
            now = self.mailbox.draft(str(intent["draft_id"]))
            if now is None:
                if stage == SENDING:
                    intent = self._save(ledger, key, **self._lost_send(intent))
                return outcome(intent)
            if now.message_id != intent.get("message_id"):
                raise PermanentError(
                    "the draft was edited by hand since aligner made it; leaving it in Drafts",
                    "note",
                )
            self.mailbox.delete(now.draft_id)
            return outcome(self._save(ledger, key, stage=DELETED, deleted_at=at))

    def _same_mailbox(self, intent: Mapping[str, Json]) -> None:
        """A note started in one mailbox is never finished or taken back in another (its draft
        and mark exist only there)."""
        if intent.get("stage") is not None and mailbox_of(intent) != self.mailbox.vendor:
            raise PermanentError(
                f"the note was started in {mailbox_of(intent)}, and [note] provider now names "
                f"{self.mailbox.vendor}: set it back to finish or take back the note",
                "note",
            )

    def _save(self, ledger: Ledger, key: str, **fields: Json) -> dict[str, Json]:
        intent = _save(ledger, key, **fields)
        self.receipts.write(key, intent)
        return intent

    @contextmanager
    def _serialised(self) -> Iterator[None]:
        """One delivery attempt at a time, even for runs that skip the run lock."""
        try:
            with exclusive(self.lock_path, self.lock_wait):
                yield
        except LockTimeout as exc:
            raise TransientError(f"another run is delivering the note ({exc})", "note") from None

    # -- steps -----------------------------------------------------------------------------------

    def _announce_creating(self, attempt: Attempt, ledger: Ledger) -> dict[str, Json]:
        token = new_token()
        where: dict[str, Json] = {}  # absent: Gmail (as in every older intent)
        if self.mailbox.vendor != "Gmail" or intent_of(ledger, attempt.key).get("mailbox"):
            where["mailbox"] = None if self.mailbox.vendor == "Gmail" else self.mailbox.vendor
        return self._save(
            ledger,
            attempt.key,
            **where,
            stage=CREATING,
            token=token,
            msgid=self.mailbox.mark(token, attempt.note.sender),
            interview=attempt.interview,
            interview_start=attempt.interview_start,
            delivery=attempt.delivery,
            to=list(attempt.note.to),
            subject=attempt.note.subject,
            content=attempt.content,
            started_at=attempt.at,
        )

    def _create(
        self, attempt: Attempt, ledger: Ledger, intent: dict[str, Json], *, fresh: bool
    ) -> dict[str, Json]:
        token = str(intent["token"])
        found = None if fresh else self.find(intent)
        if found is not None:
            return self._save(ledger, attempt.key, **_drafted(found, str(intent["started_at"])))
        if not attempt.may_start:
            return intent
        note = attempt.note
        if not intent.get("msgid"):  # an intent an older version saved: from now on, a Message-ID
            intent = self._save(ledger, attempt.key, msgid=self.mailbox.mark(token, note.sender))
        try:
            created = self.mailbox.create(note, str(intent["msgid"]))
        except SurfaceError as exc:
            if exc.answered:  # Gmail refused it: no draft exists, starting over is safe
                self._save(ledger, attempt.key, stage=None)
            else:  # lost on the way back: it may exist, and may leave Drafts before we look
                self._save(ledger, attempt.key, create_unconfirmed=True)
            raise
        return self._save(ledger, attempt.key, **_drafted(created, attempt.at))

    def _send(
        self, attempt: Attempt, ledger: Ledger, intent: dict[str, Json], *, fresh: bool
    ) -> dict[str, Json]:
        draft_id = str(intent["draft_id"])
        if not fresh and self.mailbox.draft(draft_id) is None:
            # Sent by the attempt whose answer was lost: a sent draft no longer exists.
            return self._save(ledger, attempt.key, **self._lost_send(intent))
        if not attempt.may_start:
            return intent
        if self.mailbox.settle > 0:  # a provider that sends after answering (Outlook)
            intent = self._settled(attempt, ledger, intent, fresh=fresh)
        try:
            sent = self.mailbox.send(draft_id)
        except SurfaceError as exc:
            if exc.answered and self.mailbox.settle > 0:  # refused: nothing is being sent
                self._save(ledger, attempt.key, send_refused=True)
            raise
        return self._save(
            ledger,
            attempt.key,
            stage=SENT,
            sent_id=sent.message_id,
            thread_id=sent.thread_id,
            sent_at=attempt.at,
        )

    def _settled(
        self, attempt: Attempt, ledger: Ledger, intent: dict[str, Json], *, fresh: bool
    ) -> dict[str, Json]:
        """Before sending a draft again whose last send lost its answer: the provider may have
        accepted that send and still be sending it (the draft leaves Drafts only then), so within
        `mailbox.settle` seconds of that send nothing is sent; the next run looks again. A send
        the provider refused with an answer is sent again at once."""
        if fresh:
            return intent
        started = intent.get("send_started_at")
        if started and not intent.get("send_refused"):
            waited = (_instant(attempt.at) - _instant(started)).total_seconds()
            if waited < self.mailbox.settle:
                raise TransientError(
                    f"the last attempt to send the note got no answer from "
                    f"{self.mailbox.vendor} {max(0, int(waited))} s ago and it may still be "
                    "sending it (its send is asynchronous): not sending it again now; the next "
                    "run looks again",
                    "note",
                )
        return self._save(ledger, attempt.key, send_started_at=attempt.at, send_refused=None)

    def _lost_send(self, intent: Mapping[str, Json]) -> dict[str, Json]:
        """What to record for a send whose answer was lost and whose draft is gone: sent, with
        the sent copy's id when the provider shows sent mail (Outlook's Sent Items)."""
        found = self.mailbox.sent(str(intent["msgid"])) if intent.get("msgid") else None
        fields: dict[str, Json] = {"stage": SENT, "sent_at": intent["send_started_at"]}
        if found is not None:
            fields.update(sent_id=found.message_id, thread_id=found.thread_id)
        return fields


def _instant(text: Json) -> datetime:
    return datetime.fromisoformat(str(text))


def _drafted(ref: DraftRef, at: str) -> dict[str, Json]:
    return {
        "stage": DRAFTED,
        "draft_id": ref.draft_id,
        "message_id": ref.message_id,
        "thread_id": ref.thread_id,
        "drafted_at": at,
    }


def _save(ledger: Ledger, key: str, **fields: Json) -> dict[str, Json]:
    """Record progress durably (committed before this returns) and give the merged intent."""
    ledger.save_extra(key, fields)
    return intent_of(ledger, key)


class Receipts:
    """The second memory: one small JSON file next to the state database, one entry per note
    (keyed by the store key), holding only what is needed to know the note went out: the
    interview it was for, the stage, when, and its Message-ID and Gmail ids. Written atomically
    after each stage the store records; a file that cannot be read counts as empty."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def all(self) -> dict[str, dict[str, Json]]:
        try:
            found = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(found, dict):
            return {}
        return {str(k): dict(v) for k, v in found.items() if isinstance(v, dict)}

    def write(self, key: str, intent: Mapping[str, Json]) -> None:
        kept = {k: intent[k] for k in RECEIPT_FIELDS if intent.get(k) is not None}
        entries = self.all()
        entries[key] = kept
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                json.dump(entries, out, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except OSError:
            temporary.unlink(
                missing_ok=True
            )  # the store stays the first memory; never fail on this


RECEIPT_FIELDS = (
    "stage",
    "mailbox",
    "token",
    "delivery",
    "interview",
    "interview_start",
    "msgid",
    "draft_id",
    "thread_id",
    "sent_id",
    "started_at",
    "drafted_at",
    "sent_at",
    "deleted_at",
)
