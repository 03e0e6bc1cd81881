"""`plan`, `apply` and `revert`: the same change records, previewed or carried out."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from aligner.cli.context import (
    EXIT_FAILED,
    EXIT_PENDING,
    State,
    config_option,
    handled,
    pass_state,
)
from aligner.core.model import ApplyResult
from aligner.core.session import Session, open_session
from aligner.render.text import apply_text, plan_text


@click.command(short_help="Show what apply would change; writes nothing.")
@click.option("--at", "at", default=None, help="Preview another moment (ISO time or e.g. -2h).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 with no changes, 3 with changes.")
@click.option("--force", is_flag=True, help="Also re-assert items a person changed by hand.")
@click.option(
    "--adopt-account",
    is_flag=True,
    help="A surface whose account changed would start afresh for the new one (preview).",
)
@config_option
@pass_state
@handled
def plan(
    state: State,
    at: str | None,
    as_json: bool,
    detailed_exitcode: bool,
    force: bool,
    config_path: Path | None,
    adopt_account: bool = False,
    quiet: bool = False,  # only through `apply --dry-run --quiet`
) -> None:
    """Show what apply would change, reading every surface and writing nothing."""
    config = state.theme(config_path, quiet=quiet, at=at).config
    settings = state.settings()
    now = state.now(config, at, quiet=quiet)
    from aligner.cli.spinner import waiting

    with (
        open_session(settings, config, lock=False, readonly=True) as session,
        waiting(_services(session), quiet=quiet, as_json=as_json),
    ):
        result = session.plan(now, force=force, adopt_account=adopt_account)
    if quiet and not result.changes and not result.errors:
        return
    if as_json:
        state.output.print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        state.output.painted(plan_text(result, config))
    if result.errors:
        sys.exit(EXIT_FAILED)
    if detailed_exitcode and result.changes:
        sys.exit(EXIT_PENDING)


@click.command()
@click.option("--dry-run", is_flag=True, help="Only show the plan (exactly `aligner plan`).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--quiet", is_flag=True, help="Print nothing when nothing changed.")
@click.option("--force", is_flag=True, help="Re-assert items a person changed by hand.")
@click.option(
    "--refresh",
    is_flag=True,
    help="Read every surface even when nothing can be due (finds drift after the window).",
)
@click.option(
    "--adopt-account",
    is_flag=True,
    help="A surface whose account changed starts afresh for the new one (forgets the old).",
)
@config_option
@click.pass_context
@handled
def apply(
    ctx: click.Context,
    dry_run: bool,
    as_json: bool,
    quiet: bool,
    force: bool,
    refresh: bool,
    config_path: Path | None,
    adopt_account: bool = False,
) -> None:
    """Make every surface show what the theme says it should, now."""
    if dry_run:
        ctx.invoke(
            plan,
            at=None,
            as_json=as_json,
            detailed_exitcode=False,
            force=force,
            config_path=config_path,
            adopt_account=adopt_account,
            quiet=quiet,
        )
        return
    state: State = ctx.find_object(State)  # type: ignore[assignment]
    config = state.theme(config_path, quiet=quiet).config
    settings = state.settings()
    now = state.now(config, quiet=quiet)
    busy_at = None if refresh or force else now
    from aligner.cli.spinner import waiting

    with (
        open_session(settings, config, lock=True, busy_at=busy_at) as session,
        waiting(_services(session), quiet=quiet, as_json=as_json),
    ):
        result = session.apply(now, force=force, adopt_account=adopt_account)
    report(state, result, session, as_json, quiet)


@click.command(short_help="Give every surface its original back now.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@config_option
@pass_state
@handled
def revert(state: State, as_json: bool, config_path: Path | None) -> None:
    """Give every surface back its original now (where a person has not changed it).

    Works with a theme file that no longer validates (its problems are shown as warnings),
    as long as it can still be read: giving back needs only what the state database holds.
    """
    config = state.theme(config_path, strict=False).config
    settings = state.settings()
    now = state.now(config)
    from aligner.cli.spinner import waiting

    with (
        open_session(settings, config, lock=True) as session,
        waiting(_services(session), as_json=as_json),
    ):
        result = session.revert(now)
    report(state, result, session, as_json, quiet=False, verb="Revert")


def _services(session: Session) -> str:
    titles = [getattr(surface, "title", name) for name, surface in session.surfaces.items()]
    return ", ".join(titles) or "the services"


def report(
    state: State,
    result: ApplyResult,
    session: Session,
    as_json: bool,
    quiet: bool,
    verb: str = "Apply",
) -> None:
    if as_json:
        state.output.print(json.dumps(apply_json(result), ensure_ascii=False, indent=2))
    elif not (quiet and not result.written and not result.failed):
        state.output.painted(apply_text(result, session.config, verb))
    if result.failed:
        sys.exit(EXIT_FAILED)


def apply_json(result: ApplyResult) -> dict[str, Any]:
    body = result.plan.to_json()
    body["outcomes"] = [
        {**o.change.to_json(), "ok": o.ok, "detail": o.detail, "notes": list(o.notes)}
        for o in result.outcomes
    ]
    body["failed"] = dict(result.failed)
    return body
