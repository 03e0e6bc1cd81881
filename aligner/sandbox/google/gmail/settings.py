"""Fake Gmail v1 send-as settings: users/{userId}/settings/sendAs list, get, patch, update.

Sources, per behaviour:
- scopes ("Authorization scopes" of each method): list/get accept gmail.settings.basic,
  gmail.readonly, gmail.modify or mail.google.com; patch/update accept only
  gmail.settings.basic or gmail.settings.sharing (else 403).
  https://developers.google.com/gmail/api/reference/rest/v1/users.settings.sendAs/list
  https://developers.google.com/gmail/api/reference/rest/v1/users.settings.sendAs/get
  https://developers.google.com/gmail/api/reference/rest/v1/users.settings.sendAs/patch
  https://developers.google.com/gmail/api/reference/rest/v1/users.settings.sendAs/update
- an address that is not one of the account's send-as addresses is 404 notFound (reported, not
  documented; the body is Google's usual "Requested entity was not found.");
- only the primary address may be changed by an ordinary OAuth client (others: 403): "Addresses
  other than the primary address for the account can only be updated by service account clients
  that have been delegated domain-wide authority":
  https://developers.google.com/gmail/api/reference/rest/v1/users.settings.sendAs/update
- a signature over 10,000 characters is 400 invalidArgument, "Signature exceeds maximum length
  of 10000 characters" (reported, not documented in the API reference:
  https://support.xink.io/support/solutions/articles/1000299609-gmail-signature-too-long-error-10000-character-limit-
  , a vendor's support page quoting Google's error);
- "If a signature is provided, Gmail will sanitize the HTML before saving it with the alias"
  (users.settings.sendAs/update, above). How it rewrites is not documented; the sandbox emulates
  it with a deterministic, idempotent rewrite (see `gmail_rewrite`), so a client that compares
  what it sent with what it reads back would see a difference on every run.

Operations are named "gmail.sendAs.list|get|patch|update" for the request log and faults.
Paths under /gmail/v1/users/ that are not send-as settings are left to other services.
"""

from __future__ import annotations

import copy
import html
import html.entities
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

from aligner.sandbox.google.common import GoogleAccounts, google_error
from aligner.sandbox.http import Request, Response, Routed, Service

SCOPE = "https://www.googleapis.com/auth/"
# "Authorization scopes" of users.settings.sendAs/get and /patch:
# https://developers.google.com/gmail/api/reference/rest/v1/users.settings.sendAs/get
READ_SCOPES = {
    SCOPE + "gmail.settings.basic",
    SCOPE + "gmail.readonly",
    SCOPE + "gmail.modify",
    "https://mail.google.com/",
}
WRITE_SCOPES = {SCOPE + "gmail.settings.basic", SCOPE + "gmail.settings.sharing"}
SIGNATURE_LIMIT = 10_000  # reported, not documented in the API reference (module docstring)
# "HTTP request": GET|PATCH|PUT .../gmail/v1/users/{userId}/settings/sendAs[/{sendAsEmail}]
# (https://developers.google.com/gmail/api/reference/rest/v1/users.settings.sendAs/patch)
_PATH = re.compile(r"^/gmail/v1/users/(?P<user>[^/]+)/settings/sendAs(?:/(?P<email>[^/]+))?/?$")
_OPERATIONS = {
    ("GET", False): "gmail.sendAs.list",
    ("GET", True): "gmail.sendAs.get",
    ("PATCH", True): "gmail.sendAs.patch",
    ("PUT", True): "gmail.sendAs.update",
}
_WRITABLE_TEXT = ("displayName", "replyToAddress", "signature")
_VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())
_DROPPED = frozenset({"script", "style", "iframe", "object", "embed", "head", "title"})


class _Rewriter(HTMLParser):
    """Re-serialises HTML the way a sanitiser does: balanced, lower-case, double-quoted.

    A stand-in: Gmail documents only that it sanitizes signature HTML
    (https://developers.google.com/gmail/api/reference/rest/v1/users.settings.sendAs/update).
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.open: list[str] = []
        self.dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self.dropping += tag not in _VOID
            return
        if self.dropping:
            return
        text = "".join(
            f' {name}="{html.escape(value or "", quote=True)}"'
            for name, value in attrs
            if not name.startswith("on")
        )
        self.out.append(f"<{tag}{text}>")
        if tag not in _VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self.dropping = max(0, self.dropping - 1)
            return
        if self.dropping or tag not in self.open:
            return  # a stray end tag: dropped
        while self.open:
            top = self.open.pop()
            self.out.append(f"</{top}>")
            if top == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.out.append(data.replace("<", "&lt;").replace(">", "&gt;"))

    def handle_entityref(self, name: str) -> None:
        if not self.dropping:
            known = name in html.entities.name2codepoint
            self.out.append(f"&{name};" if known else f"&amp;{name}")

    def handle_charref(self, name: str) -> None:
        if not self.dropping:
            self.out.append(f"&#{name};")

    def result(self) -> str:
        self.close()
        return "".join(self.out) + "".join(f"</{tag}>" for tag in reversed(self.open))


def _is_single_ltr_div(text: str) -> bool:
    """Is `text` exactly one top-level <div dir="ltr">…</div> element?"""
    if not text.startswith('<div dir="ltr">') or not text.endswith("</div>"):
        return False
    depth = 0
    for match in re.finditer(r"<(/?)div\b[^>]*>", text):
        depth += -1 if match.group(1) else 1
        if depth == 0 and match.end() != len(text):
            return False
    return depth == 0


def gmail_rewrite(signature: str) -> str:
    """Deterministic, idempotent stand-in for Gmail's signature sanitiser.

    That Gmail sanitizes ("Gmail will sanitize the HTML before saving it"):
    https://developers.google.com/gmail/api/reference/rest/v1/users.settings.sendAs/update
    The rules below are not documented; the `<div dir="ltr">` wrapper is what Gmail's editor
    writes (observed, not documented).

    Drops scripts, styles, comments and event handlers; balances and lower-cases tags; quotes
    every attribute with double quotes; writes <br/> as <br>; and wraps the whole signature in
    <div dir="ltr"> (as Gmail's editor does) unless it is already one such element.
    """
    if not signature.strip():
        return ""
    rewriter = _Rewriter()
    rewriter.feed(signature)
    text = rewriter.result()
    return text if _is_single_ltr_div(text) else f'<div dir="ltr">{text}</div>'


@dataclass
class GmailSettingsService(Service):
    """One Gmail account's send-as addresses (the primary one first)."""

    accounts: GoogleAccounts = field(default_factory=GoogleAccounts)
    email: str = "alex@example.com"
    send_as: dict[str, dict[str, Any]] = field(default_factory=dict)

    name = "gmail.settings"
    prefix = "/gmail/v1/users/"

    # -- seeding and inspection ----------------------------------------------------------------

    def __post_init__(self) -> None:
        if self.email not in self.send_as:
            self.add_send_as(self.email, primary=True)

    def add_send_as(
        self, address: str, display_name: str = "", signature: str = "", *, primary: bool = False
    ) -> None:
        entry: dict[str, Any] = {
            "sendAsEmail": address,
            "displayName": display_name,
            "replyToAddress": "",
            "signature": gmail_rewrite(signature),
            "isPrimary": primary,
            "isDefault": primary,
        }
        if not primary:
            entry.update(treatAsAlias=True, verificationStatus="accepted")
        self.send_as[address] = entry

    def set_signature(self, address: str, signature: str) -> None:
        """A person editing the signature in Gmail's settings (stored through the sanitiser)."""
        self.send_as[address]["signature"] = gmail_rewrite(signature)

    def signature(self, address: str | None = None) -> str:
        return str(self.send_as[address or self.email]["signature"])

    def snapshot(self) -> Any:
        return {"sendAs": copy.deepcopy(list(self.send_as.values()))}

    # -- HTTP ----------------------------------------------------------------------------------

    def route(self, request: Request) -> Routed | None:
        match = _PATH.match(request.path)
        if match is None:
            return None
        operation = _OPERATIONS.get((request.method, match.group("email") is not None))
        if operation is None:
            return None
        return Routed(self.name, operation, writes=request.method in ("PATCH", "PUT"))

    def fault_response(self, status: int, retry_after: int | None) -> Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return google_error(status, "injected fault", headers=headers)

    def handle(self, request: Request, routed: Routed) -> Response:
        """users.settings.sendAs list/get/patch/update (URLs in the module docstring).

        `userId` is "me" or the account's own address ("The special value me can be used to
        indicate the authenticated user"); another user is 403 "Delegation denied for ..."
        (reported, not documented). The address lookup ignores case (the sandbox's choice).
        """
        match = _PATH.match(request.path)
        assert match is not None
        scopes = WRITE_SCOPES if routed.writes else READ_SCOPES
        refused = self.accounts.check(request, scopes)
        if refused is not None:
            return refused
        user = unquote(match.group("user"))
        if user not in ("me", self.email):
            return google_error(403, f"Delegation denied for {self.email}", "forbidden")
        if routed.operation == "gmail.sendAs.list":
            return Response(200, {"sendAs": copy.deepcopy(list(self.send_as.values()))})
        address = unquote(match.group("email"))
        entry = self._find(address)
        if entry is None:
            return google_error(404, "Requested entity was not found.", "notFound")
        if routed.operation == "gmail.sendAs.get":
            return Response(200, copy.deepcopy(entry))
        return self._write(request, entry, replace=routed.operation == "gmail.sendAs.update")

    def _find(self, address: str) -> dict[str, Any] | None:
        for key, entry in self.send_as.items():
            if key.lower() == address.lower():
                return entry
        return None

    def _write(self, request: Request, entry: dict[str, Any], *, replace: bool) -> Response:
        """patch (fields given) or update (the whole writable set), then sanitise the signature.

        users.settings.sendAs/patch ("Patch the specified send-as alias") and /update (module
        docstring); the SendAs resource:
        https://developers.google.com/gmail/api/reference/rest/v1/users.settings.sendAs
        ("isDefault ... can only be set to true"; making one default un-defaults the others).
        The primary-only and 10,000-character rules: module docstring.
        """
        try:
            body = request.json()
        except ValueError:
            return google_error(400, "Invalid JSON payload received.", "invalid")
        if not isinstance(body, dict):
            return google_error(400, "Invalid JSON payload received.", "invalid")
        if not entry["isPrimary"]:
            return google_error(
                403,
                "Access restricted to service accounts that have been delegated "
                "domain-wide authority",
                "forbidden",
            )
        signature = body.get("signature")
        if isinstance(signature, str) and len(signature) > SIGNATURE_LIMIT:
            return google_error(
                400,
                f"Signature exceeds maximum length of {SIGNATURE_LIMIT} characters",
                "invalidArgument",
            )
        for name in _WRITABLE_TEXT:
            if name in body or replace:
                entry[name] = str(body.get(name) or "")
        entry["signature"] = gmail_rewrite(entry["signature"])
        if body.get("isDefault") is True:
            for other in self.send_as.values():
                other["isDefault"] = other is entry
        return Response(200, copy.deepcopy(entry))


SEEDED_SIGNATURE = (
    '<div dir="ltr"><div><b>Alex Doe</b></div>'
    "<div>Senior Software Engineer, Platform Infrastructure · Northwind Labs</div>"
    '<div><a href="https://www.linkedin.com/in/alexdoe-example">linkedin.com/in/alexdoe-example'
    "</a> · +1 415 555 0142</div></div>"
)
SEEDED_ALIAS = "alex.doe@example.net"


def seeded_send_as(accounts: GoogleAccounts, email: str) -> GmailSettingsService:
    """The person's account: a primary address with a real signature, plus one alias."""
    service = GmailSettingsService(accounts=accounts, email=email)
    service.add_send_as(email, "Alex Doe", SEEDED_SIGNATURE, primary=True)
    service.add_send_as(SEEDED_ALIAS, "Alex Doe")
    return service
