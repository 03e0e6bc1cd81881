"""A few lines of GraphQL over the standard library's urllib.request: no SDK, no new dependency.

GitHub's GraphQL API takes every call as one POST of `{"query", "variables"}` to one endpoint,
authenticated with `Authorization: bearer TOKEN`
(https://docs.github.com/en/graphql/guides/forming-calls-with-graphql). How it answers, and what
aligner makes of it:

- 401 (bad, expired or revoked credentials): AuthError, fail fast, say what to do.
- GraphQL `errors` may arrive with HTTP 200: they are errors, never a success. An error of type
  `INSUFFICIENT_SCOPES` is an AuthError naming the scope; `RATE_LIMITED` is a rate limit.
- `X-OAuth-Scopes` lists a classic token's scopes and `X-Accepted-OAuth-Scopes` what the call
  accepts (https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps);
  a fine-grained token sends neither.
- Secondary rate limits are 403 or 429; wait `retry-after` seconds when given, else until
  `x-ratelimit-reset` when `x-ratelimit-remaining` is 0, else at least a minute
  (https://docs.github.com/en/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api).
  aligner waits within a cap per run (WAIT_CAP) and otherwise leaves it to the next run.
- 502/503/504 are retried within the same cap; a dropped connection is not re-sent (the next
  run reads what GitHub shows and carries on from there).

A loopback URL (the sandbox) is never reached through a proxy.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aligner.errors import AuthError, PermanentError, SurfaceError, TransientError
from aligner.state.settings import is_loopback

TIMEOUT = 30.0  # seconds per request
WAIT_CAP = 30.0  # seconds of rate-limit waiting per run, in total
RETRYABLE = (502, 503, 504)
NEEDED_SCOPE = "user"  # classic tokens: changeUserStatus needs it
FIX_TOKEN = (
    "create a classic token with the user scope (or a fine-grained one with the Profile "
    "permission, read and write) and run `aligner auth github` (or set ALIGNER_GITHUB_TOKEN)"
)
_SCOPES_IN_MESSAGE = re.compile(r"requires one of the following scopes: \[([^\]]*)\]")


@dataclass(frozen=True)
class Answer:
    data: dict[str, Any]
    scopes: tuple[str, ...] | None  # X-OAuth-Scopes; None when absent (a fine-grained token)


def scope_list(header: str | None) -> tuple[str, ...] | None:
    if header is None:
        return None
    return tuple(s.strip() for s in header.split(",") if s.strip())


class GraphQL:
    """One GitHub GraphQL endpoint with one token; `waited` counts this run's rate-limit waits."""

    def __init__(
        self,
        url: str,
        token: str,
        surface: str,
        *,
        timeout: float = TIMEOUT,
        wait_cap: float = WAIT_CAP,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url, self.token, self.surface = url, token, surface
        self.timeout, self.wait_cap, self.sleep = timeout, wait_cap, sleep
        self.waited = 0.0
        handlers = [urllib.request.ProxyHandler({})] if is_loopback(url) else []
        self._opener = urllib.request.build_opener(*handlers)

    def __call__(self, document: str, variables: Mapping[str, Any] | None = None) -> Answer:
        """Run one query or mutation; every GitHub error becomes aligner's error tree."""
        while True:
            status, headers, body = self._post(document, variables or {})
            wait = _rate_limit_wait(status, headers, body)
            if wait is None and status in RETRYABLE:
                wait = _seconds(headers.get("retry-after")) or 1.0
            if wait is not None:
                self._wait(wait, status)
                continue
            return self._answer(status, headers, body)

    def _post(self, document: str, variables: Mapping[str, Any]) -> tuple[int, dict[str, str], Any]:
        payload = json.dumps({"query": document, "variables": dict(variables)}).encode("utf-8")
        request = urllib.request.Request(
            self.url,
            data=payload,
            method="POST",
            headers={
                "Authorization": f"bearer {self.token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return response.status, _lower(response.headers), _json(response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, _lower(exc.headers), _json(exc.read())
        except (OSError, ValueError) as exc:  # refused, reset, timed out, dropped
            reason = getattr(exc, "reason", None) or type(exc).__name__
            raise TransientError(f"cannot reach GitHub ({reason})", self.surface) from None

    def _wait(self, seconds: float, status: int) -> None:
        if self.waited + seconds > self.wait_cap:
            error = TransientError(
                f"GitHub is rate limiting or unavailable ({status}); the next run will try again",
                self.surface,
                seconds,
            )
            error.http_status = status
            raise error
        self.waited += seconds
        self.sleep(seconds)

    def _answer(self, status: int, headers: Mapping[str, str], body: Any) -> Answer:
        message = body.get("message") if isinstance(body, dict) else None
        if status == 401:
            raise self._answered(
                AuthError(f"GitHub rejected the token ({message or 401}): {FIX_TOKEN}", ""), status
            )
        if status == 403:
            raise self._answered(AuthError(f"GitHub refused access ({message or 403})", ""), status)
        if status >= 400 or not isinstance(body, dict):
            raise self._answered(
                PermanentError(f"GitHub answered {status} ({message})", ""), status
            )
        errors = body.get("errors") or []
        if errors:
            raise self._answered(self._graphql_error(errors, headers), status)
        return Answer(dict(body.get("data") or {}), scope_list(headers.get("x-oauth-scopes")))

    def _graphql_error(self, errors: list[Any], headers: Mapping[str, str]) -> SurfaceError:
        first = errors[0] if isinstance(errors[0], dict) else {"message": str(errors[0])}
        kinds = {str(e.get("type")) for e in errors if isinstance(e, dict)}
        if "INSUFFICIENT_SCOPES" in kinds:
            found = _SCOPES_IN_MESSAGE.search(str(first.get("message", "")))
            needed = found.group(1).replace("'", "") if found else None
            needed = needed or headers.get("x-accepted-oauth-scopes") or NEEDED_SCOPE
            return AuthError(f"the GitHub token lacks the {needed} scope: {FIX_TOKEN}", "")
        if "RATE_LIMITED" in kinds:
            return TransientError("GitHub rate limited aligner; the next run will try again", "")
        what = f"{first.get('message', 'an error')}"
        extensions = first.get("extensions")
        kind = first.get("type") or (
            extensions.get("code") if isinstance(extensions, dict) else None
        )
        return PermanentError(
            f"GitHub refused the request: {what}" + (f" ({kind})" if kind else "")
        )

    def _answered(self, error: SurfaceError, status: int) -> SurfaceError:
        error.surface = self.surface
        error.http_status = status
        return error


def _rate_limit_wait(status: int, headers: Mapping[str, str], body: Any) -> float | None:
    """Seconds to wait before trying again, or None when this answer is not a rate limit."""
    limited = status in (403, 429) or (
        status == 200
        and isinstance(body, dict)
        and any(
            isinstance(e, dict) and e.get("type") == "RATE_LIMITED"
            for e in body.get("errors") or []
        )
    )
    if not limited:
        return None
    retry = _seconds(headers.get("retry-after"))
    if retry is not None:
        return retry
    if headers.get("x-ratelimit-remaining") == "0":
        reset = _seconds(headers.get("x-ratelimit-reset"))
        if reset is not None:
            return max(0.0, reset - time.time())
    message = body.get("message", "") if isinstance(body, dict) else ""
    if status == 429 or "rate limit" in str(message).lower() or status == 200:
        return 60.0  # GitHub: "wait for at least one minute before retrying"
    return None  # a 403 that is not a rate limit: refused for good


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _lower(headers: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers.items() if headers else [])}


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return None
