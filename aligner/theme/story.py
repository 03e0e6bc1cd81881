"""Does the theme tell a true story? Checks beyond the schema, run by `validate` and `plan`.

- a metric must have improved by its own `better` direction (else it is an error);
- a window that has already ended is worth a warning: aligner will only give things back;
- a metric that no text mentions is worth a warning: it tells nobody anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pydantic import BaseModel

from aligner.theme.findings import Finding
from aligner.theme.schema import Metric, ThemeConfig
from aligner.theme.templates import referenced_metrics, with_unit

CORE_SECTIONS = frozenset({"theme", "interview", "window", "metrics"})


def story_findings(config: ThemeConfig, now: datetime | None = None) -> list[Finding]:
    """The errors always; the warnings only given `now` (for `validate` and `plan`, not for the
    `apply` that cron runs every few minutes)."""
    found = [worse_metric(m) for m in config.metrics if is_worse(m)]
    if now is None:
        return found
    return found + ended_window(config, now) + unmentioned_metrics(config)


def is_worse(metric: Metric) -> bool:
    if metric.better == "lower":
        return metric.after > metric.before
    return metric.after < metric.before


def worse_metric(metric: Metric) -> Finding:
    before = with_unit(metric.before, metric.unit)
    after = with_unit(metric.after, metric.unit)
    return Finding(
        f"metrics.{metric.id}",
        f'after ({after}) is worse than before ({before}) although better = "{metric.better}"',
    )


def ended_window(config: ThemeConfig, now: datetime) -> list[Finding]:
    end = config.schedule.window_end
    if now < end:
        return []
    ended = end.astimezone(config.zone).strftime("%a %d %b %Y %H:%M %Z")
    return [
        Finding(
            "interview.starts_at",
            f"the window ended on {ended}; aligner will only give back what it still holds",
            "warning",
        )
    ]


def unmentioned_metrics(config: ThemeConfig) -> list[Finding]:
    if not config.metrics:
        return []
    mentioned: set[str] = set()
    for _field, text in surface_texts(config):
        if "{" in text:
            mentioned |= referenced_metrics(config, text, original="")
    return [
        Finding(
            f"metrics.{m.id}",
            f"no text of an enabled surface mentions it (add {{{{ metrics.{m.id} | change }}}} "
            "to one, or remove the metric)",
            "warning",
        )
        for m in config.metrics
        if m.id not in mentioned
    ]


def surface_texts(config: ThemeConfig) -> list[tuple[str, str]]:
    """Every text field of every enabled surface section, with its dotted name."""
    texts: list[tuple[str, str]] = []
    for name in type(config).model_fields:
        section = getattr(config, name)
        if name in CORE_SECTIONS or not isinstance(section, BaseModel):
            continue
        if getattr(section, "enabled", True):
            texts.extend(_texts(section, name))
    return texts


def _texts(model: BaseModel, prefix: str) -> Iterator[tuple[str, str]]:
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = enumerate(value) if isinstance(value, tuple) else [(None, value)]
        for index, item in items:
            field = f"{prefix}.{name}" if index is None else f"{prefix}.{name}[{index}]"
            if isinstance(item, str):
                yield field, item
            elif isinstance(item, BaseModel):
                yield from _texts(item, field)
