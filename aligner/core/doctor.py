"""`aligner doctor`: everything a real run needs, checked, each with what to do about it.

One `Check` per line: the theme file, its timezone, the state directory, then for every account
an enabled surface uses its credentials (present, private, working with one cheap read call,
carrying the needed scopes), then what each enabled surface relies on (e.g. the Gmail send-as
address). Accounts and surfaces bring their own checks (`Account.doctor`, `Surface.doctor`);
this module knows none of them. Returns data only; the CLI prints it.
"""

from __future__ import annotations

import tempfile
import tomllib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from aligner.state.settings import Settings, SettingsPart
    from aligner.surfaces.base import Account
    from aligner.theme.schema import ThemeConfig

Status = Literal["ok", "fail", "warn", "unknown"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    remedy: str = ""

    def __post_init__(self) -> None:
        if self.remedy and self.remedy.strip(" .") in self.detail:  # said once is enough
            object.__setattr__(self, "remedy", "")

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def fail(name: str, detail: str, remedy: str = "") -> Check:
    return Check(name, "fail", detail, remedy)


def token_check(account: str, title: str, part: SettingsPart, field: str) -> Check:
    """`<account>.credentials` for a token setting: present, private, and where it came from."""
    from aligner.state.credentials import RefusedSecret, origin

    name, token = f"{account}.credentials", getattr(part, field)
    if token is None:
        remedy = f"run `aligner auth {account}` (or set ALIGNER_{field.upper()})"
        return fail(name, f"no {title} token", remedy)
    if isinstance(token, RefusedSecret):
        return fail(name, token.problem)
    return ok(name, f"{title} token from {origin(part, field)}")


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in order. Never raises for a problem it can describe."""
    from aligner.surfaces import REGISTRY
    from aligner.surfaces.base import AccountNeeds

    theme, config = check_theme(settings)
    checks = [theme, check_timezone(settings, config), check_state_dir(settings)]
    if config is None:
        return checks
    enabled = [cls for cls in REGISTRY if cls.enabled(config)]
    accounts: dict[str, tuple[Account, dict[str, Sequence[str]]]] = {}
    for cls in enabled:
        account = cls.account(config)
        needs = accounts.setdefault(account.name, (account, {}))[1]
        needs[cls.name] = cls.needed_scopes(config)
    when = AccountNeeds(doctor_now(settings, config), config.schedule.window_end)
    for account, needs in accounts.values():
        checks += guarded(account.name, partial(account.doctor, settings, needs, when))
    for cls in enabled:
        checks += guarded(cls.name, partial(cls.doctor, settings, config))
    return checks


def doctor_now(settings: Settings, config: ThemeConfig) -> datetime:
    """The real clock, or ALIGNER_NOW when it is frozen (as every command reads it)."""
    from aligner.core.session import resolve_now
    from aligner.errors import ConfigError

    try:
        return resolve_now(settings, config)
    except ConfigError:
        return datetime.now(UTC)


def guarded(name: str, produce: Callable[[], Iterable[Check]]) -> list[Check]:
    try:
        return list(produce())
    except Exception as exc:  # a check must never end the report
        return [fail(name, f"the check itself failed ({type(exc).__name__}: {exc})")]


# -- theme, timezone, state dir -----------------------------------------------------------------


def check_theme(settings: Settings) -> tuple[Check, ThemeConfig | None]:
    from aligner.errors import ConfigError
    from aligner.theme.validation import load_theme

    try:
        checked = load_theme(settings.config)
    except ConfigError as exc:
        return fail("theme", "; ".join(exc.problems), "fix the theme file"), None
    return ok("theme", f"{settings.config} is valid"), checked.config


def check_timezone(settings: Settings, config: ThemeConfig | None) -> Check:
    from aligner.theme.timespec import TimeSpecError, load_zone

    if config is not None:
        return ok("timezone", f"{config.theme.timezone} is a known timezone")
    try:
        data = tomllib.loads(settings.config.read_text(encoding="utf-8"))
        zone = str(data["theme"]["timezone"])
    except (OSError, ValueError, KeyError, TypeError):
        return Check("timezone", "unknown", "no theme.timezone to check")
    try:
        load_zone(zone)
    except TimeSpecError as exc:
        return fail("timezone", str(exc), 'use an IANA name such as "Europe/Berlin"')
    return ok("timezone", f"{zone} is a known timezone")


def check_state_dir(settings: Settings) -> Check:
    folder = settings.state_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except OSError as exc:
        return fail(
            "state_dir",
            f"{folder} is not writable ({exc.strerror or exc})",
            "set ALIGNER_STATE_DIR to a folder you can write, or fix its permissions",
        )
    return ok("state_dir", f"{folder} is writable")


def probe(name: str, read: Callable[[], object]) -> tuple[Check | None, object]:
    """One cheap read for the check `name`; a failure becomes its ✗ line."""
    from aligner.errors import AlignerError

    try:
        return None, read()
    except AlignerError as exc:
        return fail(name, str(exc)), None


__all__ = ["Check", "Iterator", "fail", "ok", "run_checks"]
