"""The sandbox mailbox's messages: stored raw bytes, their API shapes, and raw header edits.

Messages are kept as the raw bytes the client sent and are never re-serialised: headers are
added or replaced on the raw text, so encoded headers stay exactly as written (Python's modern
folder can lose the space between two encoded-words when it refolds a long subject).

The API shapes follow the Message resource:
https://developers.google.com/gmail/api/reference/rest/v1/users.messages
"""

from __future__ import annotations

import base64
import binascii
import email
import functools
import uuid
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from typing import Any

from aligner.sandbox.google.gmail.query import Indexed


@dataclass
class StoredMessage:
    id: str
    thread_id: str
    labels: set[str]
    raw: bytes
    internal_ms: int

    @property
    def parsed(self) -> EmailMessage:
        """The raw bytes parsed, shared and read-only: parsed again only when `raw` changes
        (the suite's invariant checks read every draft after every run)."""
        return _parse(self.raw)

    def indexed(self) -> Indexed:
        msg = self.parsed
        return Indexed(
            frozenset(self.labels),
            str(msg.get("To", "")),
            str(msg.get("From", "")),
            str(msg.get("Cc", "")),
            str(msg.get("Subject", "")),
            str(msg.get("Message-ID", "")),
            body_text(msg),
            self.internal_ms,
        )


@functools.lru_cache(maxsize=256)
def _parse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def body_text(msg: EmailMessage) -> str:
    """Every text part of a message, for search and snippets."""
    texts = []
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            texts.append(str(part.get_content()))
    return "\n".join(texts)


def decode_raw(raw: str) -> bytes:
    """base64url with or without padding, as Gmail accepts it.

    `raw`: "The entire email message in an RFC 2822 formatted and base64url encoded string"
    https://developers.google.com/gmail/api/reference/rest/v1/users.messages
    Accepting it unpadded is observed, not documented.
    """
    text = raw.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def minimal(stored: StoredMessage) -> dict[str, Any]:
    """The `minimal` format: id, threadId, labelIds.

    "Returns only email message ID and labels": MINIMAL in
    https://developers.google.com/gmail/api/reference/rest/v1/Format
    """
    return {"id": stored.id, "threadId": stored.thread_id, "labelIds": sorted(stored.labels)}


def resource(stored: StoredMessage, shape: str) -> dict[str, Any]:
    """A Message in `format` full, metadata, minimal or raw.

    Fields (snippet, sizeEstimate, internalDate, historyId, payload, raw): the Message resource,
    https://developers.google.com/gmail/api/reference/rest/v1/users.messages
    Formats: https://developers.google.com/gmail/api/reference/rest/v1/Format
    The snippet's length (200) and the constant historyId are the sandbox's.
    """
    body = {
        **minimal(stored),
        "snippet": " ".join(body_text(stored.parsed).split())[:200],
        "sizeEstimate": len(stored.raw),
        "internalDate": str(stored.internal_ms),
        "historyId": "1",
    }
    if shape == "raw":
        body["raw"] = base64.urlsafe_b64encode(stored.raw).decode("ascii")
    elif shape in ("full", "metadata"):
        body["payload"] = _part(stored.parsed, "", with_bodies=shape == "full")
    return body


def _part(msg: EmailMessage, part_id: str, *, with_bodies: bool) -> dict[str, Any]:
    """A MessagePart: partId, mimeType, filename, headers, body (size, data), parts.

    https://developers.google.com/gmail/api/reference/rest/v1/users.messages#MessagePart
    """
    part: dict[str, Any] = {
        "partId": part_id,
        "mimeType": msg.get_content_type(),
        "filename": msg.get_filename() or "",
        "headers": [{"name": k, "value": str(v)} for k, v in msg.items()],
    }
    if not with_bodies:
        return part
    if msg.is_multipart():
        part["body"] = {"size": 0}
        part["parts"] = [
            _part(sub, f"{part_id}.{i}".lstrip("."), with_bodies=True)  # type: ignore[arg-type]
            for i, sub in enumerate(msg.iter_parts())
        ]
    else:
        data = msg.get_payload(decode=True) or b""
        assert isinstance(data, bytes)
        encoded = base64.urlsafe_b64encode(data).decode("ascii")
        part["body"] = {"size": len(data), "data": encoded}
    return part


def raw_of(message: Any) -> tuple[bytes | None, str | None]:
    """The decoded `raw` and the `threadId` of a Message in a request body, else (None, None)."""
    if not isinstance(message, dict) or not message.get("raw"):
        return None, None
    try:
        return decode_raw(str(message["raw"])), message.get("threadId")
    except (binascii.Error, ValueError):
        return None, None


def has_recipient(msg: EmailMessage) -> bool:
    """Whether To, Cc or Bcc names anyone.

    Sending goes "to the recipients in the To, Cc, and Bcc headers":
    https://developers.google.com/gmail/api/reference/rest/v1/users.messages/send
    """
    return any(str(msg.get(h, "")).strip() for h in ("To", "Cc", "Bcc"))


def gmail_message_id() -> str:
    """A Message-ID in Gmail's own style (observed, not documented)."""
    return f"<CA+{uuid.uuid4().hex}@mail.gmail.com>"


def with_message_id(raw: bytes) -> bytes:
    """Gmail gives a draft a Message-ID when the client did not.

    Reported, not documented (no public issue thread found).
    """
    if email.message_from_bytes(raw, policy=policy.default).get("Message-ID"):
        return raw
    return set_header(raw, "Message-ID", gmail_message_id())


UI_KEEPS = {"from", "to", "cc", "bcc", "subject", "in-reply-to", "references"}
TEXT_PLAIN = (
    b"MIME-Version: 1.0",
    b'Content-Type: text/plain; charset="UTF-8"',
    b"Content-Transfer-Encoding: base64",
)


def _split(raw: bytes) -> tuple[bytes, bytes]:
    for separator in (b"\r\n\r\n", b"\n\n"):
        head, found, body = raw.partition(separator)
        if found:
            return head, body
    return raw, b""


def header_lines(raw: bytes) -> list[bytes]:
    """Each header as one logical line (continuation lines kept, joined with CRLF)."""
    lines: list[bytes] = []
    for line in _split(raw)[0].replace(b"\r\n", b"\n").split(b"\n"):
        if line[:1] in (b" ", b"\t") and lines:
            lines[-1] += b"\r\n" + line
        elif line:
            lines.append(line)
    return lines


def header_name(line: bytes) -> str:
    return line.partition(b":")[0].decode("ascii", "replace").strip().lower()


def set_header(raw: bytes, name: str, value: str) -> bytes:
    kept = [line for line in header_lines(raw) if header_name(line) != name.lower()]
    kept.append(f"{name}: {value}".encode("ascii"))
    return b"\r\n".join(kept) + b"\r\n\r\n" + _split(raw)[1]
