"""Microsoft Graph's error envelope, made into aligner's error tree in one line.

Graph answers an error with an HTTP status and
    {"error": {"code": "...", "message": "...", "innerError": {"date", "request-id", ...}}}
(https://learn.microsoft.com/en-us/graph/errors). What aligner makes of it:

- 401 (e.g. InvalidAuthenticationToken): the token is missing, expired or revoked: AuthError,
  fail fast, "run `aligner auth microsoft`".
- 403 (e.g. Authorization_RequestDenied, ErrorAccessDenied): a permission is missing or the
  account cannot use this API: AuthError, fail fast.
- 404 GraphNotFound and 412 GraphPreconditionFailed: surfaces decide what they mean.
- 429, 503 and 504 are throttling or unavailability, to be retried after Retry-After
  (https://learn.microsoft.com/en-us/graph/throttling); when the run's wait budget cannot cover
  the wait, GraphUnavailable (transient: the next run tries again).
- Any other 4xx is GraphRefused (permanent), any other 5xx GraphUnavailable.
"""

from __future__ import annotations

from typing import Any

from aligner.errors import AuthError, PermanentError, TransientError

REAUTH = "run `aligner auth microsoft` (or set ALIGNER_MICROSOFT_ACCESS_TOKEN)"
RETRYABLE = frozenset({429, 503, 504})


def envelope(body: Any) -> tuple[str, str]:
    """(code, message) of a Graph error body; empty strings where Graph sent none."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", ""
    return str(error.get("code") or ""), str(error.get("message") or "").strip()


def one_line(status: int, body: Any) -> str:
    """`403 ErrorAccessDenied: Access is denied.`: Graph's own words, one line."""
    code, message = envelope(body)
    text = f"{status} {code}".strip() + (f": {message}" if message else "")
    return " ".join(text.split())


class GraphAuthError(AuthError):
    code: str = ""


class GraphRefused(PermanentError):
    code: str = ""


class GraphNotFound(GraphRefused):
    pass


class GraphPreconditionFailed(GraphRefused):
    pass


class GraphUnavailable(TransientError):
    code: str = ""


def graph_error(
    status: int, body: Any, surface: str, retry_after: float | None = None
) -> AuthError | GraphRefused | GraphUnavailable:
    """The aligner error for an answered Graph error (http_status and code set)."""
    code, _ = envelope(body)
    said = one_line(status, body)
    error: AuthError | GraphRefused | GraphUnavailable
    if status == 401:
        error = GraphAuthError(f"Microsoft Graph rejected the token ({said}): {REAUTH}", surface)
    elif status == 403:
        error = GraphAuthError(
            f"Microsoft Graph refused access ({said}): the account lacks a permission aligner "
            "needs or cannot use this feature; run `aligner doctor` to see which, then "
            "`aligner auth microsoft` again",
            surface,
        )
    elif status == 404:
        error = GraphNotFound(f"Microsoft Graph: not found ({said})", surface)
    elif status == 412:
        error = GraphPreconditionFailed(
            f"Microsoft Graph: changed since aligner read it ({said})", surface
        )
    elif status in RETRYABLE or status >= 500:
        error = GraphUnavailable(
            f"Microsoft Graph is throttling or unavailable ({said}); the next run will try again",
            surface,
            retry_after,
        )
    else:
        error = GraphRefused(f"Microsoft Graph refused the request ({said})", surface)
    error.http_status = status
    error.code = code
    return error
