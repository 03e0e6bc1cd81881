"""Noticing that the account behind a surface changed (another Slack user, another Google account).

Every run that reads a surface learns who it acts as (`Surface.account_id`); the store keeps that
per surface (meta scope `account`, key = the surface name), recorded when a run that may write
(`apply`, `revert`, the daemon) first learns it — trust on first use, so a store from before this
check starts recording at its next apply. When the account found differs from the one recorded
and aligner still holds something on that surface (an active record, i.e. a snapshot it would give
back), the surface stops with one line: what was expected, what was found, and how to go on.
Nothing is written there and no snapshot is restored into the wrong account.

`--adopt-account` (on `apply`; on `plan` to preview it) starts afresh for the new account: the
surface is planned as if aligner held nothing there, and `apply` then releases the old account's
records (they are never restored) and forgets the surface's remembered facts. When aligner holds
nothing on the surface, the new account is adopted without asking: nothing is at stake.
"""

from __future__ import annotations

from datetime import datetime

from aligner.core.model import Action, Change, Plan
from aligner.errors import PermanentError
from aligner.state.store import Store
from aligner.surfaces.base import Surface

ACCOUNTS = "account"  # the store's meta scope: surface name -> account id


class AccountChanged(PermanentError):
    """The surface now acts as another account than the one aligner's records belong to."""


def account_changed(surface: Surface, expected: str, found: str) -> AccountChanged:
    was, now = surface.describe_account(expected), surface.describe_account(found)
    return AccountChanged(
        f"the account changed: aligner set what it holds here as {was}, but the credentials "
        f"now act as {now}; nothing was changed. To give it back, run `aligner revert` with "
        f"the credentials of {was}; to start afresh for {now} (aligner forgets what it held "
        "for the old account), run `aligner apply --adopt-account`",
        surface.name,
    )


def adoption_notice(surface: Surface, expected: str, found: str) -> Change:
    was, now = surface.describe_account(expected), surface.describe_account(found)
    return Change(
        surface.name,
        "account",
        Action.NOTICE,
        expected,
        found,
        f"now acting as {now} (was {was}): starting afresh for this account; what aligner "
        f"held for {was} is forgotten, never restored",
        writes=False,
        ownership="keep",
    )


def recorded(store: Store, surface: str) -> str | None:
    value = store.meta(ACCOUNTS, surface)
    return value if isinstance(value, str) else None


def settle(store: Store, plan: Plan, now: datetime) -> None:
    """Before a run writes: record who each surface acted as, and for a surface that adopted a
    new account, release the old account's records and forget its remembered facts."""
    for surface_plan in plan.surfaces:
        name, found = surface_plan.surface, surface_plan.account
        if surface_plan.error or found is None:
            continue
        if surface_plan.adopted is not None:
            for key, record in store.records(name).items():
                if record.active:
                    store.set_state(name, key, "released", now)
            for key in store.metas(name):
                store.set_meta(name, key, None, now)
        if recorded(store, name) != found:
            store.set_meta(ACCOUNTS, name, found, now)
