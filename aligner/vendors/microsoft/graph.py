"""Microsoft Graph over httpx: one pooled connection per run, Graph's errors in aligner's tree.

Why httpx and not the official `msgraph-sdk`: the SDK's wheel alone is about 29 MB (measured:
msgraph_sdk-1.65.0-py3-none-any.whl is 29,209,169 bytes) and it brings Kiota's abstractions and
an async stack, for the handful of JSON calls aligner makes. httpx is small, keeps connections
alive (one TCP/TLS connection serves every call of a run), is thread-safe, and honours timeouts
exactly. It is imported only when a Microsoft surface connects.

Rules every caller gets:
- the access token is fetched on the first call (a run that calls nothing refreshes nothing);
- 429/503/504 are waited out after Retry-After within the run's WaitBudget
  (https://learn.microsoft.com/en-us/graph/throttling), else GraphUnavailable;
- `resend=False` (for a call that must go out at most once, such as sending mail) never
  repeats a request, not even after a 429 or 503: the error goes to the caller;
- a connection that drops before the answer is a TransientError with no `http_status`
  (`error.answered` is False): the caller asks Graph what happened before trying again;
- a loopback base URL (the sandbox) is never reached through a proxy;
- every client of a process shares one TLS context (`tls_context`): building httpx's default
  one loads the CA bundle, about 25 ms of CPU, and an SSLContext serves any number of clients.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aligner.errors import TransientError
from aligner.state.settings import is_loopback
from aligner.vendors.microsoft.errors import RETRYABLE, graph_error
from aligner.vendors.waits import WaitBudget

if TYPE_CHECKING:
    import ssl

    import httpx

TIMEOUT = 30.0  # seconds per request
BACKOFF = 1.0  # seconds, doubled per retry, when Graph sends no Retry-After
USER_AGENT = "Mozilla/5.0 (compatible)"  # nothing in a request names aligner


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: Any  # parsed JSON, or None for an empty body

    def json(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}


TokenSource = Callable[[], str]


@functools.cache
def tls_context(trust_env: bool) -> ssl.SSLContext:
    """httpx's own default context (certifi's CA bundle, or SSL_CERT_FILE / SSL_CERT_DIR when
    the environment is trusted), made once per process."""
    import httpx

    return httpx.create_ssl_context(trust_env=trust_env)


class Graph:
    """One Graph endpoint for one run of one surface (or one doctor check)."""

    def __init__(
        self,
        base_url: str,
        token: str | TokenSource,
        surface: str,
        *,
        budget: WaitBudget | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.surface = surface
        self.budget = budget or WaitBudget()
        self.timeout = timeout
        self._token_source: TokenSource = (lambda: token) if isinstance(token, str) else token
        self._token: str | None = None
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self.calls = 0  # requests sent this run (for tests and benchmarks)

    # -- the calls ------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, str] | None = None, **kw: Any) -> Answer:
        return self.call("GET", path, params=params, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Answer:
        return self.call("POST", path, body=body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Answer:
        return self.call("PATCH", path, body=body, **kw)

    def delete(self, path: str, **kw: Any) -> Answer:
        return self.call("DELETE", path, **kw)

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        resend: bool = True,
    ) -> Answer:
        """One Graph call; returns a 2xx answer or raises (see the module docstring)."""
        delay = BACKOFF
        while True:
            answer = self._send(method, path, body, params, headers)
            if answer.status < 400:
                return answer
            retry_after = _seconds(answer.headers.get("retry-after"))
            if resend and answer.status in RETRYABLE:
                wait = retry_after if retry_after is not None else delay
                if self.budget.wait(wait):
                    delay *= 2
                    continue
            raise graph_error(answer.status, answer.body, self.surface, retry_after)

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    # -- plumbing -------------------------------------------------------------------------

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                import httpx

                trust_env = not is_loopback(self.base_url)
                self._client = httpx.Client(
                    base_url=self.base_url,
                    timeout=self.timeout,
                    verify=tls_context(trust_env),
                    trust_env=trust_env,
                    headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                )
            if self._token is None:
                self._token = self._token_source()
            self.calls += 1  # under the lock: a surface's pool sends from several threads
            return self._client

    def _send(
        self,
        method: str,
        path: str,
        body: Any,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> Answer:
        import httpx

        client = self._http()
        sent = {"Authorization": f"Bearer {self._token}", **(headers or {})}
        try:
            response = client.request(
                method,
                path.lstrip("/"),
                json=body,
                params=dict(params) if params else None,
                headers=sent,
            )
        except httpx.ConnectError as exc:
            raise TransientError(
                f"cannot reach Microsoft Graph ({type(exc).__name__})", self.surface
            ) from None
        except httpx.HTTPError as exc:  # sent, but the answer was lost (dropped, timed out)
            raise TransientError(
                f"Microsoft Graph did not answer ({type(exc).__name__}); the next run asks "
                "Graph what happened before trying again",
                self.surface,
            ) from None
        return Answer(response.status_code, _lower(response.headers), _json(response.content))


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _lower(headers: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()}


def _json(raw: bytes) -> Any:
    import json

    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
