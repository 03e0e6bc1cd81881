"""Every error aligner raises, in one tree.

    AlignerError
    ├── ConfigError            bad theme file or settings        -> exit 2
    │     (carries .problems: one "field: message" line each)
    ├── LockTimeout            another apply holds the lock       -> exit 1
    ├── StateError             the state database failed this time -> exit 1
    │     │                      (disk full, I/O error); nothing stored was lost
    │     └── StateRefused     it exists but cannot be trusted     -> exit 2
    │                          (empty, foreign, damaged, from a newer aligner)
    └── SurfaceError           a surface could not be read/written -> exit 1
          ├── PermanentError   retrying will not help (auth, scope, missing address)
          │     └── AuthError  credentials missing, invalid, revoked or lacking a scope
          └── TransientError   may succeed later (rate limit, 5xx, dropped connection)

Only the CLI turns these into messages and exit codes; library code never exits.
"""

from __future__ import annotations


class AlignerError(Exception):
    """Base of everything aligner raises on purpose."""


class ConfigError(AlignerError):
    """The theme file or the settings are invalid. Nothing was changed."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class LockTimeout(AlignerError):
    """Another aligner run holds the state lock."""


class StateError(AlignerError):
    """The state database could not be used this time (e.g. the disk is full)."""


class StateRefused(StateError):
    """The state database exists but is empty, foreign, damaged or from a newer aligner.

    Nothing was written to it; a person must move it aside (or upgrade aligner).
    """


class SurfaceError(AlignerError):
    """A surface failed. `surface` names it; the message says what to do."""

    def __init__(self, message: str, surface: str = "") -> None:
        self.surface = surface
        self.http_status: int | None = None  # set when the vendor answered with an error
        super().__init__(message)

    @property
    def answered(self) -> bool:
        """The vendor answered (with an error): the request was refused, not lost."""
        return self.http_status is not None


class PermanentError(SurfaceError):
    """Retrying will not help until a person fixes something."""


class AuthError(PermanentError):
    """Credentials are missing, invalid, revoked, or lack a scope."""


class TransientError(SurfaceError):
    """The surface may accept the same call later."""

    def __init__(self, message: str, surface: str = "", retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message, surface)
