"""`aligner status`: what the store knows, without calling any API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aligner.core.session import reverted_at
from aligner.core.timeline import next_transitions
from aligner.render.text import local, reverted_line, window_line
from aligner.state.store import JournalEntry, Store
from aligner.theme.schema import ThemeConfig


def status_report(store: Store, config: ThemeConfig, now: datetime) -> dict[str, Any]:
    sched = config.schedule
    surfaces: dict[str, Any] = {}
    lasts: dict[str, JournalEntry] = {}
    for name, key in store.journal_items():  # the newest rows of each item, through the index
        info = surfaces.setdefault(name, {"last": None, "conflicts": {}, "items": {}})
        last = store.last_entry(name, key, ("applied", "failed"))
        if last is not None and (name not in lasts or last.id > lasts[name].id):
            lasts[name] = last
            info["last"] = {
                "at": last.at.isoformat(),
                "key": last.key,
                "action": last.action,
                "outcome": last.outcome,
                "detail": last.detail,
            }
        settled = store.last_entry(name, key, ("conflict", "applied"))
        if settled is not None and settled.outcome == "conflict":
            info["conflicts"][key] = {"at": settled.at.isoformat(), "shows": settled.after}
    for name in store.all_surfaces():
        info = surfaces.setdefault(name, {"last": None, "conflicts": {}, "items": {}})
        for key, record in store.records(name).items():
            info["items"][key] = record.state
    return {
        "at": now.isoformat(),
        "phase": sched.phase(now),
        "reverted_at": reverted_at(store, config),
        "window": {"start": sched.window_start.isoformat(), "end": sched.window_end.isoformat()},
        "surfaces": surfaces,
        "next": [{"at": t.at.isoformat(), "what": t.what} for t in next_transitions(config, now)],
    }


def status_text(data: dict[str, Any], config: ThemeConfig) -> str:
    zone = config.zone
    lines = [
        f"“{config.theme.name}” at {local(datetime.fromisoformat(data['at']), zone)} — "
        f"phase: {data['phase']} ({window_line(config)})"
    ]
    if data["reverted_at"]:
        lines.append(reverted_line(data["reverted_at"], zone))
    if not data["surfaces"]:
        lines.append("Nothing applied yet.")
    for name, info in data["surfaces"].items():
        last = info["last"]
        when = local(datetime.fromisoformat(last["at"]), zone) if last else "never"
        outcome = f"{last['action']} {last['key']}: {last['outcome']}" if last else ""
        lines.append(f"  {name}: last change {when} {outcome}".rstrip())
        if last and last["detail"]:
            lines.append(f"    {last['detail']}")
        for key, conflict in info["conflicts"].items():
            lines.append(
                f"    ! conflict on {key}: changed by hand (since "
                f"{local(datetime.fromisoformat(conflict['at']), zone)})"
            )
    if data["next"]:
        lines.append("Next transitions:")
        lines += [
            f"  {local(datetime.fromisoformat(t['at']), zone)}  {t['what']}"
            for t in data["next"][:5]
        ]
    else:
        lines.append("No transitions left: the window is over.")
    return "\n".join(lines)
