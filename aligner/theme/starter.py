"""The annotated starter theme file that `aligner init` writes (config/example.toml is one)."""

from __future__ import annotations

from datetime import date
from importlib.resources import files

EXAMPLE_DATE = date(2026, 12, 3)


def starter_text(interview_date: date) -> str:
    template = files("aligner.theme").joinpath("starter.toml").read_text(encoding="utf-8")
    return template.replace("{interview_date}", interview_date.isoformat())
