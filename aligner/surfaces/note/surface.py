"""The pre-interview note: a short email that names a result, drafted or sent exactly once.

At `[note] send_at` (or the first run after it), while the interview has not started, the note
goes to the mailbox of `[note] provider` (Gmail, or Outlook through Microsoft Graph): as a draft
(delivery "draft") or as a draft that is then sent ("send"). Once delivered it is never
delivered again, whatever the theme file says later. After the interview started, a note that
never went is reported as missed. `revert` deletes the draft when it is still the unsent,
unedited draft aligner made; a sent email cannot be unsent.

How exactly-once is kept is in `delivery` (the same rules for both providers); the message itself
in `message`; the Gmail calls (gmail.compose only) in `gmail`, the Outlook calls (Mail.ReadWrite,
and Mail.Send when the note is sent) in `outlook`; what the delivery needs of either in `mailbox`
(all in this package).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aligner.core.doctor import Check, ok
from aligner.core.model import Action, Change, Json, Record
from aligner.errors import ConfigError, PermanentError
from aligner.render.text import local
from aligner.state.settings import Settings
from aligner.surfaces.base import (
    EMAIL_SIGNATURE,
    DiffContext,
    EmailSignature,
    Finding,
    Ledger,
    Surface,
)
from aligner.surfaces.note.delivery import (
    CREATING,
    DELETED,
    DRAFTED,
    SENDING,
    SENT,
    Attempt,
    NoteDelivery,
    Receipts,
    is_delivered,
    mailbox_of,
)
from aligner.surfaces.note.diff import NoteStep, earlier_start, note_changes, shown
from aligner.surfaces.note.message import (
    GMAIL_SIGNATURE,
    OUTLOOK_SIGNATURE,
    NoteContent,
    address_problem,
    html_body,
    one_line,
    with_signature_text,
)
from aligner.surfaces.note.refs import DraftRef
from aligner.surfaces.note.section import NoteSection
from aligner.theme.schema import ThemeConfig, slugify
from aligner.theme.templates import referenced_metrics, render
from aligner.vendors.google.account import GOOGLE
from aligner.vendors.google.scopes import GMAIL_COMPOSE
from aligner.vendors.google.settings import GoogleSettings
from aligner.vendors.microsoft.account import MICROSOFT
from aligner.vendors.microsoft.scopes import MAIL_READ_WRITE, MAIL_SEND
from aligner.vendors.microsoft.settings import MicrosoftSettings

if TYPE_CHECKING:
    from aligner.sandbox.seed import SandboxSeed
    from aligner.surfaces.base import Account
    from aligner.surfaces.note.mailbox import Mailbox

GENERIC = "a generic note is the mistake this step exists to avoid"


NAME = "note"  # the surface, and its theme-file section


def note_section(config: ThemeConfig) -> NoteSection:
    return config.section(NAME, NoteSection)


VENDORS = {"gmail": "Gmail", "outlook": "Outlook"}  # how texts name each provider's mailbox
SIGNATURE_OPENINGS = {"gmail": GMAIL_SIGNATURE, "outlook": OUTLOOK_SIGNATURE}


def vendor(config: ThemeConfig) -> str:
    return VENDORS[note_section(config).provider]


def note_key(config: ThemeConfig) -> str:
    """The store key of the note for the interview as the theme describes it now (company and
    start time; the same format since the first version, so old state databases keep working).
    Renaming the theme or its id never delivers the note again; nor does changing the company or
    the time of an interview whose note already went out: see `diff.same_interview`."""
    start = config.schedule.interview_start
    return f"{slugify(config.interview.company or 'interview')}-{start:%Y%m%dT%H%MZ}"


def rendered_note(config: ThemeConfig) -> dict[str, Json]:
    """The note as it would go now: rendered subject, text and (with the signature) HTML."""
    note = note_section(config)
    subject = one_line(render(config, "note.subject", note.subject))
    body = render(config, "note.body", note.body)
    html: str | None = None
    signature = _signature(config) if note.include_signature else None
    if signature is not None:
        text = with_signature_text(body, signature.text)
        html = html_body(body, signature.html, SIGNATURE_OPENINGS[note.provider])
    else:
        text = with_signature_text(body, "")
    content = {"to": list(note.to), "cc": list(note.cc), "subject": subject, "text": text}
    return {
        "delivery": note.delivery,
        **content,
        "html": html,
        "send_at": config.instant(note.send_at, "note.send_at").isoformat(),
        "deadline": config.schedule.interview_start.isoformat(),
        "content": hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16],
    }


def _signature(config: ThemeConfig) -> EmailSignature | None:
    """The themed signature another surface provides, if one does (through the registry)."""
    from aligner.surfaces import provided

    found = provided(config, EMAIL_SIGNATURE)
    return found if isinstance(found, EmailSignature) else None


def content_of(note: Mapping[str, Json], sender: str | None) -> NoteContent:
    return NoteContent(
        tuple(note["to"]),
        tuple(note["cc"]),
        str(note["subject"]),
        str(note["text"]),
        note.get("html"),
        sender,
    )


class InterviewNote(Surface):
    name = NAME
    title = "Pre-interview note"
    section = NoteSection
    accounts = (GOOGLE, MICROSOFT)
    scopes = (GMAIL_COMPOSE,)  # with provider "gmail"; see needed_scopes

    def __init__(self, mailbox: Mailbox, delivery: NoteDelivery) -> None:
        self.mailbox = mailbox
        self.delivery = delivery

    # -- pure ------------------------------------------------------------------------------

    @classmethod
    def account(cls, config: ThemeConfig) -> Account:
        return MICROSOFT if note_section(config).provider == "outlook" else GOOGLE

    @classmethod
    def enabling(cls, account: Account) -> str:
        return '[note] provider = "outlook"' if account is MICROSOFT else super().enabling(account)

    @classmethod
    def needed_scopes(cls, config: ThemeConfig) -> tuple[str, ...]:
        """Gmail: gmail.compose. Outlook: Mail.ReadWrite to draft and find the draft again, and
        Mail.Send only when the note is sent
        (https://learn.microsoft.com/en-us/graph/api/user-post-messages,
        https://learn.microsoft.com/en-us/graph/api/message-send)."""
        note = note_section(config)
        if note.provider != "outlook":
            return cls.scopes
        return (MAIL_READ_WRITE, MAIL_SEND) if note.delivery == "send" else (MAIL_READ_WRITE,)

    @classmethod
    def check(cls, config: ThemeConfig) -> list[Finding]:
        note = note_section(config)
        findings = _address_findings("note.to", note.to)
        findings += _address_findings("note.cc", note.cc)
        if not note.to:
            findings.append(Finding("note.to", "needs at least one recipient address"))
        try:
            send_at = config.instant(note.send_at, "note.send_at")
            if send_at >= config.schedule.interview_start:
                findings.append(
                    Finding(
                        "note.send_at",
                        "is not before interview.starts_at, so the note would never go out",
                    )
                )
            rendered = rendered_note(config)
        except ConfigError as exc:
            return findings + [Finding.from_problem(p) for p in exc.problems]
        if not rendered["subject"]:
            findings.append(Finding("note.subject", "renders empty"))
        if not referenced_metrics(config, note.body):
            findings.append(Finding("note.body", _no_metric_message(config)))
        return findings

    @classmethod
    def desired(cls, config: ThemeConfig, now: datetime) -> dict[str, Json]:
        if not note_section(config).enabled:
            return {note_key(config): None}
        return {note_key(config): rendered_note(config)}

    @classmethod
    def idle(
        cls,
        config: ThemeConfig,
        now: datetime,
        records: Mapping[str, Record],
        *,
        giving_back: bool = False,
    ) -> bool:
        """Nothing is due before `send_at` or after the window (a note never delivered is
        reported missed until then); a delivery in flight is always finished."""
        record = records.get(note_key(config))
        intent = dict(record.extra) if record is not None else {}
        stage = intent.get("stage")
        if stage in (CREATING, SENDING):
            return False
        if giving_back:
            return not (record is not None and record.active)
        if now >= config.schedule.window_end:
            return True
        if stage is not None:
            return False
        try:
            return now < config.instant(note_section(config).send_at, "note.send_at")
        except ConfigError:
            return False

    @classmethod
    def transitions(cls, config: ThemeConfig) -> list[tuple[datetime, str]]:
        try:
            send_at = config.instant(note_section(config).send_at, "note.send_at")
        except ConfigError:
            return []
        draft = note_section(config).delivery == "draft"
        verb = f"drafted in {vendor(config)}" if draft else "sent"
        return [(send_at, f"pre-interview note {verb}")]

    @classmethod
    def preview(cls, config: ThemeConfig, now: datetime) -> Any:
        from aligner.surfaces.note.preview import preview

        return preview(config, now)

    # -- I/O -------------------------------------------------------------------------------

    @classmethod
    def doctor(cls, settings: Settings, config: ThemeConfig) -> Iterator[Check]:
        if note_section(config).provider == "outlook":
            from aligner.surfaces.note.outlook import doctor

            yield doctor(settings.part(MicrosoftSettings), cls.needed_scopes(config))
            if note_section(config).include_signature:
                yield ok(
                    f"{NAME}.signature",
                    "the note carries the themed signature itself: Outlook signatures cannot be "
                    "themed (Microsoft Graph has no API for them) and mail made through Graph "
                    "gets none",
                )
            return
        from aligner.vendors.google.account import read_check

        problem, body = read_check(
            f"{NAME}.works",
            settings,
            ("gmail", "v1"),
            GMAIL_COMPOSE,
            lambda service: service.users().getProfile(userId="me"),
        )
        address = body.get("emailAddress", "") if isinstance(body, dict) else ""
        yield problem or ok(f"{NAME}.works", f"Gmail mailbox {address} reachable")

    @classmethod
    def seed(cls, box: SandboxSeed) -> None:
        from aligner.sandbox.google.common import EMAIL, grant_sandbox_scopes, seed_account
        from aligner.sandbox.google.gmail.mail import seeded_mailbox

        accounts = seed_account(box)
        grant_sandbox_scopes(accounts, *cls.scopes)
        box.add(seeded_mailbox(accounts, box.clock, EMAIL))

        from aligner.sandbox.microsoft import common
        from aligner.sandbox.microsoft.mail import seeded_outlook

        directory = common.seed_account(box)
        common.grant_sandbox_scopes(directory, MAIL_READ_WRITE, MAIL_SEND)
        box.add(seeded_outlook(box, directory))

    @classmethod
    def connect(cls, settings: Settings, config: ThemeConfig) -> InterviewNote:
        mailbox: Mailbox
        if note_section(config).provider == "outlook":
            from aligner.surfaces.note.outlook import OutlookMailbox

            scopes = cls.needed_scopes(config)
            mailbox = OutlookMailbox.connect(settings.part(MicrosoftSettings), scopes)
        else:
            from aligner.surfaces.note.gmail import NoteMailbox

            mailbox = NoteMailbox.connect(settings.part(GoogleSettings), cls.scopes)
        lock = settings.state_dir / "note.lock"
        receipts = Receipts(settings.state_dir / "note-receipts.json")
        return cls(mailbox, NoteDelivery(mailbox, lock, settings.lock_wait, receipts))

    def read(self, config: ThemeConfig, records: Mapping[str, Record]) -> dict[str, Json]:
        """The note's progress and what the mailbox shows of it (one call in the common case).

        With no record for the interview as the theme describes it now, the most recent earlier
        note (another key: the company or time was edited since) is read too, or, when the state
        database has no note at all, this machine's note receipt (see `delivery.Receipts`)."""
        key = note_key(config)
        record = records.get(key)
        intent = dict(record.extra) if record else {}
        if intent.get("stage") is not None:
            return {key: self._state(intent)}
        current: dict[str, Json] = {"stage": "none", "intent": intent, "draft": None}
        current["from"] = self.mailbox.address()
        earlier = [r for r in records.values() if r.key != key and r.extra.get("stage")]
        if earlier:
            start = config.schedule.interview_start
            same = [r for r in earlier if earlier_start(r.key, r.extra) == start]
            prior = max(  # a note for the same start (the company was edited) first
                same or earlier, key=lambda r: r.updated_at or datetime.min.replace(tzinfo=UTC)
            )
            current["prior"] = {"key": prior.key, **self._state(dict(prior.extra))}
        elif not any(r.extra.get("stage") for r in records.values()):
            receipt = _latest(self.delivery.receipts.all())
            if receipt is not None:
                found, entry = receipt
                draft = None
                if (
                    entry.get("msgid")
                    and entry.get("stage") != SENT
                    and mailbox_of(entry) == self.mailbox.vendor
                ):
                    draft = _draft_json(self.mailbox.find(str(entry["msgid"])))
                current["receipt"] = {"key": found, "intent": entry, "draft": draft}
        return {key: current}

    def _state(self, intent: dict[str, Json]) -> dict[str, Json]:
        stage = intent.get("stage")
        state: dict[str, Json] = {"stage": stage, "intent": intent, "draft": None}
        if stage not in (SENT, DELETED) and mailbox_of(intent) != self.mailbox.vendor:
            state["elsewhere"] = mailbox_of(intent)  # its ids mean nothing to this mailbox
            return state
        if stage == CREATING:
            state["draft"] = _draft_json(self.delivery.find(intent))
        elif stage in (DRAFTED, SENDING):
            state["draft"] = _draft_json(self.mailbox.draft(str(intent["draft_id"])))
        return state

    def diff(
        self, ctx: DiffContext, desired: Mapping[str, Json], current: Mapping[str, Json]
    ) -> list[Change]:
        key = note_key(ctx.config)
        note = desired.get(key)
        return note_changes(
            self.name,
            key,
            ctx,
            note,
            current[key],
            note_section(ctx.config).resend,
            self.mailbox.vendor,
        )

    def apply(self, config: ThemeConfig, change: Change, ledger: Ledger) -> Json:
        step = change.payload
        if not isinstance(step, NoteStep):
            raise PermanentError(f"the note cannot {change.action} without a plan step", self.name)
        at = step.at
        if change.action is Action.DELETE:
            return self.delivery.take_back(change.key, at, ledger)
        if change.action not in (Action.DRAFT, Action.SEND, Action.RECORD):
            raise PermanentError(f"the note cannot {change.action}", self.name)
        note = change.after
        sender = note.get("from")
        attempt = Attempt(
            key=change.key,
            note=content_of(note, str(sender) if sender else None),
            delivery=str(note["delivery"]),
            interview=note_key(config),
            interview_start=config.schedule.interview_start.isoformat(),
            content=str(note["content"]),
            at=at,
            may_start=change.action is not Action.RECORD,
        )
        adopt = step.adopt if isinstance(step.adopt, dict) else None
        return self.delivery.deliver(attempt, ledger, adopt)

    def account_id(self, current: Mapping[str, Json], *, needed: bool) -> str | None:
        """The Gmail address: from the profile the read fetched before delivery, else one
        getProfile call, only on a run that has something to write here. (Outlook: unknown,
        None: its address needs a permission the note does not ask for.)"""
        for state in current.values():
            if isinstance(state, Mapping) and state.get("from"):
                return str(state["from"]).lower()
        if not needed:
            return None
        return self.mailbox.address().lower() or None

    @classmethod
    def describe_account(cls, account: str) -> str:
        return f"Google account {account}"  # only Gmail reports an account id

    def close(self) -> None:
        self.mailbox.close()

    def show(self, config: ThemeConfig, current: Mapping[str, Json]) -> list[str]:
        state = current.get(note_key(config)) or {}
        if state.get("stage", "none") == "none" and state.get("prior"):
            state = state["prior"]  # the note of this interview before its company/time changed
        elif state.get("stage", "none") == "none" and state.get("receipt"):
            stage = state["receipt"]["intent"].get("stage")
            return [f"{stage}, per this machine's note receipt (the state database has no record)"]
        intent = state.get("intent") or {}
        stage = state.get("stage", "none")
        subject = f"“{intent.get('subject', '')}”"
        if stage == "none":
            when = local(config.instant(note_section(config).send_at, "note.send_at"), config.zone)
            return [f"not delivered yet (due {when})"]
        if stage == SENT:
            if self.mailbox.vendor != "Gmail":
                return [f"sent {subject} (in your {self.mailbox.vendor} Sent Items)"]
            return [f"sent {subject} (Gmail message {intent.get('sent_id') or 'id unknown'})"]
        if stage == DRAFTED and is_delivered(intent):
            where = "waiting in Drafts" if state.get("draft") else "no longer in Drafts"
            return [f"draft {shown(intent.get('draft_id'))} {subject} {where}"]
        if stage == DELETED:
            return ["the draft aligner made was deleted by revert"]
        return [f"delivery in progress ({stage}); the next run finishes it"]


def _latest(entries: Mapping[str, dict[str, Json]]) -> tuple[str, dict[str, Json]] | None:
    """The receipt of the note that started last, among those that got anywhere."""
    started = [(k, e) for k, e in entries.items() if e.get("stage")]
    if not started:
        return None
    return max(started, key=lambda item: str(item[1].get("started_at") or ""))


def _draft_json(found: DraftRef | None) -> Json:
    if found is None:
        return None
    return {"id": found.draft_id, "message_id": found.message_id}


def _address_findings(field: str, addresses: tuple[str, ...]) -> list[Finding]:
    findings = []
    for index, address in enumerate(addresses):
        problem = address_problem(address)
        if problem:
            findings.append(Finding(f"{field}[{index}]", problem))
    return findings


def _no_metric_message(config: ThemeConfig) -> str:
    example = config.metrics[0].id if config.metrics else "latency"
    hint = "" if config.metrics else " (add a [[metrics]] table first)"
    return (
        f"references no metric: {GENERIC}; name the result you will discuss, "
        f"e.g. {{{{ metrics.{example} | change }}}}{hint}"
    )
