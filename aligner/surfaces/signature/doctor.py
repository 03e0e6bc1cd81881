"""What `aligner doctor` checks of the signature: Gmail settings readable, the address there."""

from __future__ import annotations

from collections.abc import Iterator

from aligner.core.doctor import Check, fail, ok
from aligner.state.settings import Settings
from aligner.surfaces.signature.html import NAME, signature_section
from aligner.theme.schema import ThemeConfig
from aligner.vendors.google.account import read_check
from aligner.vendors.google.scopes import GMAIL_SETTINGS_BASIC


def signature_checks(settings: Settings, config: ThemeConfig) -> Iterator[Check]:
    problem, body = read_check(
        f"{NAME}.works",
        settings,
        ("gmail", "v1"),
        GMAIL_SETTINGS_BASIC,
        lambda service: service.users().settings().sendAs().list(userId="me"),
    )
    if problem is not None:
        yield problem
        return
    yield ok(f"{NAME}.works", "Gmail settings are readable")
    addresses = {str(a.get("sendAsEmail", "")).lower(): a for a in body.get("sendAs") or []}
    wanted = signature_section(config).send_as
    if wanted is None:
        primary = next((e for e, a in addresses.items() if a.get("isPrimary")), "")
        yield ok(f"{NAME}.send_as", f"primary address {primary or '(unknown)'}")
    elif wanted.lower() in addresses:
        yield ok(f"{NAME}.send_as", f"send-as address {wanted} exists")
    else:
        have = ", ".join(sorted(addresses)) or "none"
        yield fail(
            f"{NAME}.send_as",
            f"send-as address {wanted} is not one of your Gmail addresses ({have})",
            "fix [signature] send_as, or add it in Gmail → Settings → Accounts",
        )
