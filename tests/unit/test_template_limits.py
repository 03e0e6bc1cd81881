"""Issue 11, item 7: rendering a theme's text ends quickly, stays small, prints plain values.

Every limit is a ConfigError naming the field; templates compile once per (timezone, source).
"""

from __future__ import annotations

import gc
import sys
import time
import tomllib
import tracemalloc
from types import SimpleNamespace

import pytest

from aligner.errors import ConfigError
from aligner.theme import jinja_limits, templates
from aligner.theme.jinja_limits import MAX_OUTPUT, time_budget
from aligner.theme.schema import ThemeConfig, parse_config
from aligner.theme.templates import render
from tests.conftest import BASE_THEME

CONFIG: ThemeConfig = parse_config(tomllib.loads(BASE_THEME))
# Only a guard against a render that never stops: how fast a limit trips is shown by the
# message it gives, never by the wall clock (a busy machine must not fail a test).
HANG = 30.0
LOOP = "{% for i in range(100000) %}{% for j in range(100000) %}BODY{% endfor %}{% endfor %}"


def problem(source: str) -> str:
    with pytest.raises(ConfigError) as caught:
        render(CONFIG, "slack.status_text", source)
    (line,) = caught.value.problems
    assert line.startswith("slack.status_text: ")
    return line


def test_a_loop_stops_at_the_two_second_limit() -> None:
    started = time.monotonic()
    assert "took longer than 2 s" in problem(LOOP.replace("BODY", ""))
    assert time.monotonic() - started < HANG


def test_a_loop_stops_at_the_size_limit() -> None:
    assert f"renders more than {MAX_OUTPUT:,} characters" in problem(LOOP.replace("BODY", "x"))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (LOOP.replace("BODY", ""), "took longer than 0.2 s"),
        (
            "{% set r = range(60000)|list %}"
            "{% for i in r %}{% for j in r %}{% endfor %}{% endfor %}",
            "took longer than 0.2 s",
        ),
    ],
)
def test_nested_loops_stop_at_a_limit(source: str, expected: str) -> None:
    """Under a shorter budget (the same check as the theme's 2 s, a tenth of the wait)."""
    started = time.monotonic()
    with time_budget(0.2):
        assert expected in problem(source)
    assert time.monotonic() - started < HANG


@pytest.mark.parametrize(
    ("source", "long"),
    [
        ("{{ metrics.p50.change }} on {{ interview.company }}", False),
        ("{{ range(100000)|map('string')|join|length }}", False),
        ("{% if theme.title %}{{ theme.title|upper }}{% endif %}", False),
        ("{% for m in metrics.values() %}{{ m }}{% endfor %}", True),
        ("{% macro f() %}x{% endmacro %}{{ f() }}", True),
        ("{% macro f() %}{{ caller() }}{% endmacro %}{% call f() %}x{% endcall %}", True),
    ],
)
def test_only_texts_that_loop_or_define_macros_are_traced(source: str, long: bool) -> None:
    """The line tracer makes rendering several times slower: a text without a loop or a macro
    runs each statement once, and its operators, calls and filters check the limits."""
    assert templates.may_run_long(CONFIG.theme.timezone, source) is long


def test_a_text_without_a_loop_still_cannot_build_something_huge() -> None:
    """Stopped by the filter's own size check ("too large"), not at the end by the output
    limit ("renders more than"): the whole value is never made."""
    line = problem("{{ range(100000)|map('string')|join }}")
    assert "too large" in line and "renders more than" not in line


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'a' * 10**10 }}",
        "{{ ['a'] * 10**10 }}",
        "{{ '{:999999999}'.format(1) }}",
        "{{ '{:{}}'.format(1, 999999999) }}",
        "{{ '%999999999d' % 1 }}",
        "{{ '%*d' % (999999999, 1) }}",
        "{{ 'x'|center(10**9) }}",
        "{{ 'x'|indent(999999999) }}",
        "{{ 10**(10**6) }}",
        "{% macro f(s) %}{{ f(s ~ s) }}{% endmacro %}{{ f('ab') }}",
        "{% set a = 'a' * 60000 %}{{ [a, a, a, a]|join }}",
    ],
)
def test_huge_values_are_refused_before_they_are_made(source: str) -> None:
    """Each would take gigabytes, or seconds of CPU, if it were made: the memory the render
    took at its peak shows it was not."""
    tracemalloc.start()
    try:
        assert "template error" in problem(source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024


def test_the_time_budget_is_shared_by_the_whole_theme(monkeypatch: pytest.MonkeyPatch) -> None:
    """A render inside the theme's budget gets no fresh one of its own: once the theme's time
    is spent, even a short text stops."""
    clock = [1000.0]
    monkeypatch.setattr(jinja_limits, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    with time_budget(0.5):
        assert render(CONFIG, "slack.status_text", "{{ theme.name }}")
        clock[0] += 0.6
        assert "took longer than 0.5 s" in problem("{{ theme.name }}")
    assert render(CONFIG, "slack.status_text", "{{ theme.name }}")  # alone: its own budget


@pytest.mark.parametrize(
    "source",
    [
        "{{ interview.starts_at.tzinfo.from_file }}",
        "{{ interview.starts_at.tzinfo }}",
        "{{ interview.starts_at.fromtimestamp }}",
        "{{ metrics.latency.metric }}",
        "{{ theme.name.upper }}",
        "{{ theme }}",
        "{{ range(3)|list }}",
        "{{ lipsum() }}",
        "{{ namespace() }}",
    ],
)
def test_only_plain_values_are_printed(source: str) -> None:
    assert "0x" not in problem(source)


def test_plain_values_still_render() -> None:
    source = (
        "{{ theme.name|upper }} {{ metrics.latency }} {{ metrics.throughput|change }} "
        "{{ interview.starts_at|local('%A %H:%M') }} {{ window.end.strftime('%d %b') }} "
        "{{ '{:,}'.format(3400000) }} {{ interview.starts_at.year }} {{ 2**10 }}"
    )
    assert render(CONFIG, "f", source) == (
        "OPTIMIZING INFERENCE PIPELINES p50 latency: 28 ms → 19 ms (−32%) "
        "3,400 QPS → 4,700 QPS (+38%) Thursday 10:00 03 Dec 3,400,000 2026 1024"
    )


def test_a_text_is_compiled_once() -> None:
    templates.compiled.cache_clear()
    for _ in range(5):
        render(CONFIG, "f", "{{ theme.name }} once")
    info = templates.compiled.cache_info()
    assert (info.misses, info.hits) == (1, 4)


def test_the_context_is_built_once_per_theme(monkeypatch: pytest.MonkeyPatch) -> None:
    """Looked up by the theme object itself: hashing a theme would walk the whole model."""
    templates._context.cache_clear()
    hashed: list[object] = []
    monkeypatch.setattr(type(CONFIG), "__hash__", lambda self: hashed.append(self) or 0)
    for _ in range(3):
        render(CONFIG, "f", "{{ theme.name }}")
    assert templates._context.cache_info().misses == 1
    assert hashed == []
    render(CONFIG.model_copy(), "f", "{{ theme.name }}")  # another theme object: built anew
    assert templates._context.cache_info().misses == 2


def test_a_render_stopped_at_the_deadline_is_cleaned_up_quietly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Closing the stopped template's generator must not run under the expired deadline: that
    raised again inside the clean-up and printed a traceback (found by the 2,000-theme run)."""
    unraisable: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    for _ in range(30):
        with time_budget(0.005), pytest.raises(ConfigError, match="took longer"):
            render(CONFIG, "slack.status_text", LOOP.replace("BODY", "x"))
    gc.collect()
    assert unraisable == []
