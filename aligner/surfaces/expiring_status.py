"""What the status-message surfaces share (a message that expires by itself: GitHub, Teams).

The diff is the owned-value rule (aligner.core.ownership) applied to what colleagues *see*: a
message past its expiry is no message, on both sides of every comparison and in the original
given back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from aligner.core.model import Change, Json
from aligner.core.ownership import OwnedValue
from aligner.surfaces.base import DiffContext


def diff_status(
    surface: str,
    key: str,
    ctx: DiffContext,
    desired: Mapping[str, Json],
    current: Mapping[str, Json],
    *,
    visible: Callable[[Json, datetime], Json],
    describe: Callable[[Json], str],
    cleared: Mapping[str, Any],
) -> list[Change]:
    """Set the theme's status in the window; give back the original (as it would show now, or
    `cleared`) after it; leave a person's own status alone."""
    record = ctx.records.get(key)
    now = ctx.now

    def same(a: Json, b: Json) -> bool:
        return bool(visible(a, now) == visible(b, now))

    owned = OwnedValue(surface, key, same, describe)
    target = None if ctx.revert else desired.get(key)
    original = record.snapshot if record else None
    restore_to = visible(original, now) if original else dict(cleared)
    return owned.diff(target, current[key], record, restore_to, force=ctx.force)
