"""The theme file: pydantic models, frozen once loaded.

This module holds the core of the schema (`[theme]`, `[interview]`, `[window]`, `[[metrics]]`,
`[story]`); each surface package brings its own section model, and `theme_model` assembles the
whole file's model from them (the registry in `aligner.surfaces` says which sections exist).

Time fields stay text here (so error messages can quote them); `ThemeConfig.schedule` holds the
resolved instants of the interview and the window, and `ThemeConfig.instant` resolves any other
time field with the same rules (see `aligner.theme.timespec`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from aligner.errors import ConfigError
from aligner.theme.timespec import TimeSpecError, load_zone, parse_instant


def _time_text(value: Any) -> Any:
    """TOML has native date-times; keep every time field as ISO text."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


TimeText = Annotated[str, BeforeValidator(_time_text)]
MAX_MAGNITUDE = 1e15  # metric values: finite and printable with thousands separators
MetricValue = Annotated[float, Field(allow_inf_nan=False, ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)]
Discretion = Literal["error", "warn", "off"]
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-") or "theme"


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ThemeSection(Section):
    name: str = Field(min_length=1)
    emoji: str = ""
    timezone: str
    id: str | None = None
    discretion: Discretion = "error"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            load_zone(value)
        except TimeSpecError as exc:
            raise ValueError(str(exc)) from exc
        return value

    @property
    def key(self) -> str:
        """Stable identifier: `id` when given, else a slug of the name."""
        return slugify(self.id or self.name)


class InterviewSection(Section):
    company: str = ""
    role: str = ""
    starts_at: TimeText
    ends_at: TimeText = "+1h"


class WindowSection(Section):
    start: TimeText = "-24h"
    end: TimeText | None = None


class Metric(Section):
    id: str
    label: str
    before: MetricValue
    after: MetricValue
    unit: str = ""
    better: Literal["lower", "higher"] = "lower"

    @field_validator("id")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not _IDENT.match(value):
            raise ValueError("must be lower-case letters, digits and _ (used as metrics.<id>)")
        return value


class StorySection(Section):
    """The impact story `aligner onepager` tells around the metrics (each text a template)."""

    problem: str = ""
    hypothesis: str = ""
    experiment: str = ""
    implication: str = ""
    next_steps: str = ""


@dataclass(frozen=True)
class Schedule:
    """The resolved instants (all UTC) every surface shares."""

    zone: ZoneInfo
    interview_start: datetime
    interview_end: datetime
    window_start: datetime
    window_end: datetime

    def phase(self, now: datetime) -> Literal["before", "during", "after"]:
        if now < self.window_start:
            return "before"
        if now < self.window_end:
            return "during"
        return "after"

    def in_window(self, now: datetime) -> bool:
        return self.phase(now) == "during"


class ThemeConfig(Section):
    theme: ThemeSection
    interview: InterviewSection
    window: WindowSection = WindowSection()
    metrics: tuple[Metric, ...] = ()
    story: StorySection = Field(default=StorySection(), json_schema_extra={"since": 2})

    _schedule: Schedule | None = PrivateAttr(default=None)

    @field_validator("metrics")
    @classmethod
    def _unique_metric_ids(cls, value: tuple[Metric, ...]) -> tuple[Metric, ...]:
        seen: set[str] = set()
        for metric in value:
            if metric.id in seen:
                raise ValueError(f"metric id {metric.id!r} is used twice")
            seen.add(metric.id)
        return value

    @model_validator(mode="after")
    def _resolve_schedule(self) -> ThemeConfig:
        zone = load_zone(self.theme.timezone)
        start = _resolve(self.interview.starts_at, zone, None, "interview.starts_at")
        end = _resolve(self.interview.ends_at, zone, start, "interview.ends_at")
        if end <= start:
            raise ValueError("interview.ends_at: must be after interview.starts_at")
        window_start = _resolve(self.window.start, zone, start, "window.start")
        window_end = (
            _resolve(self.window.end, zone, start, "window.end") if self.window.end else end
        )
        if window_end <= window_start:
            raise ValueError("window.end: must be after window.start")
        self._schedule = Schedule(zone, start, end, window_start, window_end)
        return self

    @property
    def schedule(self) -> Schedule:
        assert self._schedule is not None
        return self._schedule

    @property
    def zone(self) -> ZoneInfo:
        return self.schedule.zone

    def instant(self, text: str, field: str) -> datetime:
        """Resolve a time field (relative ones to the interview start); ConfigError names it."""
        try:
            return parse_instant(text, self.zone, self.schedule.interview_start)
        except TimeSpecError as exc:
            raise ConfigError(f"{field}: {exc}") from exc

    def metric(self, metric_id: str) -> Metric | None:
        return next((m for m in self.metrics if m.id == metric_id), None)

    def section(self, key: str, model: type[S]) -> S:
        """A surface's section of the theme file, typed as that surface's model."""
        value = getattr(self, key, None)
        if not isinstance(value, model):
            raise KeyError(f"the theme model has no [{key}] section of type {model.__name__}")
        return value


S = TypeVar("S", bound=Section)


@lru_cache(maxsize=8)
def theme_model(sections: tuple[tuple[str, type[Section], int], ...]) -> type[ThemeConfig]:
    """The model of a whole theme file: the core sections plus one per surface (key, model,
    and the schema version that added it: `since`, for fingerprints older releases wrote)."""
    fields: dict[str, Any] = {
        key: (model, Field(default=model(), json_schema_extra={"since": since}))
        for key, model, since in sections
    }
    return create_model("ThemeConfig", __base__=ThemeConfig, **fields)


def _resolve(text: str, zone: ZoneInfo, anchor: datetime | None, field: str) -> datetime:
    try:
        return parse_instant(text, zone, anchor)
    except TimeSpecError as exc:
        raise ValueError(f"{field}: {exc}") from exc


def provider_named(value: object, meant: Mapping[str, str], section: str) -> object:
    """A `provider` as written, or a ValueError naming the right value when the person wrote a
    vendor's other name (`[calendar] provider = "outlook"` means "microsoft")."""
    right = meant.get(str(value).strip().lower()) if isinstance(value, str) else None
    if right is not None and right != value:
        raise ValueError(f'"{value}" is not a {section} provider: write provider = "{right}"')
    return value


def describe_validation_error(error: ValidationError) -> list[str]:
    """One `field: message` line per pydantic problem."""
    problems = []
    for item in error.errors():
        field = _dotted(item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see `aligner init` for every key)"
        elif item["type"] == "missing":
            message = "is required"
        if ": " in message and not field:
            problems.append(message)
        else:
            problems.append(f"{field}: {message}" if field else message)
    return problems


def _dotted(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def parse_config(data: dict[str, Any]) -> ThemeConfig:
    from aligner.surfaces import theme_sections  # the registry: which sections exist

    try:
        return theme_model(theme_sections()).model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


def load_config(path: Path) -> ThemeConfig:
    """Read and validate a theme file; every problem becomes a ConfigError line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no theme file here (create one with `aligner init {path}`, "
            "or pass --config PATH / set ALIGNER_CONFIG)"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a theme file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return parse_config(data)
