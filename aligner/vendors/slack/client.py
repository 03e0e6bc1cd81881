"""The one way aligner builds a slack-sdk WebClient, and reads Slack's errors.

slack-sdk is imported inside these functions, so a command that talks to no Slack pays nothing.
Every Web API call is an HTTP POST answering 200 with `{"ok": …}`; errors come as
`{"ok": false, "error": "<code>"}` (https://api.slack.com/web#responses), rate limits as 429 with
Retry-After (https://api.slack.com/apis/rate-limits).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aligner.errors import AuthError, PermanentError, SurfaceError, TransientError
from aligner.state.settings import exempt_loopback_from_proxies, is_loopback
from aligner.vendors.slack.settings import SlackSettings
from aligner.vendors.waits import RATE_LIMITED, WaitBudget

TIMEOUT = 30  # seconds for one request to answer

if TYPE_CHECKING:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

# https://api.slack.com/methods/users.profile.set (errors) and the common errors of every method
AUTH_ERRORS = {
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "token_expired",
    "account_inactive",
    "no_permission",
    "not_allowed_token_type",
}
RETRYABLE = {
    "ratelimited",
    "rate_limited",
    "service_unavailable",
    "request_timeout",
    "fatal_error",
    "internal_error",
}


def slack_client(
    settings: SlackSettings, token: str | None = None, *, retry: bool = False
) -> WebClient:
    """A client for ALIGNER_SLACK_API_URL; a loopback sandbox is never reached via a proxy.

    `retry`: retry connection errors, 429 (after Retry-After) and 500/503 a few times, and a
    read that timed out once, waiting at most ALIGNER_RETRY_CAP seconds in all (see `retry`).
    """
    from slack_sdk import WebClient

    from aligner.vendors.slack.retry import retry_handlers

    url = settings.slack_api_url
    client = WebClient(
        token=token,
        base_url=url if url.endswith("/") else url + "/",
        timeout=TIMEOUT,
        retry_handlers=retry_handlers(WaitBudget(settings.retry_cap)) if retry else None,
    )
    if is_loopback(url):  # slack-sdk copies HTTPS_PROXY into the client; undo that here
        client.proxy = None
        exempt_loopback_from_proxies()
    return client


def call(method: Callable[..., Any], surface: str, **kwargs: Any) -> Any:
    """One Web API call; Slack's errors become aligner's error tree (never carrying a token)."""
    from slack_sdk.errors import SlackApiError

    try:
        return method(**kwargs)
    except SlackApiError as exc:
        raise translate(exc, surface) from None
    except OSError as exc:
        raise TransientError(f"cannot reach Slack ({exc})", surface) from None


def translate(exc: SlackApiError, surface: str) -> SurfaceError:
    response = exc.response
    code = str(response.get("error", "")) if response is not None else ""
    status = response.status_code if response is not None else 0
    if code == "missing_scope":
        needed = response.get("needed", "users.profile:write")
        return AuthError(
            f"the Slack token lacks the {needed} scope: add it to your Slack app's "
            "user token scopes and reinstall the app",
            surface,
        )
    if code in AUTH_ERRORS:
        return AuthError(
            f"Slack rejected the token ({code}): create a new user token and put it "
            "in ALIGNER_SLACK_TOKEN",
            surface,
        )
    if status == 429 or code in ("ratelimited", "rate_limited"):
        retry = response.headers.get("retry-after") if response is not None else None
        asked = f"Slack asked to wait {retry} s" if retry else "Slack"
        return TransientError(
            f"{asked}: {RATE_LIMITED}",
            surface,
            float(retry) if retry and str(retry).isdigit() else None,
        )
    if status >= 500 or code in RETRYABLE:
        retry = response.headers.get("retry-after") if response is not None else None
        return TransientError(
            f"Slack is unavailable right now ({code or status}); the next run will try again",
            surface,
            float(retry) if retry and str(retry).isdigit() else None,
        )
    return PermanentError(f"Slack refused the change ({code or status})", surface)
