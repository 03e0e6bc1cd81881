"""What a surface looks like to the people who see it: the cards `aligner preview` draws.

A surface's `preview(config, now)` returns one of these (pure: no I/O, no vendor SDK). The
preview page knows the card kinds, never the surfaces: each kind says what it shows and to whom.

    StatusCard      a profile status (colleagues): emoji, text, "until …"
    AgendaCard      calendar blocks: colleagues see private ones as "Busy", you see everything
    SignatureCard   an email signature (colleagues, on every email), as sanitised HTML
    EmailCard       a message as its recipient reads it (the recruiter), with when it goes out
"""

from __future__ import annotations

from dataclasses import dataclass


def drawn_emoji(code: str) -> str:
    """An emoji code (`:rocket:`) as a person sees it: Unicode when it is a standard emoji (the
    Slack/GitHub names are mostly the aliases the `emoji` library knows), else the `:code:`
    itself (a custom emoji is an image only the service has)."""
    import emoji as emoji_lib

    if not code:
        return ""
    for language in ("alias", "en"):
        found = emoji_lib.emojize(code, language=language)
        if found != code:
            return found
    return code


@dataclass(frozen=True)
class Showing:
    """Whether the card's content is on the surface at the previewed moment, and when it is."""

    now: bool  # shown at the previewed moment
    when: str  # e.g. "from Wed 02 Dec 10:00 PST until Thu 03 Dec 11:00 PST"


@dataclass(frozen=True)
class StatusCard:
    emoji: str  # what a person sees: the Unicode emoji, or the `:code:` of a custom one
    emoji_code: str  # as written in the theme, e.g. ":rocket:"
    text: str
    until: str | None  # local time the status expires, or None
    showing: Showing


@dataclass(frozen=True)
class AgendaEntry:
    day: str  # local day, e.g. "Wed 02 Dec 2026"
    start: str  # local "HH:MM"
    end: str
    title: str
    description: str
    private: bool  # colleagues see only "Busy"
    kind: str  # e.g. "Focus time", "Busy"
    started: bool  # already started at the previewed moment (left as it is)


@dataclass(frozen=True)
class AgendaCard:
    entries: tuple[AgendaEntry, ...]
    note: str = ""  # e.g. how declines are answered
    title: str = ""  # the panel's title when the theme decides it (e.g. the calendar provider)


@dataclass(frozen=True)
class SignatureCard:
    html: str  # the sanitised HTML the mail provider gets
    text: str  # what a plain-text reader sees
    placement: str  # e.g. "after your own signature"
    showing: Showing


@dataclass(frozen=True)
class EmailCard:
    sender: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    text: str  # the plain-text body (with the signature text when there is one)
    html: str | None  # the HTML body, signature included, when the message has one
    delivery: str  # e.g. "Stays a draft in Gmail Drafts …" or "Sent at …"
    delivered: bool  # already gone out (or drafted) at the previewed moment


PreviewCard = StatusCard | AgendaCard | SignatureCard | EmailCard
