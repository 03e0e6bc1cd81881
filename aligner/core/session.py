"""The use cases behind the CLI and the daemon: plan, apply, revert, status.

Wires settings, theme, store, lock and surfaces together; prints nothing and chooses no exit code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from pydantic import BaseModel
from pydantic_core import to_json  # encodes as model_dump_json did

from aligner.core.accounts import settle as settle_accounts
from aligner.core.engine import Connected, Engine, surfaces_to_run
from aligner.core.model import ApplyResult, Plan
from aligner.errors import ConfigError, SurfaceError
from aligner.state.lock import exclusive
from aligner.state.settings import Settings
from aligner.state.store import Store
from aligner.surfaces import REGISTRY
from aligner.surfaces.base import Surface
from aligner.theme.schema import ThemeConfig
from aligner.theme.timespec import TimeSpecError, parse_instant

META = "aligner"  # the store's meta scope for run-wide flags
REVERT_KEY = "revert"


def resolve_now(settings: Settings, config: ThemeConfig, at: str | None = None) -> datetime:
    """`--at`, else ALIGNER_NOW, else the real clock. Text is read like a theme time field."""
    for field, text in (("--at", at), ("ALIGNER_NOW", settings.now)):
        if text:
            try:
                return parse_instant(text, config.zone, config.schedule.interview_start)
            except TimeSpecError as exc:
                raise ConfigError(f"{field}: {exc}") from None
    return datetime.now(UTC)


def theme_fingerprint(config: ThemeConfig) -> str:
    """What a revert is tied to: the theme as parsed, keys left at their default excluded, so a
    release that adds a key (with a default) does not lift a revert in force. `[story]` (the
    one-pager's texts) is left out too: no surface shows it, so editing it lifts nothing."""
    dumped = config.model_dump(mode="json", exclude_defaults=True, exclude={"story"})
    text = json.dumps(dumped, sort_keys=True)
    return "v2:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def legacy_fingerprint(config: ThemeConfig) -> str:
    """The fingerprint release 0.1 recorded: the whole dump with defaults, as its schema had it
    (keys and sections added since carry `since` in their field's json_schema_extra)."""
    return hashlib.sha256(to_json(dump_v1(config))).hexdigest()[:16]


def dump_v1(model: BaseModel) -> dict[str, object]:
    dumped: dict[str, object] = {}
    for name, field in type(model).model_fields.items():
        extra = field.json_schema_extra
        if isinstance(extra, dict) and int(str(extra.get("since", 1))) > 1:
            continue
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            dumped[name] = dump_v1(value)
        elif isinstance(value, tuple) and value and isinstance(value[0], BaseModel):
            dumped[name] = [dump_v1(v) for v in value]
        else:
            dumped[name] = value
    return dumped


def reverted_at(store: Store, config: ThemeConfig) -> str | None:
    marker = store.meta(META, REVERT_KEY)
    if not isinstance(marker, dict):
        return None
    recorded = str(marker.get("theme"))
    current = (
        theme_fingerprint(config) if recorded.startswith("v2:") else legacy_fingerprint(config)
    )
    return str(marker.get("at")) if recorded == current else None


def connect_all(
    settings: Settings, config: ThemeConfig, classes: list[type[Surface]]
) -> dict[str, Connected]:
    connected: dict[str, Connected] = {}
    for cls in classes:
        try:
            connected[cls.name] = cls.connect(settings, config)
        except SurfaceError as exc:
            connected[cls.name] = exc
    return connected


@dataclass
class Session:
    """One open state store plus the surfaces for one theme."""

    settings: Settings
    config: ThemeConfig
    store: Store
    surfaces: Mapping[str, Connected]

    @property
    def engine(self) -> Engine:
        return Engine(self.config, self.surfaces, self.store)

    def reverted_at(self) -> str | None:
        """A `revert` stays in force for this exact theme until `resume` (or a theme change)."""
        return reverted_at(self.store, self.config)

    def plan(self, now: datetime, *, force: bool = False, adopt_account: bool = False) -> Plan:
        """`adopt_account`: a surface whose account changed starts afresh (see core/accounts)."""
        when = self.reverted_at()
        plan = self.engine.plan(
            now, force=force, revert=when is not None, adopt_account=adopt_account
        )
        return replace(plan, reverted_at=when)

    def apply(
        self, now: datetime, *, force: bool = False, adopt_account: bool = False
    ) -> ApplyResult:
        plan = self.plan(now, force=force, adopt_account=adopt_account)
        settle_accounts(self.store, plan, now)
        result = self.engine.apply(plan, now)
        self.prune(now)
        return result

    def resume(self, now: datetime) -> str | None:
        """Lift a revert (`aligner resume`): the next apply shows the theme again. Returns when
        the lifted revert was made, or None when none was in force."""
        when = self.reverted_at()
        if when is not None:
            self.store.set_meta(META, REVERT_KEY, {"lifted": when, "at": now.isoformat()}, now)
        return when

    def revert(self, now: datetime) -> ApplyResult:
        plan = self.engine.plan(now, revert=True)
        marker = {"theme": theme_fingerprint(self.config), "at": now.isoformat()}
        self.store.set_meta(META, REVERT_KEY, marker, now)
        settle_accounts(self.store, plan, now)
        result = self.engine.apply(replace(plan, reverted_at=now.isoformat()), now)
        self.prune(now)
        return result

    def prune(self, now: datetime) -> None:
        settings = self.settings
        self.store.prune(now, settings.journal_keep_days, settings.journal_keep_rows)


@contextmanager
def open_session(
    settings: Settings,
    config: ThemeConfig,
    *,
    lock: bool,
    readonly: bool = False,
    surfaces: Mapping[str, Connected] | None = None,
    busy_at: datetime | None = None,
) -> Iterator[Session]:
    """Open the store (under the run lock when `lock`), and connect the surfaces to run.

    `busy_at` (for `apply` and the daemon): leave out the surfaces for which nothing can be due
    at that moment, so they cost no API call and no token refresh (`apply --refresh` reads all).
    A `readonly` session (plan, status) never writes: it reads while another run writes, and a
    missing database reads as empty without being created.
    """
    guard = exclusive(settings.lock_path, settings.lock_wait) if lock else _nothing()
    with (
        guard,  # taken before the store opens: opening may migrate it
        Store(settings.state_db, readonly=readonly, busy_wait=settings.lock_wait) as store,
    ):
        owned = surfaces is None  # connected here: closed here when the session ends
        if surfaces is None:
            back = reverted_at(store, config) is not None
            chosen = surfaces_to_run(REGISTRY, config, store, busy_at=busy_at, giving_back=back)
            surfaces = connect_all(settings, config, chosen)
        try:
            yield Session(settings, config, store, surfaces)
        finally:
            if owned:
                close_all(surfaces)


def close_all(surfaces: Mapping[str, Connected]) -> None:
    """Let each connected surface close its connections (`Surface.close`) at the end of a run."""
    for surface in surfaces.values():
        if isinstance(surface, Surface):
            with suppress(Exception):  # closing never hides the run's own outcome
                surface.close()


@contextmanager
def _nothing() -> Iterator[None]:
    yield
