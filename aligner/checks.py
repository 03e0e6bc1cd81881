"""Whole-theme validation: the schema (config.py) plus what each enabled surface checks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aligner.config import ThemeConfig, load_config
from aligner.errors import ConfigError
from aligner.surfaces import REGISTRY
from aligner.surfaces.base import Finding


@dataclass(frozen=True)
class CheckedTheme:
    config: ThemeConfig
    warnings: tuple[Finding, ...]


def findings(config: ThemeConfig) -> list[Finding]:
    found: list[Finding] = []
    for cls in REGISTRY:
        if cls.enabled(config):
            found.extend(cls.check(config))
    return found


def load_theme(path: Path) -> CheckedTheme:
    """Load and fully validate a theme file. Errors raise ConfigError; warnings come back."""
    config = load_config(path)
    found = findings(config)
    errors = [str(f) for f in found if f.severity == "error"]
    if errors:
        raise ConfigError(errors)
    return CheckedTheme(config, tuple(f for f in found if f.severity == "warning"))
