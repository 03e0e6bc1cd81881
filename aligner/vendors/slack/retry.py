"""slack-sdk retry handlers that wait only within the run's budget (ALIGNER_RETRY_CAP).

slack-sdk's own RateLimitErrorRetryHandler sleeps int(Retry-After) + random() however long
Slack asks; these take every wait from a `WaitBudget` instead and give up, without waiting,
when it cannot cover one. Imported only by `slack_client` (it imports slack-sdk).

- 429: retried after Retry-After, if the budget covers it;
- 500/503: retried with backoff, within the budget;
- a connection refused or reset: retried (nothing reached Slack, or the call is idempotent);
- a timeout waiting for the answer: a read is retried once; a write never (it may have landed).
"""

from __future__ import annotations

import random
from urllib.error import URLError

from slack_sdk.http_retry import RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse

from aligner.vendors.waits import WaitBudget

READ_VERBS = frozenset({"get", "list", "info", "test", "history", "lookupByEmail"})


def is_read(request: HttpRequest) -> bool:
    """A Web API method that only reads (users.profile.get, auth.test, …)."""
    method = request.url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    return method.rsplit(".", 1)[-1] in READ_VERBS


def retry_after(response: HttpResponse | None) -> float:
    headers = response.headers if response is not None else {}
    for name, values in headers.items():
        if name.lower() == "retry-after" and values:
            value = str(values[0]).strip()
            if value.replace(".", "", 1).isdigit():
                return float(value)
    return 1.0


class _Budgeted(RetryHandler):
    waits: WaitBudget

    def _delay(self, state: RetryState, response: HttpResponse | None) -> float:
        return float(self.interval_calculator.calculate_sleep_duration(state.current_attempt))

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if self.waits.wait(self._delay(state, response)):
            state.next_attempt_requested = True
            state.increment_current_attempt()


class RateLimitRetry(_Budgeted):
    def __init__(self, waits: WaitBudget, max_retry_count: int = 3) -> None:
        super().__init__(max_retry_count)
        self.waits = waits

    def _delay(self, state: RetryState, response: HttpResponse | None) -> float:
        return retry_after(response) + random.random() / 10

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code == 429


class ServerErrorRetry(_Budgeted, ServerErrorRetryHandler):
    def __init__(self, waits: WaitBudget, max_retry_count: int = 3) -> None:
        ServerErrorRetryHandler.__init__(self, max_retry_count)
        self.waits = waits


class ConnectionRetry(_Budgeted, ConnectionErrorRetryHandler):
    """Connection refused or reset (slack-sdk's list); never a timeout waiting for an answer."""

    def __init__(self, waits: WaitBudget, max_retry_count: int = 2) -> None:
        ConnectionErrorRetryHandler.__init__(self, max_retry_count)
        self.waits = waits

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _timed_out(error) and not is_read(request):
            return False  # the write may have landed: the next run reads and decides
        return super()._can_retry(state=state, request=request, response=response, error=error)


class ReadTimeoutRetry(_Budgeted):
    """A read that timed out is asked once more; a write is not (it may have gone through)."""

    def __init__(self, waits: WaitBudget) -> None:
        super().__init__(max_retry_count=1)
        self.waits = waits

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is None and _timed_out(error) and is_read(request)


def _timed_out(error: Exception | None) -> bool:
    if isinstance(error, URLError):
        return isinstance(error.reason, TimeoutError)
    return isinstance(error, TimeoutError)


def retry_handlers(waits: WaitBudget) -> list[RetryHandler]:
    return [
        ConnectionRetry(waits),
        ReadTimeoutRetry(waits),
        RateLimitRetry(waits),
        ServerErrorRetry(waits),
    ]
