"""Gmail's search box, as far as the sandbox needs it: the `q` of messages.list and drafts.list.

`q` "Supports the same query format as the Gmail search box"
(https://developers.google.com/gmail/api/reference/rest/v1/users.messages/list); the operators:
https://support.google.com/mail/answer/7190, and the API's differences:
https://developers.google.com/gmail/api/guides/filtering

Terms are ANDed; a leading `-` negates one. Operators:
    in:sent  in:drafts (in:draft)  in:inbox  in:trash  in:spam  in:anywhere
    is:<label>  label:<name>
    to:  from:  cc:                a substring of that header (case-insensitive)
    subject:word  subject:"a phrase"  subject:(several words)
    after:  before:                YYYY/MM/DD (midnight Pacific time, as Gmail reads it) or epoch
                                   seconds; after: is inclusive, before: exclusive
    rfc822msgid:<id>
    "a phrase"  plain words        anywhere in the headers above or the body text
An unknown `name:value` is read as plain words, as Gmail does (observed, not documented).
Dates: "All dates used in the search query are interpreted as midnight on that date in the PST
timezone. To specify accurate dates for other timezones pass the value in seconds instead"
(https://developers.google.com/gmail/api/guides/filtering); that after: is inclusive and
before: exclusive is the sandbox's reading, not documented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

# "interpreted as midnight on that date in the PST timezone":
# https://developers.google.com/gmail/api/guides/filtering (read as Pacific time, DST included)
GMAIL_DATE_ZONE = ZoneInfo("America/Los_Angeles")
_TERM = re.compile(
    r'(?P<neg>-)?(?:(?P<op>[a-z0-9]+):(?:"(?P<qval>[^"]*)"|\((?P<pval>[^)]*)\)|(?P<val>[^\s"()]+))'
    r'|"(?P<phrase>[^"]*)"|(?P<word>[^\s"]+))',
    re.IGNORECASE,
)
_IN_LABELS = {
    "sent": "SENT",
    "drafts": "DRAFT",
    "draft": "DRAFT",
    "inbox": "INBOX",
    "trash": "TRASH",
    "spam": "SPAM",
}
_OPERATORS = {"in", "is", "label", "to", "from", "cc", "subject", "after", "before", "rfc822msgid"}


@dataclass(frozen=True)
class Indexed:
    """What search sees of one message."""

    labels: frozenset[str]
    to: str
    sender: str
    cc: str
    subject: str
    message_id: str
    text: str
    internal_ms: int

    @property
    def everything(self) -> str:
        return " ".join((self.subject, self.sender, self.to, self.cc, self.text))


@dataclass(frozen=True)
class Term:
    op: str  # "" for plain words and phrases
    value: str
    negated: bool = False
    phrase: bool = False


class QueryError(ValueError):
    """A term Gmail would reject (e.g. an unreadable date); answered as 400 invalidArgument
    (reported, not documented)."""


def parse(query: str) -> list[Term]:
    terms = []
    for match in _TERM.finditer(query or ""):
        negated = bool(match["neg"])
        op = (match["op"] or "").lower()
        if op and op in _OPERATORS:
            value = match["qval"] if match["qval"] is not None else match["pval"] or match["val"]
            terms.append(Term(op, value or "", negated, phrase=match["qval"] is not None))
        elif op:
            raw = match.group(0).lstrip("-")
            terms.append(Term("", raw, negated))
        elif match["phrase"] is not None:
            terms.append(Term("", match["phrase"], negated, phrase=True))
        elif match["word"] and match["word"].upper() != "AND":
            terms.append(Term("", match["word"], negated))
    return terms


def matches(query: str, item: Indexed) -> bool:
    return all(_holds(term, item) != term.negated for term in parse(query))


def _holds(term: Term, item: Indexed) -> bool:
    value = term.value.strip()
    if term.op == "in":
        if value.lower() == "anywhere":
            return True
        return _IN_LABELS.get(value.lower(), value.upper()) in item.labels
    if term.op in ("is", "label"):
        return value.upper() in {label.upper() for label in item.labels}
    if term.op in ("to", "from", "cc"):
        header = {"to": item.to, "from": item.sender, "cc": item.cc}[term.op]
        return value.lower() in header.lower()
    if term.op == "subject":
        return _contains(item.subject, value, term.phrase)
    if term.op == "rfc822msgid":  # the whole Message-ID, with or without its angle brackets
        return (
            bool(value) and value.strip("<>").lower() == item.message_id.strip().strip("<>").lower()
        )
    if term.op == "after":
        return item.internal_ms >= _instant_ms(value)
    if term.op == "before":
        return item.internal_ms < _instant_ms(value)
    return _contains(item.everything, value, term.phrase)


def _contains(text: str, value: str, phrase: bool) -> bool:
    haystack = " ".join(text.lower().split())
    if phrase:
        return " ".join(value.lower().split()) in haystack
    words = set(re.findall(r"\w+", haystack))
    for needle in value.lower().split():
        if re.fullmatch(r"\w+", needle):
            if needle not in words:
                return False
        elif needle not in haystack:
            return False
    return True


def _instant_ms(value: str) -> int:
    """after:/before: as epoch milliseconds: epoch seconds, or YYYY/MM/DD at Pacific midnight.

    https://developers.google.com/gmail/api/guides/filtering
    """
    if value.isdigit():
        return int(value) * 1000
    parts = re.split(r"[/-]", value)
    try:
        year, month, day = (int(p) for p in parts)
        moment = datetime(year, month, day, tzinfo=GMAIL_DATE_ZONE)
    except ValueError:
        raise QueryError(f"Invalid date in query: {value}") from None
    return int(moment.timestamp() * 1000)
