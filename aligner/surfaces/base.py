"""The one interface every surface implements.

Class-level (pure, no I/O):  enabled, check, desired, transitions
Instance-level (talks to the vendor):  connect, read, diff, apply, show

`desired(config, now)` maps each item key to the value the surface should show, or None when
aligner should be absent there. `read` makes read-only calls (ideally one). `diff` turns desired,
current and the store's records into Change records. `apply` executes one Change and returns the
value as the surface stored it (so the next diff compares against what the vendor gave back).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Protocol

from aligner.core.model import Change, Json, Record
from aligner.state.settings import Settings
from aligner.theme.findings import Finding
from aligner.theme.schema import ThemeConfig

__all__ = ["DiffContext", "Finding", "Ledger", "Surface"]


class Ledger(Protocol):
    """Durable progress for a surface mid-write (e.g. a note's intent before it is sent)."""

    def record(self, key: str) -> Record | None: ...

    def save_extra(self, key: str, extra: Mapping[str, Json]) -> None: ...

    def remember(self, key: str, value: Json) -> None:
        """Keep a surface-wide fact (not an item), e.g. what the account does with a feature."""

    def recall(self, key: str) -> Json:
        """A fact kept with `remember`, or None."""

    def say(self, message: str) -> None:
        """Tell the person something learnt while writing (shown with this change's outcome)."""


@dataclass(frozen=True)
class DiffContext:
    config: ThemeConfig
    now: datetime
    records: Mapping[str, Record]
    force: bool = False
    revert: bool = False  # give everything back now, whatever the window says
    memory: Mapping[str, Json] = field(default_factory=dict)  # what the surface remembered


class Surface(ABC):
    name: ClassVar[str]
    title: ClassVar[str]
    scopes: ClassVar[tuple[str, ...]] = ()
    secrets: ClassVar[tuple[str, ...]] = ()

    # -- pure ------------------------------------------------------------------------------

    @classmethod
    @abstractmethod
    def enabled(cls, config: ThemeConfig) -> bool: ...

    @classmethod
    def check(cls, config: ThemeConfig) -> list[Finding]:
        return []

    @classmethod
    @abstractmethod
    def desired(cls, config: ThemeConfig, now: datetime) -> dict[str, Json]: ...

    @classmethod
    def transitions(cls, config: ThemeConfig) -> list[tuple[datetime, str]]:
        return []

    # -- I/O -------------------------------------------------------------------------------

    @classmethod
    @abstractmethod
    def connect(cls, settings: Settings) -> Surface:
        """Build a client from settings; raise AuthError when credentials are missing."""

    @abstractmethod
    def read(self, config: ThemeConfig, records: Mapping[str, Record]) -> dict[str, Json]: ...

    @abstractmethod
    def diff(
        self, ctx: DiffContext, desired: Mapping[str, Json], current: Mapping[str, Json]
    ) -> list[Change]: ...

    @abstractmethod
    def apply(self, config: ThemeConfig, change: Change, ledger: Ledger) -> Json: ...

    def show(self, config: ThemeConfig, current: Mapping[str, Json]) -> list[str]:
        """Lines describing what the surface shows now (for rehearse and status)."""
        return [f"{key}: {value}" for key, value in current.items()]
