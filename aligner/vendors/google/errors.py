"""Google's errors as aligner reads them (no SDK here): the status a caller handles itself, and
the translation of an error answer into aligner's error tree.

The error envelope: https://cloud.google.com/apis/design/errors#http_mapping and
https://developers.google.com/calendar/api/guides/errors, https://developers.google.com/gmail/api/guides/handle-errors
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

from aligner.errors import AuthError, PermanentError, SurfaceError, TransientError

_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}


class GoogleStatus(Exception):
    """An HTTP error status the caller asked to handle itself."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        self.status = status
        self.reason = reason
        self.message = message
        super().__init__(f"{status} {reason}: {message}")


@dataclass(frozen=True)
class ErrorInfo:
    status: int
    reason: str
    message: str
    retry_after: float | None


def status_text(status: int) -> str:
    """The HTTP status's own name ("Service Unavailable"), for answers that give no reason."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def is_retryable(info: ErrorInfo) -> bool:
    return (
        info.status == 429
        or info.status >= 500
        or (info.status == 403 and info.reason in _RATE_REASONS)
    )


def translate(info: ErrorInfo, surface: str, scope: str) -> SurfaceError:
    if not info.reason.strip():
        info = ErrorInfo(info.status, status_text(info.status), info.message, info.retry_after)
    if info.status == 401:
        return AuthError(
            f"Google rejected the credentials ({info.message or 'invalid'}): get a "
            "fresh access token or run `aligner auth google` again",
            surface,
        )
    if info.status == 403 and info.reason in (
        "insufficientPermissions",
        "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
        "forbidden",
        "PERMISSION_DENIED",
    ):
        return AuthError(
            f"the Google credentials lack a scope: grant {scope} (run `aligner auth google` again)",
            surface,
        )
    if is_retryable(info):
        return TransientError(
            f"Google is unavailable right now ({info.status} "
            f"{info.reason}); the next run will try again",
            surface,
            info.retry_after,
        )
    return PermanentError(
        f"Google refused the request ({info.status} {info.reason}: {info.message})", surface
    )
