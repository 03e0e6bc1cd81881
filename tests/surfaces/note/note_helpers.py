"""Shared pieces of the note tests: a theme with the note on, instants around it, mailbox views."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from aligner.sandbox.google.gmail.mail import GmailMailService
from aligner.sandbox.server import Sandbox
from tests.conftest import write_theme

# The base theme's interview starts 2026-12-03 10:00 PST (18:00Z); send_at "-16h" is
# 2026-12-02 18:00 PST (2026-12-03T02:00Z).
BEFORE_SEND = "2026-12-02T20:00:00Z"
DUE = "2026-12-03T03:00:00Z"
LATER = "2026-12-03T05:00:00Z"
STARTED = "2026-12-03T18:30:00Z"

METRIC_TEXT = "p50 latency 28 ms → 19 ms (−32%)"
SIGNATURE_TEXT = "Alex Kim · Optimizing inference pipelines"
SUBJECT = "Tomorrow: Optimizing inference pipelines"

BODY = """Hi Sam,

Looking forward to tomorrow. I'll walk through how we cut {{ metrics.latency.label }} \
{{ metrics.latency | change }}.

Best,
Alex
"""


def note_section(
    delivery: str = "draft",
    *,
    body: str = BODY,
    subject: str = "Tomorrow: {{ theme.name }}",
    to: str = '["Sam Rivera <recruiter@example.com>"]',
    include_signature: bool = True,
) -> str:
    signature = "true" if include_signature else "false"
    return f'''
[slack]
enabled = false

[signature]
enabled = false
html = "<div>Alex Kim · {{{{ theme.name }}}}</div>"

[note]
enabled = true
delivery = "{delivery}"
to = {to}
cc = []
subject = "{subject}"
body = """{body}"""
send_at = "-16h"
include_signature = {signature}
'''


def note_theme(tmp_path: Path, delivery: str = "draft", **options: object) -> Path:
    return write_theme(tmp_path / "theme.toml", note_section(delivery, **options))  # type: ignore[arg-type]


def mailbox(sandbox: Sandbox) -> GmailMailService:
    service: GmailMailService = sandbox.service("gmail")
    return service


PERSONS_OWN = "friend@example.org"  # the seeded mailbox holds one draft of the person's own


def note_draft_ids(sandbox: Sandbox) -> list[str]:
    """Ids of the drafts that are not the person's own seeded one (the message carries no mark
    of aligner, on purpose: it is told apart by its recipient)."""
    box = mailbox(sandbox)
    return [d for d, m in box.drafts.items() if box.messages[m].parsed["To"] != PERSONS_OWN]


def aligner_drafts(sandbox: Sandbox) -> list[EmailMessage]:
    """Drafts aligner made (the seeded mailbox also holds one of the person's own)."""
    box = mailbox(sandbox)
    return [box.messages[box.drafts[d]].parsed for d in note_draft_ids(sandbox)]


def sent(sandbox: Sandbox) -> list[EmailMessage]:
    return mailbox(sandbox).sent_messages()


def calls(sandbox: Sandbox, operation: str) -> int:
    return len(sandbox.requests("gmail", f"gmail.{operation}"))


def text_part(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def html_part(message: EmailMessage) -> str | None:
    part = message.get_body(("html",))
    return None if part is None else str(part.get_content())  # type: ignore[attr-defined]
