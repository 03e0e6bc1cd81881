"""Rendering user-facing text: sandboxed Jinja2, StrictUndefined, and the metric filters.

Variables: `theme`, `interview`, `window`, `metrics` (by id). Filters:
    change   28 ms → 19 ms (−32%)
    delta    −9 ms
    pct      −32%
    local    a datetime formatted in the theme timezone (strftime pattern optional)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, Undefined, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from aligner.errors import ConfigError
from aligner.theme.schema import Metric, ThemeConfig

MINUS = "\u2212"
ARROW = "\u2192"


def format_number(value: float) -> str:
    """3400 -> '3,400'; 19.0 -> '19'; 0.125 -> '0.125'; negatives use a real minus sign."""
    text = f"{abs(value):,.3f}".rstrip("0").rstrip(".")
    return f"{MINUS}{text}" if value < 0 else text


def with_unit(value: float, unit: str) -> str:
    number = format_number(value)
    if not unit:
        return number
    if unit in {"%", "×", "x"}:
        return f"{number}{unit}"
    if unit in {"$", "€", "£"}:
        return f"{unit}{number}"
    return f"{number} {unit}"


def _signed(text: str, value: float) -> str:
    return text if value < 0 else f"+{text}"


def metric_delta(metric: Metric) -> str:
    diff = metric.after - metric.before
    return _signed(with_unit(diff, metric.unit), diff)


def metric_pct(metric: Metric) -> str:
    if metric.before == 0:
        return "n/a"
    pct = (metric.after - metric.before) / abs(metric.before) * 100
    return _signed(f"{format_number(round(pct))}%", round(pct))


def metric_change(metric: Metric) -> str:
    before = with_unit(metric.before, metric.unit)
    after = with_unit(metric.after, metric.unit)
    return f"{before} {ARROW} {after} ({metric_pct(metric)})"


@dataclass(frozen=True)
class MetricView:
    """What a template sees as `metrics.<id>`; prints as 'label: change'."""

    id: str
    label: str
    before: float
    after: float
    unit: str
    better: str
    metric: Metric

    def __str__(self) -> str:
        return f"{self.label}: {metric_change(self.metric)}"


def _as_metric(value: Any) -> Metric:
    if isinstance(value, MetricView):
        return value.metric
    if isinstance(value, Metric):
        return value
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    raise TemplateError(f"expected a metric such as metrics.latency, got {value!r}")


@lru_cache(maxsize=64)
def _environment(zone_name: str) -> SandboxedEnvironment:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(zone_name)
    env = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
    )

    def local(value: datetime, fmt: str = "%a %d %b %Y, %H:%M %Z") -> str:
        return value.astimezone(zone).strftime(fmt)

    env.filters["change"] = lambda v: metric_change(_as_metric(v))
    env.filters["delta"] = lambda v: metric_delta(_as_metric(v))
    env.filters["pct"] = lambda v: metric_pct(_as_metric(v))
    env.filters["local"] = local
    env.filters["datetime"] = local
    return env


def context(config: ThemeConfig) -> dict[str, Any]:
    sched = config.schedule
    zone = sched.zone
    return {
        "theme": {**config.theme.model_dump(), "id": config.theme.key},
        "interview": {
            "company": config.interview.company,
            "role": config.interview.role,
            "starts_at": sched.interview_start.astimezone(zone),
            "ends_at": sched.interview_end.astimezone(zone),
        },
        "window": {
            "start": sched.window_start.astimezone(zone),
            "end": sched.window_end.astimezone(zone),
        },
        "metrics": {
            m.id: MetricView(m.id, m.label, m.before, m.after, m.unit, m.better, m)
            for m in config.metrics
        },
    }


def render(config: ThemeConfig, field: str, source: str, **extra: Any) -> str:
    """Render one template; any problem is a ConfigError naming `field`."""
    env = _environment(config.theme.timezone)
    try:
        return env.from_string(source).render(**context(config), **extra)
    except UndefinedError as exc:
        known = ["theme", "interview", "window"] + [f"metrics.{m.id}" for m in config.metrics]
        message = str(exc.message).replace("'dict object' has no attribute", "unknown name")
        raise ConfigError(f"{field}: {message} (known: {', '.join(known)})") from None
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise ConfigError(f"{field}: template error{where}: {exc.message}") from None


def referenced_metrics(config: ThemeConfig, source: str) -> set[str]:
    """Which metric ids a template actually uses (by rendering with a recording view)."""
    used: set[str] = set()

    class Recording(dict[str, Any]):
        def __getitem__(self, key: str) -> Any:
            used.add(key)
            return super().__getitem__(key)

        def __getattr__(self, key: str) -> Any:
            try:
                return self[key]
            except KeyError:
                raise AttributeError(key) from None

    base = context(config)["metrics"]
    env = _environment(config.theme.timezone)
    try:
        ctx = {**context(config), "metrics": Recording(base)}
        env.from_string(source).render(**ctx)
    except TemplateError:
        return used
    return used
