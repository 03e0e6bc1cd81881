"""Templates: metric filters, time formatting, strict variables, errors naming the field."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from aligner.errors import ConfigError
from aligner.theme.schema import Metric, ThemeConfig, parse_config
from aligner.theme.templates import (
    format_number,
    metric_change,
    metric_delta,
    metric_pct,
    referenced_metrics,
    render,
)
from tests.conftest import BASE_THEME


def config(extra: str = "") -> ThemeConfig:
    data: dict[str, Any] = tomllib.loads(BASE_THEME + extra)
    return parse_config(data)


LATENCY = Metric(id="latency", label="p50 latency", before=28, after=19, unit="ms")
QPS = Metric(id="qps", label="throughput", before=3400, after=4700, unit="QPS", better="higher")
COST = Metric(id="cost", label="cost", before=41, after=27, unit="$")


def test_change_delta_pct() -> None:
    assert metric_change(LATENCY) == "28 ms → 19 ms (−32%)"
    assert metric_delta(LATENCY) == "−9 ms"
    assert metric_pct(LATENCY) == "−32%"
    assert metric_change(QPS) == "3,400 QPS → 4,700 QPS (+38%)"
    assert metric_delta(QPS) == "+1,300 QPS"
    assert metric_change(COST) == "$41 → $27 (−34%)"


def test_numbers() -> None:
    assert format_number(19.0) == "19"
    assert format_number(0.125) == "0.125"
    assert format_number(-3.5) == "−3.5"
    assert format_number(1234567) == "1,234,567"


def test_zero_before_has_no_percentage() -> None:
    assert metric_pct(Metric(id="x", label="x", before=0, after=5)) == "n/a"


def test_render_with_variables_and_filters() -> None:
    cfg = config()
    text = render(
        cfg, "f", "{{ theme.name }} · {{ metrics.latency.label }} {{ metrics.latency | change }}"
    )
    assert text == "Optimizing inference pipelines · p50 latency 28 ms → 19 ms (−32%)"
    assert render(cfg, "f", "{{ metrics.latency }}") == "p50 latency: 28 ms → 19 ms (−32%)"
    assert (
        render(cfg, "f", "{{ interview.company }} / {{ interview.role }}")
        == "Example Corp / Staff Engineer"
    )


def test_times_render_in_the_theme_timezone() -> None:
    cfg = config()
    assert render(cfg, "f", "{{ interview.starts_at | local('%H:%M %Z') }}") == "10:00 PST"
    assert render(cfg, "f", "{{ window.start | local('%a %H:%M') }}") == "Wed 10:00"


def test_unknown_variable_is_a_config_error_naming_the_field() -> None:
    with pytest.raises(ConfigError) as err:
        render(config(), "slack.status_text", "{{ metrics.nope | change }}")
    assert err.value.problems[0].startswith("slack.status_text: ")
    assert "nope" in err.value.problems[0]


def test_syntax_error_is_a_config_error_naming_the_field() -> None:
    with pytest.raises(ConfigError) as err:
        render(config(), "note.body", "{{ theme.name ")
    assert err.value.problems[0].startswith("note.body: template error")


def test_the_sandbox_refuses_unsafe_access() -> None:
    with pytest.raises(ConfigError):
        render(config(), "f", "{{ theme.__class__.__mro__ }}")


def test_referenced_metrics() -> None:
    cfg = config()
    assert referenced_metrics(cfg, "cut {{ metrics.latency | change }}") == {"latency"}
    assert referenced_metrics(cfg, "{{ metrics['throughput'].label }}") == {"throughput"}
    assert referenced_metrics(cfg, "Excited to chat!") == set()
