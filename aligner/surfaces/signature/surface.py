"""Gmail signature: the themed send-as signature during the window, the original back after.

One item per send-as address (the store key is the address as Gmail spells it). Reading is one
`sendAs.list` call: it names the primary address and carries every signature. Gmail rewrites
signature HTML when it stores it, so each write remembers both what aligner asked for and what
Gmail gave back (`Record.applied == {"html": stored, "asked": sent}`): Gmail's rewrite of the
signature aligner wants counts as that signature, so a second apply makes no write, while a
person's edit still shows as a change made by hand.

`sendAs.patch` takes no etag: unless the plan's read answered just before (see
`aligner.surfaces.reread`), each write reads its address again (`sendAs.get`) and, when the
signature changed since the plan's read, leaves the person's edit alone and says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aligner.core.doctor import Check
from aligner.core.model import Action, Change, Json, Record
from aligner.core.ownership import OwnedValue
from aligner.errors import ConfigError, PermanentError, SurfaceError
from aligner.state.settings import Settings
from aligner.surfaces.base import (
    EMAIL_SIGNATURE,
    DiffContext,
    EmailSignature,
    Finding,
    Ledger,
    Surface,
)
from aligner.surfaces.reread import LastRead
from aligner.surfaces.signature.html import (
    FIELD,
    NAME,
    SIGNATURE_LIMIT,
    html_to_text,
    one_line,
    preview_lines,
    rendered_template,
    sanitize,
    signature_section,
    themed_block,
    themed_signature,
    without_theme_blocks,
)
from aligner.surfaces.signature.section import SignatureSection
from aligner.theme.discretion import discretion_findings
from aligner.theme.schema import ThemeConfig
from aligner.vendors.google.account import GOOGLE
from aligner.vendors.google.errors import ErrorInfo, GoogleStatus, translate
from aligner.vendors.google.scopes import GMAIL_SETTINGS_BASIC
from aligner.vendors.google.settings import GoogleSettings

if TYPE_CHECKING:
    from aligner.sandbox.seed import SandboxSeed

# Microsoft Graph has no API for Outlook signatures: mailboxSettings
# (https://learn.microsoft.com/en-us/graph/api/resources/mailboxsettings) has no signature
# property; classic Outlook keeps signatures as files on each computer, and the mailbox's own
# (Outlook on the web) signature is reachable only through Exchange Online PowerShell's
# Set-MailboxMessageConfiguration, not through Graph.
OUTLOOK_REFUSED = (
    "Outlook signatures cannot be themed: Microsoft Graph has no API to read or write them; "
    'use provider = "gmail", or set enabled = false and change your Outlook signature by hand'
)
THEMED = "themed"  # the desired-state key; items themselves are keyed by send-as address
_SCOPE_REASONS = {
    "insufficientPermissions",
    "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
    "PERMISSION_DENIED",
}


def html_of(value: Json) -> str:
    """A signature value: a string, or a record's {"html": stored, "asked": sent}."""
    if isinstance(value, dict):
        return str(value.get("html") or "")
    return str(value or "")


_LTR_OPEN, _DIV_CLOSE = '<div dir="ltr">', "</div>"


def _canonical(signature: str) -> str:
    """A signature as Gmail would store it, minus what Gmail adds: sanitised, whitespace folded,
    and without the `<div dir="ltr">` wrapper(s) Gmail puts around a whole signature."""
    html = sanitize(signature)
    while html.startswith(_LTR_OPEN) and html.endswith(_DIV_CLOSE):
        inner = html[len(_LTR_OPEN) : -len(_DIV_CLOSE)]
        if not _balanced_divs(inner):
            break
        html = inner.strip()
    return " ".join(html.replace("><", "> <").split())


def _balanced_divs(html: str) -> bool:
    """Every div in sanitised `html` closes inside it (text `<` is escaped by the sanitiser)."""
    depth = 0
    for match in re.finditer(r"<(/?)div\b", html):
        depth += -1 if match.group(1) else 1
        if depth < 0:
            return False
    return depth == 0


def same_signature(record: Record | None) -> Callable[[Json, Json], bool]:
    """Equality that knows Gmail's rewrite of what aligner last wrote (from the record)."""
    known: dict[str, str] = {}
    applied = record.applied if record is not None else None
    if isinstance(applied, dict) and isinstance(applied.get("asked"), str):
        known[applied["asked"]] = html_of(applied)

    def same(a: Json, b: Json) -> bool:
        left, right = html_of(a), html_of(b)
        if left == right or known.get(left) == right or known.get(right) == left:
            return True
        return _canonical(left) == _canonical(right)

    return same


def resolve_address(configured: str | None, current: Mapping[str, Json]) -> str:
    """The send-as address to theme, as Gmail spells it; a clear error if there is none."""
    addresses: dict[str, str] = current["send_as"]
    if not configured:
        if current.get("primary"):
            return str(current["primary"])
        raise PermanentError("Gmail reported no primary send-as address", NAME)
    for address in addresses:
        if address.lower() == configured.strip().lower():
            return address
    raise PermanentError(
        f"signature.send_as: {configured} is not a send-as address of this Gmail account "
        f"(it has: {', '.join(addresses) or 'none'}); fix it or leave it out for the primary",
        NAME,
    )


class SignatureChanged(PermanentError):
    """The signature is no longer what the plan read in this run: a person changed it."""


def changed_since_read(address: str, action: Action) -> SignatureChanged:
    then = (
        "the next run reads it again"
        if action is Action.SET
        else ("the next plan shows the conflict")
    )
    return SignatureChanged(
        f"the signature of {address} changed in Gmail since aligner read it in this run "
        f"(someone edited it); left as it is — {then}",
        NAME,
    )


class GmailSignature(Surface):
    name = NAME
    title = "Gmail signature"
    section = SignatureSection
    accounts = (GOOGLE,)
    scopes = (GMAIL_SETTINGS_BASIC,)

    def __init__(self, service: Any) -> None:
        self.service = service  # a gmail v1 discovery client
        self.send_as = service.users().settings().sendAs()
        self._read = LastRead()

    # -- pure ------------------------------------------------------------------------------

    @classmethod
    def check(cls, config: ThemeConfig) -> list[Finding]:
        if signature_section(config).provider == "outlook":
            return [Finding(f"{NAME}.provider", OUTLOOK_REFUSED)]
        try:
            theme_part = themed_block(config)
        except ConfigError as exc:
            return [Finding.from_problem(p) for p in exc.problems]
        findings = []
        send_as = signature_section(config).send_as
        if send_as is not None and "@" not in send_as:
            findings.append(Finding("signature.send_as", f"{send_as!r} is not an email address"))
        if len(theme_part) > SIGNATURE_LIMIT:
            findings.append(
                Finding(
                    FIELD,
                    f"renders to {len(theme_part):,} characters; Gmail allows "
                    f"{SIGNATURE_LIMIT:,} for the whole signature",
                )
            )
        elif not html_to_text(theme_part) and "<img" not in theme_part:
            findings.append(Finding(FIELD, "renders to nothing a reader would see", "warning"))
        own = rendered_template(config)  # the person's part alone, without aligner's wrapper
        findings += discretion_findings(
            config,
            FIELD,
            html_to_text(own),
            "your signature goes on every email you write",
            markup=own,
        )
        return findings

    @classmethod
    def same_value(cls, a: Json, b: Json) -> bool:
        """Gmail rewrites the HTML it stores: compare signatures as it would store them."""
        return _canonical(html_of(a)) == _canonical(html_of(b))

    @classmethod
    def desired(cls, config: ThemeConfig, now: datetime) -> dict[str, Json]:
        if not config.schedule.in_window(now):
            return {THEMED: None}
        return {
            THEMED: {
                "send_as": signature_section(config).send_as,
                "mode": signature_section(config).mode,
                "theme": themed_block(config),
            }
        }

    @classmethod
    def transitions(cls, config: ThemeConfig) -> list[tuple[datetime, str]]:
        return [
            (config.schedule.window_start, "Gmail signature themed"),
            (config.schedule.window_end, "Gmail signature restored"),
        ]

    # -- I/O -------------------------------------------------------------------------------

    @classmethod
    def provides(cls, config: ThemeConfig) -> dict[str, Any]:
        """The themed signature (HTML and text) for mail aligner writes, e.g. the note."""
        block = themed_block(config)
        return {EMAIL_SIGNATURE: EmailSignature(block, html_to_text(block))}

    @classmethod
    def preview(cls, config: ThemeConfig, now: datetime) -> Any:
        from aligner.surfaces.signature.preview import preview

        return preview(config, now)

    @classmethod
    def doctor(cls, settings: Settings, config: ThemeConfig) -> Iterator[Check]:
        from aligner.surfaces.signature.doctor import signature_checks

        yield from signature_checks(settings, config)

    @classmethod
    def seed(cls, box: SandboxSeed) -> None:
        from aligner.sandbox.google.common import EMAIL, grant_sandbox_scopes, seed_account
        from aligner.sandbox.google.gmail.settings import seeded_send_as

        accounts = seed_account(box)
        grant_sandbox_scopes(accounts, *cls.scopes)
        box.add(seeded_send_as(accounts, EMAIL))

    @classmethod
    def connect(cls, settings: Settings, config: ThemeConfig) -> GmailSignature:
        from aligner.vendors.google.client import build_service

        google = settings.part(GoogleSettings)
        return cls(build_service(google, "gmail", "v1", cls.name, cls.scopes))

    def close(self) -> None:
        self.service.close()  # the run's one kept-alive connection

    def read(self, config: ThemeConfig, records: Mapping[str, Record]) -> dict[str, Json]:
        response = self._execute(self.send_as.list(userId="me"))
        self._read.mark()
        entries = response.get("sendAs") or []
        primary = next((e["sendAsEmail"] for e in entries if e.get("isPrimary")), None)
        return {
            "primary": primary,
            "send_as": {e["sendAsEmail"]: e.get("signature") or "" for e in entries},
        }

    def diff(
        self, ctx: DiffContext, desired: Mapping[str, Json], current: Mapping[str, Json]
    ) -> list[Change]:
        spec = None if ctx.revert else desired.get(THEMED)
        target = (
            None if ctx.revert else resolve_address(signature_section(ctx.config).send_as, current)
        )
        changes: list[Change] = []
        for address, record in sorted(ctx.records.items()):
            if address != target and record.active:
                changes += self._item(ctx, address, False, current, record)
        if target is not None:
            changes += self._item(ctx, target, spec is not None, current, ctx.records.get(target))
        return changes

    def _item(
        self,
        ctx: DiffContext,
        address: str,
        themed: bool,
        current: Mapping[str, Json],
        record: Record | None,
    ) -> list[Change]:
        owned = OwnedValue(self.name, address, same_signature(record), one_line)
        if address not in current["send_as"]:
            if record is None or not record.active:
                return []
            why = "this send-as address no longer exists in Gmail; nothing to give back"
            return [owned.conflict("", record.applied, why, release=True)]
        shows = current["send_as"][address]
        active = record is not None and record.active
        original = shows  # until a write succeeded, the surface still shows the original
        if record is not None and active and record.written:
            original = html_of(record.snapshot)
        want = themed_signature(ctx.config, original) if themed else None
        if want is not None and len(want) > SIGNATURE_LIMIT:
            raise PermanentError(
                f"the themed signature for {address} would be {len(want):,} characters "
                f"(your signature plus the theme); Gmail allows {SIGNATURE_LIMIT:,}: "
                f"shorten [signature] html",
                self.name,
            )
        restore_to = without_theme_blocks(html_of(record.snapshot)) if record else ""
        found = owned.diff(want, shows, _effective(record), restore_to, force=ctx.force)
        return [self._explained(ctx.config, change) for change in found]

    def _explained(self, config: ThemeConfig, change: Change) -> Change:
        """Signatures as plain HTML strings, a readable summary and a text-and-HTML diff."""
        before, after = html_of(change.before), html_of(change.after)
        if not change.writes:
            return replace(change, before=before, after=after)
        if change.action is Action.RESTORE:
            summary = f"back to the original: “{one_line(after)}”"
        elif signature_section(config).mode == "append":
            added = html_to_text(themed_block(config)).replace("\n", " / ")
            summary = f"theme appended: “{added}”"
        else:
            summary = f"replaced by the theme: “{one_line(after)}”"
        return replace(change, summary=summary, preview=tuple(preview_lines(before, after)))

    def apply(self, config: ThemeConfig, change: Change, ledger: Ledger) -> Json:
        if not self._read.fresh_for(change.key):
            self._unchanged_since_read(change)
        signature = html_of(change.after)
        request = self.send_as.patch(
            userId="me", sendAsEmail=change.key, body={"signature": signature}
        )
        try:
            response = self._execute(request, expect=(400, 403, 404))
        except GoogleStatus as exc:
            raise self._refusal(change.key, exc) from None
        return {"html": response.get("signature") or "", "asked": signature}

    def _unchanged_since_read(self, change: Change) -> None:
        try:
            entry = self._execute(
                self.send_as.get(userId="me", sendAsEmail=change.key), expect=(404,)
            )
        except GoogleStatus as exc:
            raise self._refusal(change.key, exc) from None
        if (entry.get("signature") or "") != html_of(change.before):  # edited since the read
            raise changed_since_read(change.key, change.action)

    def _execute(self, request: Any, expect: tuple[int, ...] = ()) -> Any:
        """Both calls are safe to repeat. They share the run's one kept-alive connection."""
        from aligner.vendors.google.client import execute

        return execute(request, self.name, GMAIL_SETTINGS_BASIC, retry=True, expect=expect)

    def _refusal(self, address: str, exc: GoogleStatus) -> SurfaceError:
        if exc.status == 404:
            return PermanentError(
                f"Gmail has no send-as address {address} (it was removed?); "
                "check [signature] send_as",
                self.name,
            )
        if (
            exc.status == 403
            and exc.reason not in _SCOPE_REASONS
            and "service account" in (exc.message)
        ):
            return PermanentError(
                f"Gmail lets apps change only the primary address's signature, not {address}'s "
                f"({exc.message}); set [signature] send_as to the primary address or leave it out",
                self.name,
            )
        if exc.status == 400:
            return PermanentError(
                f"Gmail refused the signature for {address} ({exc.reason}: {exc.message})",
                self.name,
            )
        return translate(
            ErrorInfo(exc.status, exc.reason, exc.message, None), self.name, GMAIL_SETTINGS_BASIC
        )

    def account_id(self, current: Mapping[str, Json], *, needed: bool) -> str | None:
        """The Google account's address: the primary send-as address (already read)."""
        primary = current.get("primary")
        return str(primary).lower() if primary else None

    @classmethod
    def describe_account(cls, account: str) -> str:
        return f"Google account {account}"

    def show(self, config: ThemeConfig, current: Mapping[str, Json]) -> list[str]:
        address = signature_section(config).send_as or current.get("primary") or ""
        for known, signature in current.get("send_as", {}).items():
            if known.lower() == address.lower():
                return [f"{known}: {one_line(signature, 400)}"]
        return [f"{address or '(no primary address)'}: (no such send-as address)"]


def _effective(record: Record | None) -> Record | None:
    """A record whose first write never completed still shows the original, not an edit."""
    if record is not None and record.active and record.applied is None:
        return replace(record, applied={"html": html_of(record.snapshot), "asked": None})
    return record
