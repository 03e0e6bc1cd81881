"""The pre-interview note as an email (pure: no I/O).

`build_message` makes an RFC 5322 message: text/plain alone, or multipart/alternative with an
HTML part when the signature is included. Headers are encoded per RFC 2047 (non-ASCII subjects
and display names survive), bodies as base64 UTF-8 (7-bit safe). The message carries nothing that
names aligner: the only thing that lets aligner find its draft again when Gmail's answer was lost
is an ordinary random `Message-ID` (`<random@sender-domain>`), which every email has anyway.
"""

from __future__ import annotations

import base64
import html
import re
import uuid
from dataclasses import dataclass
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr

LEGACY_HEADER = "X-Aligner-Note"  # only read, on drafts made by versions before Message-ID tokens
WIRE = policy.compat32.clone(linesep="\r\n")
SIGNATURE_SEPARATOR = "-- "
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"^{_ATOM}(?:\.{_ATOM})*$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_NAMED = re.compile(
    r'^\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<plain>[^<>"]*?))\s*<(?P<addr>[^<>]*)>\s*$'
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class AddressError(ValueError):
    """Not an email address; the message says why, for a `field: message` line."""


@dataclass(frozen=True)
class NoteContent:
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None  # present when the signature is included
    sender: str | None = None


def parse_address(text: str) -> Address:
    """`a@b.example` or `Name <a@b.example>` (the name may be any Unicode)."""
    if _CONTROL.search(text):
        raise AddressError(f"{text!r} contains a line break or control character")
    named = _NAMED.match(text)
    name, spec = "", text.strip()
    if named:
        quoted = named["quoted"]
        name = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else named["plain"]
        spec = named["addr"].strip()
    local, at, domain = spec.rpartition("@")
    if not at or not local or not domain:
        raise AddressError(f"“{text}” is not an email address (expected name@domain)")
    if not _LOCAL.match(local):
        raise AddressError(f"“{text}”: the part before @ has characters an address cannot have")
    return Address(display_name=name.strip(), username=local, domain=_ascii_domain(text, domain))


def _ascii_domain(text: str, domain: str) -> str:
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise AddressError(f"“{text}”: “{domain}” is not a valid domain") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise AddressError(f"“{text}”: “{domain}” is not a valid domain (e.g. example.com)")
    if labels[-1].isdigit():
        raise AddressError(f"“{text}”: “{domain}” is not a valid domain (e.g. example.com)")
    return ascii_domain


def address_problem(text: str) -> str | None:
    try:
        parse_address(text)
    except AddressError as exc:
        return str(exc)
    return None


def one_line(text: str) -> str:
    """A header value on one line: line breaks and runs of spaces become one space."""
    return " ".join(text.split())


def message_id(token: str, sender: str | None) -> str:
    """`<token@sender-domain>`: an ordinary Message-ID, unique, naming nothing but the sender's
    own domain (a neutral `mail.invalid` style fallback when the sender is not known)."""
    domain = ""
    if sender:
        try:
            domain = parse_address(sender).domain
        except AddressError:
            domain = ""
    if domain and not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            domain = ""
    return f"<{token}@{domain or 'localhost'}>"


def new_token() -> str:
    return uuid.uuid4().hex


def build_message(note: NoteContent, mark: str) -> Message:
    """The note as MIME. Built with the compat32 classes on purpose: the modern EmailMessage
    folder drops the space between two encoded-words when it wraps a long non-ASCII subject
    (observed on Python 3.11), while `Header` keeps every character inside the encoded-words.
    `mark` is the Message-ID (`<...>`), or a token to make one from with the sender's domain."""
    text = MIMEText(note.text, "plain", "utf-8")
    message: Message = text
    if note.html is not None:
        message = MIMEMultipart("alternative")
        message.attach(text)
        message.attach(MIMEText(note.html, "html", "utf-8"))
    if note.sender:
        message["From"] = formatted(parse_address(note.sender))
    message["To"] = ", ".join(formatted(parse_address(a)) for a in note.to)
    if note.cc:
        message["Cc"] = ", ".join(formatted(parse_address(a)) for a in note.cc)
    message["Subject"] = Header(one_line(note.subject), "utf-8")  # type: ignore[assignment]
    message["Message-ID"] = mark if mark.startswith("<") else message_id(mark, note.sender)
    return message


def formatted(address: Address) -> str:
    """`Name <a@b>` with the name RFC 2047-encoded when it is not plain ASCII."""
    return formataddr((address.display_name, address.addr_spec), charset="utf-8")


def encode_raw(message: Message) -> str:
    """The whole message, base64url, as Gmail's `raw` field wants it (CRLF line ends)."""
    return base64.urlsafe_b64encode(message.as_bytes(policy=WIRE)).decode("ascii")


def with_signature_text(text: str, signature_text: str) -> str:
    body = text.rstrip("\n")
    if not signature_text.strip():
        return body + "\n"
    return f"{body}\n\n{SIGNATURE_SEPARATOR}\n{signature_text.strip()}\n"


GMAIL_SIGNATURE = '<div class="gmail_signature" data-smartmail="gmail_signature">'
OUTLOOK_SIGNATURE = '<div id="Signature">'  # how Outlook on the web wraps a signature


def html_body(text: str, signature_html: str, opening: str = GMAIL_SIGNATURE) -> str:
    """The note's text as HTML paragraphs, then the signature block as the mail provider marks
    its own (`opening`: the signature's opening tag; Gmail's by default)."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    rendered = "".join(
        f"<p>{'<br>'.join(html.escape(line, quote=False) for line in p.splitlines())}</p>"
        for p in paragraphs
    )
    signature = (
        f"{opening}{SIGNATURE_SEPARATOR}<br>{signature_html}</div>"
        if signature_html.strip()
        else ""
    )
    return f'<div dir="auto">{rendered}{signature}</div>'
