"""The explicit registry of surfaces, in the order plans show them.

Adding a surface is one package under `aligner/surfaces/` and one line in REGISTRY; everything
else (the theme schema, `auth`, `doctor`, the sandbox, rehearse and status) reads it from here.
"""

from __future__ import annotations

from typing import Any

from aligner.state.settings import SettingsPart
from aligner.surfaces.base import Account, Surface
from aligner.surfaces.calendar import CalendarBlocks
from aligner.surfaces.github_status import GitHubStatus
from aligner.surfaces.note import InterviewNote
from aligner.surfaces.signature import GmailSignature
from aligner.surfaces.slack_status import SlackStatus
from aligner.surfaces.teams_status import TeamsStatus
from aligner.theme.schema import Section, ThemeConfig

REGISTRY: tuple[type[Surface], ...] = (
    SlackStatus,
    CalendarBlocks,
    GmailSignature,
    InterviewNote,
    GitHubStatus,
    TeamsStatus,
)


def by_name(name: str) -> type[Surface]:
    for cls in REGISTRY:
        if cls.name == name:
            return cls
    raise KeyError(name)


def theme_sections() -> tuple[tuple[str, type[Section], int], ...]:
    """Each surface's theme-file section: key, model and the schema version that added it."""
    return tuple((cls.name, cls.section, cls.since) for cls in REGISTRY)


def all_accounts() -> tuple[Account, ...]:
    """Every account any registered surface can act as, once each, in registry order."""
    found: dict[str, Account] = {}
    for cls in REGISTRY:
        for account in cls.accounts:
            found.setdefault(account.name, account)
    return tuple(found.values())


def settings_parts() -> tuple[type[SettingsPart], ...]:
    return tuple(dict.fromkeys(account.settings for account in all_accounts()))


def account_scopes(config: ThemeConfig, account: Account) -> list[str]:
    """The scopes the enabled surfaces acting as `account` need, each once."""
    scopes: list[str] = []
    for cls in REGISTRY:
        if cls.enabled(config) and cls.account(config).name == account.name:
            scopes += [s for s in cls.needed_scopes(config) if s not in scopes]
    return scopes


def provided(config: ThemeConfig, name: str) -> Any:
    """A piece of content some surface provides to others (`Surface.provides`), or None."""
    for cls in REGISTRY:
        found = cls.provides(config).get(name)
        if found is not None:
            return found
    return None
