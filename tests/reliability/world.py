"""What the reliability tests share: the example theme against a seeded sandbox, a model of what a
person did by hand, and the invariants of issue 11 ("Keep it true") checked on the sandbox itself.

Invariants (each a method of `World` that raises AssertionError with a readable reason):
- `check_note_once`: the note is delivered at most once (one committed draft create, one
  committed send, at most one copy addressed to the recruiter in Drafts and Sent together);
- `check_no_duplicate_events`: at no time are there two live events for the same block;
- `check_person_edits_kept`: a value a person set after aligner wrote that surface is still
  there (aligner never overwrites a person's edit without --force);
- `check_given_back`: Slack status and Gmail signature show, byte for byte, the original or the
  person's last edit (called after the window once an apply succeeded with no faults pending,
  and after a successful revert);
- `check_blocks_given_back`: after a successful revert with no faults pending, no calendar block
  that has yet to start is left, except one the person changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aligner.sandbox.google.calendar.rules import instant
from aligner.sandbox.google.calendar.service import CalendarService
from aligner.sandbox.google.common import EMAIL
from aligner.sandbox.google.gmail.mail import GmailMailService
from aligner.sandbox.google.gmail.settings import (
    SEEDED_SIGNATURE,
    GmailSettingsService,
    gmail_rewrite,
)
from aligner.sandbox.seed import SANDBOX_ENV
from aligner.sandbox.server import Sandbox
from aligner.sandbox.slack.service import USER_ID, SlackService
from aligner.surfaces.calendar.events import BLOCK_PROP, block_token
from tests.conftest import Aligner

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "example.toml"
THEME_KEY = "inference-pipelines"
BLOCKS = ("data-refresh", "narrative-rehearsal", "signal-polishing", "mock-with-peer")
RECRUITER = "recruiter@example.com"
ORIGINAL_STATUS = ("Working from home", ":house_with_garden:")
ORIGINAL_SIGNATURE = gmail_rewrite(SEEDED_SIGNATURE)  # as Gmail stores it

# The example theme's timeline (interview 2026-12-03 10:00 PST = 18:00Z; window from -24h, the
# first block's start, to +1h; blocks at 18:00Z, 21:00Z, 23:00Z and 00:30Z; the note at 02:00Z).
WINDOW_END = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
INSTANTS: tuple[datetime, ...] = (
    datetime(2026, 12, 2, 8, 0, tzinfo=UTC),  # before the window, before every block
    datetime(2026, 12, 2, 17, 0, tzinfo=UTC),  # an hour before the window
    datetime(2026, 12, 2, 20, 0, tzinfo=UTC),  # during: the first block started
    datetime(2026, 12, 3, 0, 0, tzinfo=UTC),  # during: only the last block to come
    datetime(2026, 12, 3, 3, 0, tzinfo=UTC),  # after send_at
    datetime(2026, 12, 3, 18, 30, tzinfo=UTC),  # after the interview started
    datetime(2026, 12, 3, 20, 0, tzinfo=UTC),  # after the window
    datetime(2026, 12, 4, 20, 0, tzinfo=UTC),  # a day later
)

# Every operation the sandbox routes, by service (from each service's `route`).
WRITE_OPERATIONS = (
    "users.profile.set",
    "gmail.sendAs.patch",
    "calendar.events.insert",
    "calendar.events.patch",
    "calendar.events.update",
    "calendar.events.delete",
    "gmail.drafts.create",
    "gmail.drafts.send",
    "gmail.drafts.delete",
    "gmail.drafts.update",
    "gmail.messages.send",
)
READ_OPERATIONS = (
    "users.profile.get",
    "gmail.sendAs.list",
    "calendar.events.list",
    "calendar.events.get",
    "gmail.getProfile",
    "gmail.drafts.list",
    "gmail.drafts.get",
)
# Writes whose every answer may be lost without a known defect showing (issue 11 items 1 and 2
# are about the other two: users.profile.set and gmail.sendAs.patch).
LOSABLE_TODAY = tuple(
    op for op in WRITE_OPERATIONS if op not in ("users.profile.set", "gmail.sendAs.patch")
)


def theme_text(mode: str = "append", delivery: str = "draft") -> str:
    """config/example.toml (every surface on), with the signature mode and note delivery given."""
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace('mode = "append"', f'mode = "{mode}"', 1)
    return text.replace('delivery = "draft"', f'delivery = "{delivery}"', 1)


def fault_options(kind: str) -> dict[str, Any]:
    """The sandbox fault for one kind of misbehaviour."""
    if kind == "429":
        return {"kind": "status", "status": 429, "retry_after": 0}
    if kind == "5xx":
        return {"kind": "status", "status": 503, "retry_after": 0}
    if kind == "drop":  # one answer lost after the write committed (a retry may get through)
        return {"kind": "drop"}
    if kind == "lost":  # every attempt's answer lost in the next run (faults last one run)
        return {"kind": "drop", "times": 100}
    raise ValueError(kind)


@dataclass
class Person:
    """What the person did by hand, and whether aligner had written that surface before."""

    status: tuple[str, str] | None = None
    status_protected: bool = False
    signature: str | None = None  # as Gmail stored it
    signature_protected: bool = False
    blocks: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # key: (how, id, title)
    draft_texts: list[str] = field(default_factory=list)
    edits: int = 0

    def next_label(self) -> str:
        self.edits += 1
        return f"by hand #{self.edits}"


class World:
    """One sandbox, one state folder and the example theme, plus what a person did."""

    def __init__(
        self, box: Sandbox, root: Path, mode: str = "append", delivery: str = "draft"
    ) -> None:
        self.box = box
        self.root = root
        self.mode, self.delivery = mode, delivery
        self.theme = root / "theme.toml"
        self.theme.write_text(theme_text(mode, delivery), encoding="utf-8")
        self.state_dir = root / "state"
        self.env = {
            **SANDBOX_ENV(box.url),
            "ALIGNER_STATE_DIR": str(self.state_dir),
            "ALIGNER_CREDENTIALS_DIR": str(root / "no-credentials"),
        }
        self.run = Aligner(self.env, self.theme, box)
        self.person = Person()
        self.now = INSTANTS[0]
        self.box.clock.pinned = self.now
        self.log: list[str] = []  # what happened, for failure messages

    # -- the services --------------------------------------------------------------------------

    @property
    def slack(self) -> SlackService:
        service: SlackService = self.box.service("slack")
        return service

    @property
    def settings(self) -> GmailSettingsService:
        service: GmailSettingsService = self.box.service("gmail.settings")
        return service

    @property
    def mail(self) -> GmailMailService:
        service: GmailMailService = self.box.service("gmail")
        return service

    @property
    def calendar(self) -> CalendarService:
        service: CalendarService = self.box.service("calendar")
        return service

    def status(self) -> tuple[str, str]:
        shown = self.slack.status(USER_ID)
        return str(shown["status_text"]), str(shown["status_emoji"])

    def signature(self) -> str:
        return self.settings.signature(EMAIL)

    def block_events(self, key: str, *, deleted: bool = False) -> list[dict[str, Any]]:
        return self.events_by_block(deleted=deleted).get(key, [])

    def events_by_block(self, *, deleted: bool = False) -> dict[str, list[dict[str, Any]]]:
        """Every block's events, from one read of the calendar."""
        tokens = {block_token(THEME_KEY, key): key for key in BLOCKS}
        found: dict[str, list[dict[str, Any]]] = {}
        for event in self.calendar.events(deleted=deleted):
            key = tokens.get(_private(event).get(BLOCK_PROP, ""))
            if key is not None:
                found.setdefault(key, []).append(event)
        return found

    def live_block(self, key: str) -> dict[str, Any] | None:
        events = self.block_events(key)
        return events[0] if events else None

    def note_drafts(self) -> list[EmailMessage]:
        return [m for m in self.mail.draft_messages() if RECRUITER in str(m.get("To", ""))]

    def note_sent(self) -> list[EmailMessage]:
        return [m for m in self.mail.sent_messages() if RECRUITER in str(m.get("To", ""))]

    def committed(self, service: str, operation: str) -> int:
        """Writes the sandbox carried out (answered or not)."""
        return sum(1 for r in self.box.requests(service, operation) if r.status < 300)

    def inject(self, operation: str, kind: str) -> None:
        options = fault_options(kind)
        self.box.inject(operation, options.pop("kind"), **options)
        self.log.append(f"fault: {kind} on {operation}")

    def heal(self) -> None:
        for fault in self.box.faults:
            fault.times = 0
        self.log.append("faults healed")

    def faults_pending(self) -> bool:
        return any(f.times > 0 for f in self.box.faults)

    # -- aligner -------------------------------------------------------------------------------

    def move_clock(self, to: datetime) -> None:
        self.now = to
        self.box.clock.pinned = to
        self.log.append(f"clock {to.isoformat()}")

    def aligner(self, *args: str) -> int:
        """Run `aligner <args>` now; after it, check every invariant; return the exit code."""
        pending = self.faults_pending()
        result = self.run(*args, now=self.now.isoformat())
        for fault in self.box.faults:  # a fault lasts one run: the network is back for the next
            fault.times = 0
        self.log.append(f"aligner {' '.join(args)} -> {result.exit_code}")
        assert result.exit_code in (0, 1), result.output  # never a usage or config error
        assert "internal error" not in result.output, result.output
        self.check_all()
        after_window = self.now >= WINDOW_END and args[0] == "apply"
        if result.exit_code == 0 and not pending and (after_window or args[0] == "revert"):
            self.check_given_back(f"after a clean `{' '.join(args)}`")
        if result.exit_code == 0 and not pending and args[0] == "revert":
            self.check_blocks_given_back()
        return result.exit_code

    # -- a person, by hand ---------------------------------------------------------------------

    def edit_status(self) -> None:
        label = self.person.next_label()
        self.slack.set_status(USER_ID, f"Lunch {label}", ":coffee:")
        self.person.status = (f"Lunch {label}", ":coffee:")
        self.person.status_protected = self.committed("slack", "users.profile.set") > 0
        self.log.append(f"person sets the Slack status ({label})")

    def edit_signature(self) -> None:
        label = self.person.next_label()
        self.settings.set_signature(EMAIL, f"<div>Alex, {label}</div>")
        self.person.signature = self.signature()
        self.person.signature_protected = self.committed("gmail.settings", "gmail.sendAs.patch") > 0
        self.log.append(f"person edits the signature ({label})")

    def edit_block(self, key: str) -> None:
        event = self.live_block(key)
        if event is None:
            return
        title = f"Dentist {self.person.next_label()}"
        self.calendar.edit_event(event["id"], summary=title)
        self.person.blocks[key] = ("edited", event["id"], title)
        self.log.append(f"person renames the {key} event to {title!r}")

    def delete_block(self, key: str) -> None:
        event = self.live_block(key)
        if event is None:
            return
        self.calendar.delete_event(event["id"])
        self.person.blocks[key] = ("deleted", event["id"], "")
        self.log.append(f"person deletes the {key} event")

    def _note_draft_id(self) -> str | None:
        for draft_id, message_id in self.mail.drafts.items():
            if RECRUITER in str(self.mail.messages[message_id].parsed.get("To", "")):
                return draft_id
        return None

    def send_draft(self) -> None:
        draft_id = self._note_draft_id()
        if draft_id is not None:
            self.mail.send_draft(draft_id)
            self.log.append("person sends the note's draft")

    def delete_draft(self) -> None:
        draft_id = self._note_draft_id()
        if draft_id is not None:
            self.mail.delete_draft(draft_id)
            self.log.append("person deletes the note's draft")

    def edit_draft(self) -> None:
        draft_id = self._note_draft_id()
        if draft_id is not None:
            text = f"Hi Sam, rewritten {self.person.next_label()}\n"
            self.mail.edit_draft(draft_id, text)
            self.person.draft_texts.append(text.strip())
            self.log.append("person rewrites the note's draft")

    # -- invariants ----------------------------------------------------------------------------

    def why(self, problem: str) -> str:
        return problem + "\nsteps:\n  " + "\n  ".join(self.log)

    def check_all(self) -> None:
        self.check_note_once()
        self.check_no_duplicate_events()
        self.check_person_edits_kept()

    def check_note_once(self) -> None:
        creates = self.committed("gmail", "gmail.drafts.create")
        sends = self.committed("gmail", "gmail.drafts.send") + self.committed(
            "gmail", "gmail.messages.send"
        )
        copies = len(self.note_drafts()) + len(self.note_sent())
        assert creates <= 1, self.why(f"the note was drafted {creates} times")
        assert sends <= 1, self.why(f"the note was sent {sends} times")
        assert copies <= 1, self.why(f"{copies} copies of the note in Drafts and Sent")
        named = [m for m in self.mail.draft_messages() if "aligner" in m.as_string().lower()]
        assert named == [], self.why("a draft names aligner")

    def check_no_duplicate_events(self) -> None:
        for key, live in self.events_by_block().items():
            assert len(live) <= 1, self.why(
                f"{len(live)} live events for block {key}: {[e['id'] for e in live]}"
            )

    def check_person_edits_kept(self) -> None:
        person = self.person
        if person.status is not None and person.status_protected:
            assert self.status() == person.status, self.why(
                f"the person's Slack status {person.status} was overwritten: {self.status()}"
            )
        if person.signature is not None and person.signature_protected:
            assert self.signature() == person.signature, self.why(
                f"the person's signature {person.signature!r} was overwritten: {self.signature()!r}"
            )
        by_block = self.events_by_block()
        for key, (how, event_id, title) in person.blocks.items():
            live = by_block.get(key, [])
            if how == "deleted":
                assert not live, self.why(f"block {key} deleted by hand came back: {live}")
            else:
                event = self.calendar.event(event_id)
                assert event["status"] != "cancelled" and event.get("summary") == title, self.why(
                    f"block {key} renamed by hand to {title!r} now shows "
                    f"{event.get('summary')!r} ({event['status']})"
                )
        mail = [_text(m) for m in self.note_drafts() + self.note_sent()]
        for text in person.draft_texts[-1:]:  # the person's latest version of the draft
            if self._note_draft_id() is None and not self.note_sent():
                continue  # the person deleted it since
            assert any(text in body for body in mail), self.why(
                f"the person's rewrite of the note draft ({text!r}) is gone"
            )

    def check_given_back(self, when: str) -> None:
        want_status = self.person.status or ORIGINAL_STATUS
        assert self.status() == want_status, self.why(
            f"{when}: the Slack status shows {self.status()}, not {want_status}"
        )
        want_signature = self.person.signature or ORIGINAL_SIGNATURE
        assert self.signature() == want_signature, self.why(
            f"{when}: the signature shows {self.signature()!r}, not {want_signature!r}"
        )

    def check_blocks_given_back(self) -> None:
        """After a clean revert no block that has yet to start is on the calendar, unless the
        person changed its event (that one stays as the person left it)."""
        for key, events in self.events_by_block().items():
            if key in self.person.blocks:
                continue
            for event in events:
                start = instant(event["start"])
                assert start is None or start <= self.now, self.why(
                    f"after a clean revert, block {key} (starting {start}) is still there"
                )


def _private(event: dict[str, Any]) -> dict[str, str]:
    private: dict[str, str] = (event.get("extendedProperties") or {}).get("private") or {}
    return private


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    return "" if part is None else str(part.get_content())
