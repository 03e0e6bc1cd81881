"""Whole-theme validation: the schema (config.py) plus what each enabled surface checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aligner.errors import ConfigError
from aligner.surfaces import REGISTRY
from aligner.surfaces.base import Finding
from aligner.theme.jinja_limits import time_budget
from aligner.theme.schema import StorySection, ThemeConfig, load_config
from aligner.theme.story import story_findings
from aligner.theme.templates import render

Now = datetime | Callable[[ThemeConfig], datetime] | None


@dataclass(frozen=True)
class CheckedTheme:
    config: ThemeConfig
    warnings: tuple[Finding, ...]


def findings(config: ThemeConfig, now: datetime | None = None) -> list[Finding]:
    """What the surfaces and the story checks find; all texts share one rendering budget."""
    found: list[Finding] = []
    with time_budget():
        found.extend(story_text_findings(config))
        for cls in REGISTRY:
            if cls.enabled(config):
                found.extend(cls.check(config))
        found.extend(story_findings(config, now))
    return found


def story_text_findings(config: ThemeConfig) -> list[Finding]:
    """The `[story]` texts (for `aligner onepager`) must render like every other template."""
    found: list[Finding] = []
    for key in StorySection.model_fields:
        try:
            render(config, f"story.{key}", getattr(config.story, key))
        except ConfigError as exc:
            found += [Finding.from_problem(p) for p in exc.problems]
    return found


def load_theme(path: Path, *, strict: bool = True, now: Now = None) -> CheckedTheme:
    """Load and fully validate a theme file. Errors raise ConfigError; warnings come back.

    With strict=False (for giving things back), only an unreadable file is an error: what the
    surfaces would refuse to show comes back as warnings. `now` (a moment, or a function of the
    loaded theme giving one) adds the warning for a window that has already ended.
    """
    config = load_config(path)
    moment = now(config) if callable(now) else now
    found = findings(config, moment)
    errors = [f for f in found if f.severity == "error"]
    if errors and strict:
        raise ConfigError([str(f) for f in errors])
    warnings = [f for f in found if f.severity == "warning"]
    warnings += [
        Finding(f.field, f"{f.message} (ignored: nothing new is shown)", "warning") for f in errors
    ]
    return CheckedTheme(config, tuple(warnings))
