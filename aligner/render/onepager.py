"""`aligner onepager`: the impact one-pager, from the same numbers as every other text.

Problem, hypothesis, experiment design, the quantitative result (each metric: before → after
and its change, judged by its `better` direction, with one before/after bar chart), business
implication and next steps. The texts come from the theme's `[story]` section (templates).

Charts are drawn with matplotlib's SVG backend, imported here only (this module is imported by
the `onepager` command alone). The HTML is self-contained (charts as data: URIs) with print CSS
for one A4 or Letter page; Markdown keeps the charts as SVG files beside it; a PDF is the HTML
through WeasyPrint (the `pdf` extra).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, select_autoescape

from aligner.errors import ConfigError
from aligner.theme.schema import Metric, ThemeConfig
from aligner.theme.templates import metric_delta, metric_pct, render, with_unit

SECTIONS = (
    ("problem", "Problem"),
    ("hypothesis", "Hypothesis"),
    ("experiment", "Experiment design"),
    ("implication", "Business implication"),
    ("next_steps", "Next steps"),
)
PDF_EXTRA = "signal-aligner[pdf]"
BEFORE_COLOUR, BETTER_COLOUR, WORSE_COLOUR = "#8c959f", "#1a7f37", "#cf222e"


@dataclass(frozen=True)
class Result:
    """One metric as the one-pager states it."""

    id: str
    label: str
    before: str
    after: str
    change: str  # e.g. "−9 ms (−32%)"
    verdict: Literal["better", "worse", "same"]
    direction: str  # e.g. "lower is better"
    svg: str  # the before/after bar chart


@dataclass(frozen=True)
class OnePager:
    title: str
    lede: str
    texts: dict[str, str]  # section key -> rendered text (empty ones left out)
    results: tuple[Result, ...]

    def missing(self) -> list[str]:
        return [f"story.{key}" for key, _ in SECTIONS if not self.texts.get(key)]


def verdict(metric: Metric) -> Literal["better", "worse", "same"]:
    if metric.after == metric.before:
        return "same"
    improved = (
        metric.after < metric.before if metric.better == "lower" else metric.after > metric.before
    )
    return "better" if improved else "worse"


def chart(metric: Metric, judged: str) -> str:
    """A small before/after bar chart as SVG text (text as paths: no font is needed)."""
    from matplotlib import rcParams
    from matplotlib.figure import Figure

    rcParams["svg.hashsalt"] = metric.id  # stable output, and ids that differ per chart
    rcParams["svg.fonttype"] = "path"
    figure = Figure(figsize=(2.6, 1.9), dpi=100)
    axes = figure.add_subplot()
    values = [metric.before, metric.after]
    colour = {"better": BETTER_COLOUR, "worse": WORSE_COLOUR}.get(judged, BEFORE_COLOUR)
    bars = axes.bar(["Before", "After"], values, color=[BEFORE_COLOUR, colour], width=0.6)
    axes.bar_label(bars, labels=[with_unit(v, metric.unit) for v in values], fontsize=8, padding=2)
    axes.set_ylim(0, max(max(values), 0) * 1.25 or 1)
    axes.set_title(metric.label, fontsize=9)
    axes.tick_params(labelsize=8, length=0)
    axes.set_yticks([])
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    figure.tight_layout(pad=0.4)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def build(config: ThemeConfig) -> OnePager:
    """The one-pager's content (templates rendered; ConfigError names a field that fails)."""
    if not config.metrics:
        raise ConfigError("metrics: the one-pager states results; add at least one [[metrics]]")
    texts = {}
    for key, _ in SECTIONS:
        text = render(config, f"story.{key}", getattr(config.story, key)).strip()
        if text:
            texts[key] = text
    results = []
    for metric in config.metrics:
        judged = verdict(metric)
        results.append(
            Result(
                metric.id,
                metric.label,
                with_unit(metric.before, metric.unit),
                with_unit(metric.after, metric.unit),
                f"{metric_delta(metric)} ({metric_pct(metric)})",
                judged,
                f"{metric.better} is better",
                chart(metric, judged),
            )
        )
    lede = " · ".join(p for p in ("Impact summary", config.interview.role) if p)
    return OnePager(config.theme.name, lede, texts, tuple(results))


def data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _environment() -> Environment:
    return Environment(autoescape=select_autoescape(default=True), trim_blocks=True)


def to_html(page: OnePager) -> str:
    source = files("aligner.render").joinpath("assets/onepager.html.j2").read_text("utf-8")
    css = files("aligner.render").joinpath("assets/onepager.css").read_text("utf-8")
    return str(
        _environment()
        .from_string(source)
        .render(page=page, sections=dict(SECTIONS), css=css, data_uri=data_uri)
    )


def to_markdown(page: OnePager, charts: dict[str, str]) -> str:
    """Markdown; `charts` maps a metric id to the chart file's name (written beside it)."""
    lines = [f"# {page.title}", ""]
    if page.lede:
        lines += [f"_{page.lede}_", ""]
    for key, heading in SECTIONS[:3]:
        if key in page.texts:
            lines += [f"## {heading}", "", page.texts[key], ""]
    lines += ["## Result", "", "| Metric | Before | After | Change | |", "|---|---:|---:|---:|---|"]
    for r in page.results:
        lines.append(
            f"| {r.label} | {r.before} | {r.after} | {r.change} | {r.verdict} ({r.direction}) |"
        )
    lines.append("")
    lines += [f"![{r.label}: {r.before} → {r.after}]({charts[r.id]})" for r in page.results]
    lines.append("")
    for key, heading in SECTIONS[3:]:
        if key in page.texts:
            lines += [f"## {heading}", "", page.texts[key], ""]
    return "\n".join(lines)


def write(config: ThemeConfig, out: Path) -> OnePager:
    """Write the one-pager in the format `out`'s extension names (.html, .md or .pdf)."""
    kind = out.suffix.lower()
    if kind not in (".html", ".htm", ".md", ".pdf"):
        raise ConfigError(f"--out {out}: name a .html, .md or .pdf file")
    page = build(config)
    try:
        if kind == ".md":
            names = {r.id: f"{out.stem}-{r.id}.svg" for r in page.results}
            for r in page.results:
                (out.parent / names[r.id]).write_text(r.svg, encoding="utf-8")
            out.write_text(to_markdown(page, names), encoding="utf-8")
        elif kind == ".pdf":
            html = _weasyprint().HTML(string=to_html(page), base_url=str(out.parent))
            html.write_pdf(str(out))
        else:
            out.write_text(to_html(page), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot write it ({exc.strerror})") from None
    return page


class MissingExtra(ConfigError):
    pass


def _weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError):  # OSError: installed, but the system's Pango is missing
        raise MissingExtra(
            f"a PDF needs WeasyPrint: pip install '{PDF_EXTRA}' (or write .html and print it)"
        ) from None
    return weasyprint
