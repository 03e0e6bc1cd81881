"""`aligner preview`: one self-contained HTML page showing what each audience sees at a moment.

A pure function of the theme, the moment and (with `--live`) a read-only plan: no network, no
account. The page knows card kinds (aligner.surfaces.preview_model), never surfaces: each enabled
surface in the registry draws its own card through `Surface.preview(config, now)`, and each
validation finding is shown next to the surface whose theme section it concerns.

Self-contained: the CSS is inline, there are no scripts, fonts or images, and a Content Security
Policy forbids loading anything; HTML from the theme (the signature, a message body) goes into a
sandboxed `<iframe srcdoc>` so its markup cannot break the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, select_autoescape

from aligner.core.model import Plan, SurfacePlan
from aligner.core.timeline import transitions
from aligner.errors import ConfigError
from aligner.render.text import MARKS, local, reverted_line, value_diff, window_line
from aligner.surfaces import REGISTRY
from aligner.surfaces.preview_model import (
    AgendaCard,
    EmailCard,
    PreviewCard,
    SignatureCard,
    StatusCard,
)
from aligner.theme.findings import Finding
from aligner.theme.schema import ThemeConfig

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "frame-src 'self' about:; form-action 'none'; base-uri 'none'"
)
FRAME_STYLE = (
    "body{margin:8px;font:14px/1.45 Arial,Helvetica,sans-serif;color:#222;background:#fff}"
)
COLLEAGUES = (StatusCard, AgendaCard, SignatureCard)
YOURS = (AgendaCard,)
RECRUITER = (EmailCard,)


@dataclass(frozen=True)
class LiveChange:
    mark: str
    action: str
    key: str
    summary: str
    lines: str


@dataclass(frozen=True)
class Live:
    error: str | None
    changes: tuple[LiveChange, ...]


@dataclass(frozen=True)
class Panel:
    anchor: str
    title: str
    card: PreviewCard | None
    error: str | None
    findings: tuple[Finding, ...]
    live: Live | None

    @property
    def kind(self) -> str:
        return type(self.card).__name__ if self.card is not None else ""


@dataclass(frozen=True)
class Strip:
    window_left: float
    window_width: float
    ticks: tuple[float, ...]
    now: float | None


def frame(fragment: str) -> str:
    """A whole document for an `<iframe srcdoc>` (the template escapes it into the attribute)."""
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><style>{FRAME_STYLE}</style></head>'
        f"<body>{fragment}</body></html>"
    )


def _findings_for(name: str, found: list[Finding]) -> tuple[Finding, ...]:
    prefixes = (f"{name}.", f"{name}[")
    return tuple(f for f in found if f.field == name or f.field.startswith(prefixes))


def _live(plan: SurfacePlan | None, config: ThemeConfig) -> Live | None:
    if plan is None:
        return None
    changes = []
    for change in plan.changes:
        lines = list(change.preview)
        if change.writes and not lines:
            lines = [line.strip() for line in value_diff(change.before, change.after, config.zone)]
        changes.append(
            LiveChange(
                MARKS.get(change.action, "~"),
                str(change.action),
                change.key,
                change.summary,
                "\n".join(lines),
            )
        )
    return Live(plan.error, tuple(changes))


def panels(
    config: ThemeConfig, now: datetime, found: list[Finding], plan: Plan | None = None
) -> list[Panel]:
    """One panel per enabled surface (registry order): its card, findings and live changes."""
    live = {p.surface: p for p in plan.surfaces} if plan is not None else {}
    result = []
    for cls in REGISTRY:
        if not cls.enabled(config):
            continue
        card: PreviewCard | None = None
        error = None
        try:
            card = cls.preview(config, now)
        except ConfigError as exc:
            error = "; ".join(exc.problems)
        surface_plan = live.get(cls.name)
        result.append(
            Panel(
                cls.name,
                getattr(card, "title", "") or cls.title,  # a card may name its provider
                card,
                error,
                _findings_for(cls.name, found),
                _live(surface_plan, config) if plan is not None else None,
            )
        )
    return result


def strip(config: ThemeConfig, now: datetime) -> Strip:
    """Positions (in % of the strip) of the window, each transition and now."""
    moments = [t.at for t in transitions(config)]
    first, last = min(moments), max(moments)
    span = (last - first).total_seconds() or 1.0

    def at(moment: datetime) -> float:
        return round(100 * (moment - first).total_seconds() / span, 2)

    sched = config.schedule
    left = at(sched.window_start)
    return Strip(
        left,
        round(at(sched.window_end) - left, 2),
        tuple(at(m) for m in moments),
        at(now) if first <= now <= last else None,
    )


@lru_cache(maxsize=1)
def _template() -> Any:
    env = Environment(autoescape=select_autoescape(default=True), trim_blocks=True)
    source = files("aligner.render").joinpath("assets/preview.html.j2").read_text("utf-8")
    return env.from_string(source)


def _css() -> str:
    return files("aligner.render").joinpath("assets/preview.css").read_text("utf-8")


PHASES = {
    "before": "before the window: nothing is themed yet",
    "during": "inside the window: the story is showing",
    "after": "after the window: everything is given back",
}


def preview_html(
    config: ThemeConfig, now: datetime, found: list[Finding], plan: Plan | None = None
) -> str:
    """The whole page. `found`: the theme's validation findings (errors and warnings)."""
    sched, zone = config.schedule, config.zone
    every = panels(config, now, found, plan)
    claimed = {p.anchor for p in every}
    general = [f for f in found if not any(_findings_for(name, [f]) for name in claimed)]
    words = [w for w in config.theme.name.split() if w[:1].isalnum()]
    initials = "".join(w[0].upper() for w in words[:2]) or "·"
    return str(
        _template().render(
            csp=CSP,
            css=_css(),
            title=config.theme.name,
            at=local(now, zone),
            phase=PHASES[sched.phase(now)],
            schedule=(f"Interview {local(sched.interview_start, zone)}; {window_line(config)}."),
            live=plan is not None,
            reverted=reverted_line(plan.reverted_at, zone) if plan and plan.reverted_at else "",
            colleagues=[p for p in every if isinstance(p.card, COLLEAGUES) or p.card is None],
            yours=[p for p in every if isinstance(p.card, YOURS)],
            recruiter=[p for p in every if isinstance(p.card, RECRUITER)],
            general=general,
            strip=strip(config, now),
            transitions=[
                {"at": local(t.at, zone), "what": t.what, "past": t.at <= now}
                for t in transitions(config)
            ],
            initials=initials,
            frame=frame,
        )
    )
