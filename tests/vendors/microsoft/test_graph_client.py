"""The Graph client (httpx) against a real loopback HTTP server: Graph's errors in aligner's
tree, Retry-After within the run's wait budget, one connection per run, no proxy for loopback,
and the token fetched only when a call is made. Waits are recorded, never slept or timed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from aligner.errors import TransientError
from aligner.sandbox.http import Request, Response, Routed
from aligner.sandbox.microsoft.common import GraphService, graph_json
from aligner.sandbox.server import Sandbox
from aligner.vendors.microsoft.errors import GraphAuthError, GraphRefused, GraphUnavailable
from aligner.vendors.microsoft.graph import Graph
from aligner.vendors.microsoft.scopes import PRESENCE
from aligner.vendors.waits import WaitBudget

TOKEN = "eyJ0eXAiOiJKV1QiLCJub25jZSI6InRlc3QifQ.graph-client-token"
GET = "presence.get"
SET = "presence.setStatusMessage"


@dataclass
class PresenceGraph(GraphService):
    """Just enough of /me/presence to exercise the client (the Teams surface owns the real one)."""

    forbidden_code = "Authorization_RequestDenied"

    def route(self, request: Request) -> Routed | None:
        sub = self.subpath(request)
        if sub == "me/presence" and request.method == "GET":
            return Routed(self.name, GET, False)
        if sub == "me/presence/setStatusMessage" and request.method == "POST":
            return Routed(self.name, SET, True)
        return None  # not ours

    def handle(self, request: Request, routed: Routed) -> Response:
        _, refused = self.authorize(request, PRESENCE)
        if refused is not None:
            return refused
        if routed.operation == SET:
            if "statusMessage" not in request.json():
                return self.error(
                    400, "ErrorInvalidRequest", "The request is invalid:\n  statusMessage missing"
                )
            return Response(200)
        body = {"id": "6e7b768e", "availability": "Available", "activity": "Available"}
        return Response(200, graph_json(body, "users('6e7b768e')/presence/$entity"))


class RecordedBudget(WaitBudget):
    """The run's wait budget, recording each wait instead of sleeping it."""

    def __init__(self, cap: float) -> None:
        super().__init__(cap)
        self.waited: list[float] = []

    def wait(self, seconds: float) -> bool:
        with self._lock:
            if seconds > self.left:
                self.exhausted = True
                return False
            self.left -= seconds
        self.waited.append(seconds)
        return True


@dataclass
class Server:
    box: Sandbox
    service: PresenceGraph
    connections: list[tuple[str, int]]
    clients: list[Graph]

    @property
    def url(self) -> str:
        return f"{self.box.url}graph/v1.0/"

    def requests(self, operation: str | None = None) -> int:
        return len(self.box.requests("graph", operation))

    def graph(self, cap: float = 30.0, token: Any = TOKEN, **kw: Any) -> Graph:
        graph = Graph(self.url, token, "probe", budget=RecordedBudget(cap), **kw)
        self.clients.append(graph)
        return graph


@pytest.fixture
def server() -> Iterator[Server]:
    service = PresenceGraph()
    service.directory.grant(TOKEN, PRESENCE)
    with Sandbox([service]) as box:
        assert box._server is not None
        accepted: list[tuple[str, int]] = []
        serve = box._server.process_request

        def counting(request: Any, client_address: Any) -> None:
            accepted.append(client_address)  # one per TCP connection the client opened
            serve(request, client_address)

        box._server.process_request = counting  # type: ignore[method-assign]
        made = Server(box, service, accepted, [])
        yield made
        for graph in made.clients:
            graph.close()


def test_a_successful_call_returns_graphs_json(server: Server) -> None:
    graph = server.graph()

    answer = graph.get("me/presence")

    assert answer.status == 200
    assert answer.json()["availability"] == "Available"
    assert answer.headers["content-type"].startswith("application/json")
    assert graph.calls == 1


def test_401_invalid_token_fails_fast_and_says_sign_in_again(server: Server) -> None:
    graph = server.graph(token="expired-token")

    with pytest.raises(GraphAuthError) as caught:
        graph.get("me/presence")

    error = caught.value
    assert str(error) == (
        "Microsoft Graph rejected the token (401 InvalidAuthenticationToken: Access token "
        "validation failure.): run `aligner auth microsoft` (or set "
        "ALIGNER_MICROSOFT_ACCESS_TOKEN)"
    )
    assert (error.http_status, error.code) == (401, "InvalidAuthenticationToken")
    assert server.requests() == 1


def test_403_request_denied_fails_fast_without_a_retry(server: Server) -> None:
    server.service.directory.revoke(TOKEN, PRESENCE)
    server.service.directory.grant(TOKEN, "Calendars.ReadWrite")
    graph = server.graph()

    with pytest.raises(GraphAuthError) as caught:
        graph.post("me/presence/setStatusMessage", {"statusMessage": {}})

    assert caught.value.code == "Authorization_RequestDenied"
    assert "403 Authorization_RequestDenied: Access is denied." in str(caught.value)
    assert "aligner auth microsoft" in str(caught.value)
    assert server.requests() == 1
    assert graph.budget.left == graph.budget.cap  # nothing waited


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_is_waited_out_after_retry_after_within_the_budget(
    server: Server, status: int
) -> None:
    server.box.inject(GET, status=status, retry_after=3, times=2)
    graph = server.graph(cap=10)

    answer = graph.get("me/presence")

    assert answer.status == 200
    assert server.requests(GET) == 3
    assert isinstance(graph.budget, RecordedBudget)
    assert graph.budget.waited == [3.0, 3.0]  # Graph's Retry-After, not a guess


def test_a_wait_beyond_the_budget_is_not_made(server: Server) -> None:
    server.box.inject(GET, status=429, retry_after=120)
    graph = server.graph(cap=5)

    with pytest.raises(GraphUnavailable) as caught:
        graph.get("me/presence")

    assert server.requests(GET) == 1  # one request, then the next run tries again
    assert isinstance(graph.budget, RecordedBudget) and graph.budget.waited == []
    assert graph.budget.exhausted
    assert caught.value.retry_after == 120
    assert caught.value.code == "TooManyRequests"
    assert str(caught.value).startswith(
        "Microsoft Graph is throttling or unavailable (429 TooManyRequests: Too many requests.)"
    )


def test_the_budget_is_shared_by_every_call_of_the_run(server: Server) -> None:
    server.box.inject(GET, status=503, retry_after=4, times=2)
    graph = server.graph(cap=10)
    assert graph.get("me/presence").status == 200  # waited 4 + 4

    server.box.inject(GET, status=503, retry_after=4)
    with pytest.raises(GraphUnavailable):
        graph.get("me/presence")  # 4 more would pass the cap of 10

    assert server.requests(GET) == 4


def test_resend_false_never_repeats_a_request(server: Server) -> None:
    server.box.inject(SET, status=503, retry_after=0)
    graph = server.graph()

    with pytest.raises(GraphUnavailable):
        graph.post("me/presence/setStatusMessage", {"statusMessage": {}}, resend=False)

    assert server.requests(SET) == 1


def test_a_dropped_connection_is_transient_and_unanswered(server: Server) -> None:
    server.box.inject(SET, kind="drop")
    graph = server.graph()

    with pytest.raises(TransientError) as caught:
        graph.post("me/presence/setStatusMessage", {"statusMessage": {"message": {}}})

    assert not caught.value.answered and caught.value.http_status is None
    assert "did not answer" in str(caught.value)
    assert server.requests(SET) == 1  # it reached Graph: the caller must ask before resending


def test_an_unreachable_graph_is_transient(server: Server) -> None:
    port = server.box.port
    server.box.stop()
    graph = Graph(f"http://127.0.0.1:{port}/graph/v1.0/", TOKEN, "probe")

    with pytest.raises(TransientError, match=r"cannot reach Microsoft Graph \(ConnectError\)"):
        graph.get("me/presence")
    graph.close()


def test_graphs_error_envelope_is_one_line(server: Server) -> None:
    graph = server.graph()

    with pytest.raises(GraphRefused) as caught:
        graph.post("me/presence/setStatusMessage", {"wrong": True})

    message = str(caught.value)
    assert message == (
        "Microsoft Graph refused the request (400 ErrorInvalidRequest: The request is invalid: "
        "statusMessage missing)"
    )
    assert "\n" not in message and caught.value.code == "ErrorInvalidRequest"


def test_one_connection_serves_every_call_of_a_run(server: Server) -> None:
    graph = server.graph()

    for _ in range(4):
        graph.get("me/presence")
    graph.post("me/presence/setStatusMessage", {"statusMessage": {}})
    graph.close()

    assert server.requests() == 5
    assert len(server.connections) == 1


def test_a_loopback_graph_is_never_reached_through_a_proxy(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = "http://127.0.0.1:9"  # the discard port: nothing listens
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, dead)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with httpx.Client(trust_env=True) as proxied, pytest.raises(httpx.ConnectError):
        proxied.get(server.url + "me/presence")  # the proxy really is in the way

    assert server.graph().get("me/presence").status == 200


def test_the_token_is_fetched_on_the_first_call_only(server: Server) -> None:
    asked: list[int] = []

    def token() -> str:
        asked.append(1)
        return TOKEN

    idle = server.graph(token=token)
    idle.close()
    assert asked == []  # a run that calls nothing signs in to nothing

    graph = server.graph(token=token)
    graph.get("me/presence")
    graph.get("me/presence")
    assert asked == [1]


def test_every_client_of_a_process_shares_one_tls_context(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading the CA bundle costs ~25 ms of CPU: once per process, not once per client."""
    import ssl

    from aligner.vendors.microsoft.graph import tls_context

    made: list[ssl.SSLContext] = []
    original = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(original(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(ssl, "create_default_context", counting)
    tls_context.cache_clear()
    for _ in range(3):
        server.graph().get("me/presence")
    assert len(made) == 1
