"""Rendering user-facing text: sandboxed Jinja2, StrictUndefined, and the metric filters.

Variables: `theme`, `interview`, `window`, `metrics` (by id). Filters:
    change   28 ms → 19 ms (−32%)
    delta    −9 ms
    pct      −32%
    local    a datetime formatted in the theme timezone (strftime pattern optional)
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import Template, TemplateError, TemplateNotFound, Undefined, UndefinedError, nodes

from aligner.errors import ConfigError
from aligner.theme.jinja_limits import (
    MAX_OUTPUT,
    LimitedEnvironment,
    TemplateLimitError,
    check_deadline,
    time_budget,
    traced,
)
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
    if not math.isfinite(pct):
        return "n/a"
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
    metric: Metric = field(repr=False)

    def __str__(self) -> str:
        return f"{self.label}: {metric_change(self.metric)}"


def _as_metric(value: Any) -> Metric:
    if isinstance(value, MetricView):
        return value.metric
    if isinstance(value, Metric):
        return value
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    raise TemplateError(f"expected a metric such as metrics.latency, got a {type(value).__name__}")


@lru_cache(maxsize=64)
def _environment(zone_name: str) -> LimitedEnvironment:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(zone_name)
    env = LimitedEnvironment(views=(MetricView,))

    def local(value: datetime, fmt: str = "%a %d %b %Y, %H:%M %Z") -> str:
        if not isinstance(value, datetime):
            raise TemplateError(f"local: expected a date-time, got a {type(value).__name__}")
        return value.astimezone(zone).strftime(fmt)

    env.add_filters(
        change=lambda v: metric_change(_as_metric(v)),
        delta=lambda v: metric_delta(_as_metric(v)),
        pct=lambda v: metric_pct(_as_metric(v)),
        local=local,
        datetime=local,
    )
    return env


@lru_cache(maxsize=512)
def compiled(zone_name: str, source: str) -> Template:
    """Each text is compiled once per timezone and source, however often it is rendered."""
    return _environment(zone_name).from_string(source)


@lru_cache(maxsize=512)
def may_run_long(zone_name: str, source: str) -> bool:
    """Whether a text loops or defines a macro (which can call itself): only such a text can
    run long on a short source, so only it is rendered under the line tracer (which makes
    rendering several times slower). Any other text runs each statement once, and every
    operator, call and filter it uses checks the sizes and the deadline itself."""
    tree = _environment(zone_name).parse(source)
    return any(True for _ in tree.find_all((nodes.For, nodes.Macro, nodes.CallBlock)))


class _Same:
    """A theme as a cache key by identity: hashing or comparing a frozen ThemeConfig walks the
    whole model, and every render looks its context up. The cache holds the theme, so its id
    cannot be reused while cached."""

    __slots__ = ("config",)

    def __init__(self, config: ThemeConfig) -> None:
        self.config = config

    def __hash__(self) -> int:
        return id(self.config)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.config is self.config


def context(config: ThemeConfig) -> dict[str, Any]:
    """What templates see; built once per theme (templates cannot change it)."""
    return _context(_Same(config))


@lru_cache(maxsize=16)
def _context(same: _Same) -> dict[str, Any]:
    config = same.config
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


def _render_limited(zone: str, source: str, values: dict[str, Any]) -> str:
    """Stream the output, stopping past the size limit or the deadline (checked on every line
    of template code when the text may run long; see `may_run_long`)."""
    parts: list[str] = []
    length = 0
    stream = compiled(zone, source).generate(values)  # a generator, though typed as an iterator
    trace = traced() if may_run_long(zone, source) else contextlib.nullcontext()
    try:
        with time_budget(), trace:
            for part in stream:
                length += len(part)
                if length > MAX_OUTPUT:
                    raise TemplateLimitError(f"renders more than {MAX_OUTPUT:,} characters")
                parts.append(part)
                check_deadline()
    finally:
        close = getattr(stream, "close", None)
        if close is not None:  # untraced: the deadline must not interrupt the clean-up
            close()
    return "".join(parts)


def render(config: ThemeConfig, field: str, source: str, **extra: Any) -> str:
    """Render one template; any problem is a ConfigError naming `field`."""
    try:
        return _render_limited(config.theme.timezone, source, {**context(config), **extra})
    except UndefinedError as exc:
        known = ["theme", "interview", "window"] + [f"metrics.{m.id}" for m in config.metrics]
        message = str(exc.message).replace("'dict object' has no attribute", "unknown name")
        raise ConfigError(f"{field}: {message} (known: {', '.join(known)})") from None
    except TemplateNotFound as exc:
        raise ConfigError(
            f"{field}: template error: a text cannot include or import other templates "
            f"({exc.name!r})"
        ) from None
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise ConfigError(f"{field}: template error{where}: {exc.message}") from None
    except RecursionError:
        raise ConfigError(f"{field}: template error: it calls itself too deeply") from None
    except Exception as exc:  # the template's own arithmetic or a filter's argument
        text = str(exc)[:200]
        raise ConfigError(f"{field}: template error: {type(exc).__name__}: {text}") from None


def referenced_metrics(config: ThemeConfig, source: str, **extra: Any) -> set[str]:
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

    base = context(config)
    try:
        values = {**base, **extra, "metrics": Recording(base["metrics"])}
        _render_limited(config.theme.timezone, source, values)
    except Exception:  # a broken text is reported by `render`; here only the names count
        return used
    return used
