"""A sandbox with every registered surface's fake service, seeded with a believable person.

Nothing here knows a service: each account seeds what its fake services share (a token endpoint,
the person's tokens) and each surface adds its own service (`Account.seed`, `Surface.seed`), in
the order of the registry. `sandbox_env(url)` gathers the variables that point aligner at it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aligner.sandbox.http import Service
from aligner.sandbox.server import Clock, Sandbox

T = TypeVar("T")
S = TypeVar("S", bound=Service)


@dataclass
class SandboxSeed:
    """The sandbox being put together: its clock, its services, and state they share."""

    clock: Clock
    services: list[Service] = field(default_factory=list)
    _shared: dict[type[Any], Any] = field(default_factory=dict)

    def add(self, service: S) -> S:
        self.services.append(service)
        return service

    def shared(self, kind: type[T], make: Callable[[], T]) -> T:
        """The one `kind` the services share, made by the first to ask for it."""
        if kind not in self._shared:
            self._shared[kind] = make()
        found: T = self._shared[kind]
        return found


def seeded_sandbox(port: int = 0, clock: Clock | None = None) -> Sandbox:
    from aligner.surfaces import REGISTRY, all_accounts

    box = SandboxSeed(clock or Clock())
    for account in all_accounts():
        account.seed(box)
    for surface in REGISTRY:
        surface.seed(box)
    return Sandbox(box.services, port=port, clock=box.clock)


def SANDBOX_ENV(url: str) -> dict[str, str]:
    """The environment that points aligner at a sandbox served at `url`."""
    from aligner.surfaces import all_accounts

    env: dict[str, str] = {}
    for account in all_accounts():
        env.update(account.sandbox_env(url))
    return env
