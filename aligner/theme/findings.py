"""Validation findings: one problem in the theme file, phrased for the person editing it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Finding:
    """One validation problem, phrased for the person editing the theme file."""

    field: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"

    @classmethod
    def from_problem(cls, problem: str) -> Finding:
        """From a ConfigError line 'field: message'."""
        field, _, message = problem.partition(": ")
        return cls(field, message) if message else cls("theme", problem)
