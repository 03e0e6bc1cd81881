"""The one interface every surface implements, and the account a surface acts as.

A surface package (`aligner/surfaces/<name>/`) owns everything about its surface and offers it
here; the rest of aligner reads it through the registry (`aligner.surfaces.REGISTRY`):

    what                         where (on the Surface class)
    its theme-file section       `section` (the model; the theme schema is assembled from them)
    credentials and scopes       `account(config)` and `needed_scopes(config)`
    doctor checks                `doctor(settings, config)` (the account adds its own)
    sandbox seed                 `seed(box)`
    how rehearse/status show it  `title`, `show(config, current)`
    how `aligner preview` draws  `preview(config, now)` (a card from surfaces/preview_model.py)
    texts other surfaces use     `provides(config)` (e.g. the email signature the note appends)
    whether anything can be due  `idle(config, now, records)` (apply skips an idle surface)
    how the vendor stores values `same_value(a, b)` (e.g. Gmail's rewrite of a signature)

Class-level (pure, no I/O, no vendor SDK imported): enabled, check, idle, desired, transitions,
provides, same_value, preview. Instance-level (talks to the vendor): connect, read, diff, apply,
show, close.

`desired(config, now)` maps each item key to the value the surface should show, or None when
aligner should be absent there. `read` makes read-only calls (ideally one). `diff` turns desired,
current and the store's records into Change records. `apply` executes one Change and returns the
value as the surface stored it (so the next diff compares against what the vendor gave back).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from aligner.core.doctor import Check
from aligner.core.model import Change, Json, Record
from aligner.errors import ConfigError
from aligner.state.settings import Settings, SettingsPart
from aligner.theme.findings import Finding
from aligner.theme.schema import Section, ThemeConfig

if TYPE_CHECKING:
    from aligner.sandbox.seed import SandboxSeed
    from aligner.surfaces.preview_model import PreviewCard

__all__ = [
    "EMAIL_SIGNATURE",
    "STORE_OPTION",
    "Account",
    "AccountNeeds",
    "AuthFlow",
    "AuthOption",
    "AuthTalk",
    "DiffContext",
    "EmailSignature",
    "Finding",
    "Ledger",
    "Surface",
]


class Ledger(Protocol):
    """Durable progress for a surface mid-write (e.g. a note's intent before it is sent)."""

    def record(self, key: str) -> Record | None: ...

    def save_extra(self, key: str, extra: Mapping[str, Json]) -> None: ...

    def recall(self, key: str) -> Json:
        """What the surface remembered under `key` (see `remember`), or None."""

    def remember(self, key: str, value: Json) -> None:
        """Keep a surface-wide fact (not an item), e.g. that focus time does not stick here."""

    def say(self, message: str) -> None:
        """Tell the person something learnt while writing (shown with this change's outcome)."""


# -- content one surface provides to others (`Surface.provides`) -----------------------------------

EMAIL_SIGNATURE = "email_signature"


@dataclass(frozen=True)
class EmailSignature:
    """The themed email signature, as mail aligner writes carries it."""

    html: str  # sanitised
    text: str  # what a reader of the plain-text part sees


@dataclass(frozen=True)
class DiffContext:
    config: ThemeConfig
    now: datetime
    records: Mapping[str, Record]
    force: bool = False
    revert: bool = False  # give everything back now, whatever the window says
    memory: Mapping[str, Json] = field(default_factory=dict)  # what the surface remembered


# -- accounts and signing in ----------------------------------------------------------------------


@dataclass(frozen=True)
class AuthOption:
    """One command-line option of `aligner auth NAME` (the CLI turns it into a click option)."""

    flag: str  # e.g. "--client-id"
    help: str
    default: Any = None
    is_flag: bool = False
    flag_value: Any = None  # a value when the option is given bare (e.g. `--token`)
    path: bool = False  # a file path


STORE_OPTION = AuthOption(
    "--store",
    "Where to keep the credential: file (default, a private 0600 file) or keyring (the OS "
    "keychain; needs the keyring package).",
    default="file",
)


class AuthTalk(Protocol):
    """How a sign-in flow talks to the person; the CLI implements it (and prints)."""

    def say(self, text: str) -> None: ...

    def warn(self, text: str) -> None: ...

    def secret(self, prompt: str) -> str:
        """A secret typed at a hidden prompt, or read from standard input when it is piped."""

    def keep_secret(self, *values: str | None) -> None:
        """From now on never print these values."""

    def show_url(self, url: str, *, open_browser: bool) -> None: ...


class AuthFlow(ABC):
    """`aligner auth NAME`: get credentials for an account and store them privately."""

    help: ClassVar[str]
    options: ClassVar[tuple[AuthOption, ...]] = ()
    needs_theme: ClassVar[bool] = False  # True: a theme that does not validate is an error

    @abstractmethod
    def run(
        self,
        talk: AuthTalk,
        settings: Settings,
        config: ThemeConfig | None,
        scopes: Sequence[str],
        options: Mapping[str, Any],
    ) -> bool:
        """Sign in and store the credentials; False when the result falls short (exit 1)."""


@dataclass(frozen=True)
class AccountNeeds:
    """When doctor checks an account: now, and until when the theme needs it."""

    now: datetime
    until: datetime


class Account(ABC):
    """The vendor account surfaces act as: its settings, how to sign in, how doctor checks it.

    Several surfaces may share one account (the Google calendar, signature and note). `name`
    names its doctor lines (`google.credentials`) and its `aligner auth NAME` command.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    settings: ClassVar[type[SettingsPart]]

    def auth(self) -> AuthFlow | None:
        return None

    def doctor(
        self, settings: Settings, scopes: Mapping[str, Sequence[str]], needs: AccountNeeds
    ) -> Iterator[Check]:
        """Credentials present, private, working and granting `scopes` (by surface name), and
        lasting until `needs.until`."""
        return iter(())

    def seed(self, box: SandboxSeed) -> None:
        """Add what the account's fake services share (e.g. its token endpoint) to the sandbox."""
        return None

    def sandbox_env(self, url: str) -> dict[str, str]:
        """The ALIGNER_* variables that point this account at a sandbox served at `url`."""
        return {}


class Surface(ABC):
    name: ClassVar[str]  # in plans, the store and JSON; also the key of its theme-file section
    title: ClassVar[str]
    section: ClassVar[type[Section]]  # its theme-file section model
    accounts: ClassVar[tuple[Account, ...]]  # every account it can act as
    since: ClassVar[int] = 1  # the theme-schema version that added its section
    scopes: ClassVar[tuple[str, ...]] = ()
    # How many of its changes `apply` may write at once (each on its own thread). Above 1 only
    # when changes to different keys are independent; one key's changes always go in order.
    parallel_writes: ClassVar[int] = 1
    # Whether `account_id(..., needed=True)` makes a call of its own (the read does not show the
    # account). The engine then asks it alongside the read when the theme and the records say
    # the run will write here, instead of one round trip after it.
    account_costs_a_call: ClassVar[bool] = False

    # -- pure ------------------------------------------------------------------------------

    @classmethod
    def settings_of(cls, config: ThemeConfig) -> Section:
        return config.section(cls.name, cls.section)

    @classmethod
    def enabled(cls, config: ThemeConfig) -> bool:
        return bool(getattr(cls.settings_of(config), "enabled", False))

    @classmethod
    def account(cls, config: ThemeConfig) -> Account:
        """The account this surface acts as (it may depend on the theme, e.g. a provider)."""
        return cls.accounts[0]

    @classmethod
    def needed_scopes(cls, config: ThemeConfig) -> tuple[str, ...]:
        return cls.scopes

    @classmethod
    def title_for(cls, config: ThemeConfig) -> str:
        """How plans name this surface for this theme (e.g. after its provider)."""
        return cls.title

    @classmethod
    def enabling(cls, account: Account) -> str:
        """What a theme file says so this surface acts as `account` (`aligner auth`'s hint)."""
        return f"[{cls.name}] enabled = true"

    @classmethod
    def check(cls, config: ThemeConfig) -> list[Finding]:
        return []

    @classmethod
    def idle(
        cls,
        config: ThemeConfig,
        now: datetime,
        records: Mapping[str, Record],
        *,
        giving_back: bool = False,
    ) -> bool:
        """True when nothing can be due now, whatever the vendor shows: `apply` then neither
        reads nor writes the surface (no API call). By default: aligner holds nothing here and,
        unless giving back, wants nothing shown now."""
        if any(record.active for record in records.values()):
            return False
        if giving_back:
            return True
        try:
            wanted = cls.desired(config, now)
        except ConfigError:
            return False  # let the run report the problem
        return all(value is None for value in wanted.values())

    @classmethod
    @abstractmethod
    def desired(cls, config: ThemeConfig, now: datetime) -> dict[str, Json]: ...

    @classmethod
    def transitions(cls, config: ThemeConfig) -> list[tuple[datetime, str]]:
        return []

    @classmethod
    def provides(cls, config: ThemeConfig) -> dict[str, Any]:
        """Named pieces of content other surfaces may use (read through the registry)."""
        return {}

    @classmethod
    def same_value(cls, a: Json, b: Json) -> bool:
        """Whether two values of an item are one value as the vendor stores it (a vendor that
        rewrites what it is sent overrides this). The engine uses it to tell the value of
        aligner's own unanswered write from an original, which it must never capture as one."""
        return bool(a == b)

    @classmethod
    def preview(cls, config: ThemeConfig, now: datetime) -> PreviewCard | None:
        """What people see of this surface at `now` (for `aligner preview`); pure, may raise
        ConfigError when a template does not render."""
        return None

    @classmethod
    def doctor(cls, settings: Settings, config: ThemeConfig) -> Iterator[Check]:
        """Checks of what the theme relies on (one cheap read each); the account checks itself."""
        return iter(())

    @classmethod
    def seed(cls, box: SandboxSeed) -> None:
        """Add this surface's fake service(s), seeded with a believable person, to the sandbox."""
        return None

    # -- I/O -------------------------------------------------------------------------------

    @classmethod
    @abstractmethod
    def connect(cls, settings: Settings, config: ThemeConfig) -> Surface:
        """Build a client from settings; raise AuthError when credentials are missing."""

    @abstractmethod
    def read(self, config: ThemeConfig, records: Mapping[str, Record]) -> dict[str, Json]: ...

    @abstractmethod
    def diff(
        self, ctx: DiffContext, desired: Mapping[str, Json], current: Mapping[str, Json]
    ) -> list[Change]: ...

    @abstractmethod
    def apply(self, config: ThemeConfig, change: Change, ledger: Ledger) -> Json: ...

    def account_id(self, current: Mapping[str, Json], *, needed: bool) -> str | None:
        """Who this surface acts as in this run, as a stable id (e.g. an email address), or
        None when unknown: then it is not compared. Taken from what `read` returned where the
        read shows it (no extra call). A surface whose identity costs a call makes it only when
        `needed` (the run has something to write, give back or report here).

        The engine keeps the id per surface and compares it on every run that reads: a
        different account stops the surface (see `aligner.core.accounts`)."""
        return None

    @classmethod
    def describe_account(cls, account: str) -> str:
        """The account id as a person reads it in the one line that reports a change."""
        return account

    def close(self) -> None:
        """The run is over: close any connection kept open for it (one per vendor per run, so
        every call of a run can reuse it). Called once by the session that connected it."""
        return None

    def show(self, config: ThemeConfig, current: Mapping[str, Json]) -> list[str]:
        """Lines describing what the surface shows now (for rehearse and status)."""
        return [f"{key}: {value}" for key, value in current.items()]
