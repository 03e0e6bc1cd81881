"""What the note surface should do now (pure): deliver, finish, record, take back, or say why not.

Inputs: the note as the theme renders it now (None when [note] is off), what the mailbox
(Gmail or Outlook, `vendor` in the texts) showed (`read`), the delivery progress in the store,
and the time. Every case ends in Change records: writes for mailbox work (or for recording what
the mailbox turned out to have done), notices otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aligner.core.model import Action, Change, Json, Ownership, Payload
from aligner.render.text import local
from aligner.surfaces.base import DiffContext
from aligner.surfaces.note.delivery import CREATING, DELETED, DRAFTED, SENDING, SENT, is_delivered


def preview(note: Json, sender: str | None, vendor: str = "Gmail") -> list[str]:
    """The note in full, as `plan` shows it (Outlook takes one body: the HTML one)."""
    lines = [f"From: {sender}"] if sender else []
    lines.append("To: " + ", ".join(note["to"]))
    if note["cc"]:
        lines.append("Cc: " + ", ".join(note["cc"]))
    lines += [f"Subject: {note['subject']}", ""]
    lines += str(note["text"]).rstrip("\n").splitlines()
    if note.get("html"):
        how = "also as HTML" if vendor == "Gmail" else "as HTML"
        lines += ["", f"({how}, with the themed signature)"]
    return lines


def shown(draft_id: Json) -> str:
    """A draft id as texts show it: whole when short (Gmail's `r-…`), else its two ends (Outlook's
    ids are about 150 characters and change when the message moves)."""
    text = str(draft_id)
    return text if len(text) <= 40 else f"{text[:8]}…{text[-8:]}"


@dataclass(frozen=True)
class NoteStep(Payload):
    """When the plan decided this note write (the delivery records it as its `at`), and, when the
    state database had lost the note, the receipt's progress to take up again."""

    at: str
    adopt: Json = None


RESEND_HINT = "[note] resend = true or apply --force delivers it again"


def note_changes(
    surface: str,
    key: str,
    ctx: DiffContext,
    note: Json,
    current: Json,
    resend: bool,
    vendor: str = "Gmail",
) -> list[Change]:
    """The changes for the note of the interview under `key`, or for the earlier note of the same
    interview when its company or time was edited since (one note per interview: a typo fix in
    the company must not email the recruiter twice)."""
    prior, receipt = current.get("prior"), current.get("receipt")
    asked = ctx.force or resend
    if current["stage"] == "none" and prior and same_interview(prior, ctx.config, ctx.now):
        if is_delivered(prior["intent"]) and asked and note is not None and not ctx.revert:
            again = " (again, as asked: the interview's company or time changed since)"
            return NoteDiff(surface, key, ctx, note, current, vendor, again=again).changes()
        return NoteDiff(surface, str(prior["key"]), ctx, note, prior, vendor, moved=True).changes()
    if current["stage"] == "none" and receipt and same_interview(receipt, ctx.config, ctx.now):
        if ctx.revert or note is None:
            return []
        if receipt.get("draft") and not is_delivered(receipt["intent"]):
            # The draft an earlier run made is still in Drafts: take up where it stopped.
            adopt = {**receipt["intent"], "stage": CREATING}
            found = {"stage": CREATING, "intent": adopt, "draft": receipt["draft"]}
            return NoteDiff(surface, key, ctx, note, found, vendor, adopt=adopt).changes()
        if not asked:
            return [_receipt_notice(surface, key, ctx, receipt)]
        again = " (again, as asked: the state database had no record of the earlier one)"
        return NoteDiff(surface, key, ctx, note, current, vendor, again=again).changes()
    return NoteDiff(surface, key, ctx, note, current, vendor).changes()


def same_interview(earlier: Json, config: Any, now: datetime) -> bool:
    """An earlier note belongs to this interview when it was for the same start time (the company
    was edited), or when the interview it was for has not started yet (the time was edited)."""
    start = _earlier_start(earlier)
    if start is None:
        return True  # cannot tell: never risk a second email
    return start == config.schedule.interview_start or start > now


def _earlier_start(earlier: Json) -> datetime | None:
    return earlier_start(str(earlier["key"]), earlier["intent"])


def earlier_start(key: str, intent: Mapping[str, Json]) -> datetime | None:
    """The start of the interview an earlier note was for (None when it cannot be told)."""
    text = intent.get("interview_start")
    try:
        if text:
            return datetime.fromisoformat(str(text))
        stamp = key.rsplit("-", 1)[-1]  # older records: "<company>-<start>"
        return datetime.strptime(stamp, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _receipt_notice(surface: str, key: str, ctx: DiffContext, receipt: Json) -> Change:
    intent = receipt["intent"]
    stage = str(intent.get("stage"))
    when = next((intent[f] for f in ("sent_at", "drafted_at", "started_at") if intent.get(f)), None)
    at = local(_instant(when), ctx.config.zone) if when else "earlier"
    verb = {SENT: "sent", SENDING: "sent", DRAFTED: "drafted", DELETED: "drafted"}.get(
        stage, "started"
    )
    where = "; it is still in your Drafts" if receipt.get("draft") else ""
    summary = (
        f"the state database has no record of the note, but this machine's note receipt says it "
        f"was {verb} {at}{where}: not delivered again ({RESEND_HINT})"
    )
    return Change(
        surface, key, Action.NOTICE, None, summary, summary, writes=False, ownership="keep"
    )


@dataclass(frozen=True)
class NoteDiff:
    surface: str
    key: str
    ctx: DiffContext
    note: Json  # the rendered note, or None when [note] is disabled
    current: Json  # from read(): stage, intent, draft (and from, before delivery)
    vendor: str = "Gmail"  # the mailbox, as texts name it ("Gmail", "Outlook")
    moved: bool = False  # the note of this interview before its company or time was edited
    again: str = ""  # why a note is delivered although one went out before (asked for)
    adopt: Json = None  # progress from the receipt, to put back into the lost state database

    @property
    def intent(self) -> dict[str, Json]:
        return dict(self.current.get("intent") or {})

    @property
    def stage(self) -> str:
        return str(self.current["stage"])

    @property
    def draft(self) -> Json:
        return self.current.get("draft")

    def changes(self) -> list[Change]:
        elsewhere = self.current.get("elsewhere")
        if elsewhere:
            verb = "drafted" if is_delivered(self.intent) else "started"
            return [
                self._notice(
                    f"the note was {verb} in {elsewhere}, and [note] provider now names "
                    f"{self.vendor}: nothing is done in either (set the provider back to "
                    f"{elsewhere.lower()} to finish or take back the note)"
                )
            ]
        if self.ctx.revert or self.note is None:
            return self._take_back()
        if is_delivered(self.intent):
            return [self._delivered()]
        if self.stage == "none":
            return self._first()
        return self._in_flight()

    # -- before delivery -------------------------------------------------------------------------

    def _first(self) -> list[Change]:
        send_at = _instant(self.note["send_at"])
        if self._late:
            return [self._missed(f"due {self._local(send_at)} but never delivered")]
        if self.ctx.now < send_at:
            verb = f"drafted in {self.vendor}" if self._delivery == "draft" else "sent"
            return [
                self._notice(
                    f"will be {verb} at {self._local(send_at)}",
                    preview=tuple(preview(self.note, self._sender, self.vendor)),
                )
            ]
        return [self._deliver(self._delivery, self.again)]

    def _in_flight(self) -> list[Change]:
        draft, draft_id = self.draft, shown(self.intent.get("draft_id"))
        if self.stage == CREATING:
            if draft is None and self.intent.get("create_unconfirmed") and not self.ctx.force:
                return [
                    self._notice(
                        f"the last attempt to draft it lost {self.vendor}'s answer and no such "
                        "draft is in Drafts now: it may have been made and then sent or deleted, "
                        f"so it is not delivered again (check {self.vendor}; apply --force "
                        "delivers it anyway)"
                    )
                ]
            if draft is None:
                if self._late:
                    return [
                        self._missed(f"the earlier attempt to draft it did not reach {self.vendor}")
                    ]
                return [
                    self._deliver(self._delivery, " (again: the last attempt did not get through)")
                ]
            found = f"found the draft {shown(draft['id'])} the interrupted run made"
            if self._delivery == "draft":
                return [self._record(f"{found}; recording it", "active")]
            if self._late:
                return [self._record(f"{found}; recording it, not sending: too late", "active")]
            return [self._deliver("send", f" ({found})")]
        if draft is None and self.stage == SENDING:
            return [
                self._record(
                    f"the send of draft {draft_id} went through though its answer was lost; "
                    "recording it as sent",
                    "released",
                )
            ]
        if draft is None:
            return [
                self._notice(
                    f"the draft {draft_id} aligner made is no longer in Drafts "
                    "(sent or deleted by you); not sending it",
                    ownership="released",
                )
            ]
        if self._late:
            return [self._missed(f"the draft {draft_id} was not sent; it is in your Drafts")]
        return [self._deliver("send", f" (the draft {draft_id} made earlier)")]

    # -- after delivery --------------------------------------------------------------------------

    def _delivered(self) -> Change:
        intent, ownership = self.intent, "keep"
        draft_id = shown(intent.get("draft_id"))
        drafted = f"{self._when('drafted_at')} ({self.vendor} draft {draft_id})"
        if self.stage == SENT:
            summary = f"already sent {self._when('sent_at')} ({self._sent_copy})"
        elif self.stage == DELETED:
            summary = f"already drafted {drafted}, then deleted by revert; not delivered again"
        elif self.draft is None:
            summary = (
                f"already drafted {drafted}; it has left Drafts (sent or deleted by you) "
                "and is not re-created"
            )
            ownership = "released"
        elif self.draft["message_id"] != intent.get("message_id"):
            summary = f"already drafted {drafted}, since edited by you; it is in your Drafts"
        else:
            summary = f"already drafted {drafted}; it is waiting in your Drafts"
        if self.moved:
            summary += (
                "; the interview's company or start time changed since, and it is the same "
                f"interview: not delivered again ({RESEND_HINT})"
            )
        elif self.note.get("content") != intent.get("content"):
            summary += "; the note in the theme file changed since and is not delivered again"
        return self._notice(summary, ownership=ownership)  # type: ignore[arg-type]

    # -- revert ----------------------------------------------------------------------------------

    def _take_back(self) -> list[Change]:
        draft, draft_id = self.draft, shown(self.intent.get("draft_id"))
        if self.stage == "none" and self.note is not None:
            return [
                self._notice("not delivered while aligner is reverted (edit the theme to resume)")
            ]
        if self.stage in ("none", DELETED):
            return []
        if self.stage == SENT or (self.stage == SENDING and draft is None):
            when = self._when("sent_at") if self.stage == SENT else "already"
            return [
                self._notice(
                    f"the note was sent {when}: a sent email cannot be unsent",
                    ownership="released",
                )
            ]
        if draft is None:
            gone = (
                f"the earlier attempt to draft it did not reach {self.vendor}"
                if self.stage == CREATING
                else f"the draft {draft_id} is no longer in Drafts (sent or deleted by you)"
            )
            return [self._notice(f"{gone}; nothing to take back", ownership="released")]
        if self.stage in (DRAFTED, SENDING) and draft["message_id"] != self.intent.get(
            "message_id"
        ):
            return [
                Change(
                    self.surface,
                    self.key,
                    Action.CONFLICT,
                    self.intent.get("message_id"),
                    draft["message_id"],
                    f"the draft {draft_id} was edited by hand since aligner made it; "
                    "leaving it in Drafts",
                    writes=False,
                    ownership="released",
                )
            ]
        return [
            Change(
                self.surface,
                self.key,
                Action.DELETE,
                {"draft_id": draft["id"]},
                None,
                f"delete the unsent draft {shown(draft['id'])} aligner made",
                ownership="restored",
                payload=NoteStep(self.ctx.now.isoformat()),
            )
        ]

    # -- building blocks -------------------------------------------------------------------------

    @property
    def _late(self) -> bool:
        return self.ctx.now >= _instant(self.note["deadline"])

    @property
    def _sent_copy(self) -> str:
        """Where the sent note is, as far as aligner knows."""
        if self.vendor != "Gmail":  # Graph's send answers nothing; the copy is in Sent Items
            return f"in your {self.vendor} Sent Items"
        sent_id = self.intent.get("sent_id") or "id unknown: the answer was lost"
        return f"Gmail message {sent_id}"

    @property
    def _delivery(self) -> str:
        return str(self.intent.get("delivery") or self.note["delivery"])

    @property
    def _sender(self) -> str | None:
        sender = self.current.get("from")
        return str(sender) if sender else None

    def _deliver(self, delivery: str, why: str) -> Change:
        """`delivery`: "draft" makes the draft; "send" sends it (making it first if need be)."""
        action = Action.DRAFT if delivery == "draft" else Action.SEND
        note = {**self.note, "delivery": self._delivery, "from": self._sender}
        to = ", ".join(note["to"])
        if action is Action.DRAFT:
            summary = (
                f"draft to {to}: “{note['subject']}” (waits in {self.vendor} Drafts for you){why}"
            )
        else:
            summary = f"send to {to}: “{note['subject']}”{why}"
        return Change(
            self.surface,
            self.key,
            action,
            None,
            note,
            summary,
            ownership="active" if action is Action.DRAFT else "released",
            payload=NoteStep(self.ctx.now.isoformat(), self.adopt),
            preview=tuple(preview(note, self._sender, self.vendor)),
        )

    def _record(self, summary: str, ownership: Ownership) -> Change:
        note = {**self.note, "delivery": self._delivery}
        return Change(
            self.surface,
            self.key,
            Action.RECORD,
            None,
            note,
            summary,
            ownership=ownership,
            payload=NoteStep(self.ctx.now.isoformat(), self.adopt),
        )

    def _missed(self, why: str) -> Change:
        return self._notice(f"missed: {why} before the interview started; not delivering it now")

    def _notice(
        self, summary: str, *, ownership: Ownership = "keep", preview: tuple[str, ...] = ()
    ) -> Change:
        return Change(
            self.surface,
            self.key,
            Action.NOTICE,
            None,
            summary,  # distinct notices must differ here: the journal skips a repeated one
            summary,
            writes=False,
            ownership=ownership,
            preview=preview,
        )

    def _when(self, field: str) -> str:
        value = self.intent.get(field)
        return self._local(_instant(value)) if value else "earlier"

    def _local(self, moment: datetime) -> str:
        return local(moment, self.ctx.config.zone)


def _instant(text: Json) -> datetime:
    return datetime.fromisoformat(str(text))
