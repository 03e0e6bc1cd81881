"""The sandbox: fake Slack / Google endpoints over loopback HTTP, served from a thread.

Per-service state and request handling live in their own modules (slack/service.py,
google/calendar/service.py, google/gmail/*.py, google/common.py), each citing the vendor
documentation it follows; this module emulates no vendor behaviour. It only parses HTTP, keeps
the request log, injects faults (each service shapes the error body as its vendor does, see
`Service.fault_response`) and serves the control path:

    GET  /_sandbox/requests          the request log (each with the connection it came over)
    GET  /_sandbox/state             every service's state
    POST /_sandbox/faults            {"operation": "...", "kind": "status|latency|drop|hangup", ...}
    POST /_sandbox/clock             {"now": "2026-12-01T09:00:00Z"} (or null for the real clock)
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aligner.sandbox.http import Request, Response, Routed, Service

CONTROL = "/_sandbox/"


@dataclass
class Fault:
    """An injected misbehaviour for the next `times` matching requests."""

    operation: str  # e.g. "users.profile.set", "calendar.events.insert"; "*" for any
    # "status" | "latency" | "drop" (drop the connection after committing, unanswered) |
    # "hangup" (answer, then close the connection unannounced, as a server closes an idle
    # keep-alive connection)
    kind: str
    status: int = 503
    retry_after: int | None = None
    seconds: float = 0.0
    times: int = 1

    def matches(self, routed: Routed) -> bool:
        return self.times > 0 and self.operation in ("*", routed.operation)


@dataclass(frozen=True)
class LoggedRequest:
    at: float
    service: str
    operation: str
    writes: bool
    method: str
    path: str
    status: int
    body: bytes
    connection: int = 0  # which accepted connection it came over (1 for the first)


@dataclass
class Clock:
    """The sandbox's idea of now: real time unless a test or rehearsal pins it."""

    pinned: datetime | None = None

    def now(self) -> datetime:
        return self.pinned or datetime.now(UTC)


@dataclass
class Sandbox:
    services: list[Service]
    host: str = "127.0.0.1"
    port: int = 0
    clock: Clock = field(default_factory=Clock)
    log: list[LoggedRequest] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    accepted: int = 0  # TCP connections accepted so far (keep-alive reuse shows here)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _handling: threading.local = field(default_factory=threading.local)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Sandbox:
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() waits for one poll: keep it short
            daemon=True,
            name="aligner-sandbox",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            # Wake the serving loop now rather than at its next poll (up to 50 ms: tests start
            # and stop hundreds of sandboxes): a shut-down listening socket is readable at once,
            # its accept fails and the loop sees the shutdown request. Where the platform
            # refuses, the poll still ends it.
            with contextlib.suppress(OSError):
                self._server.socket.shutdown(socket.SHUT_RDWR)
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def service(self, name: str) -> Any:
        return next(s for s in self.services if s.name == name)

    def state(self) -> dict[str, Any]:
        """Every service's snapshot by service name; services sharing one name (the Graph
        resources) have their snapshots merged."""
        found: dict[str, Any] = {}
        for service in self.services:
            snapshot = service.snapshot()
            earlier = found.get(service.name)
            if isinstance(earlier, dict) and isinstance(snapshot, dict):
                found[service.name] = {**earlier, **snapshot}
            else:
                found[service.name] = snapshot
        return found

    # -- control -----------------------------------------------------------------------------

    def inject(self, operation: str, kind: str = "status", **options: Any) -> Fault:
        fault = Fault(operation, kind, **options)
        with self._lock:
            self.faults.append(fault)
        return fault

    def requests(
        self, service: str | None = None, operation: str | None = None, writes: bool | None = None
    ) -> list[LoggedRequest]:
        with self._lock:
            return [
                r
                for r in self.log
                if (service is None or r.service == service)
                and (operation is None or r.operation == operation)
                and (writes is None or r.writes == writes)
            ]

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def _take_fault(self, routed: Routed, kinds: Iterable[str]) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.kind in kinds and fault.matches(routed):
                    fault.times -= 1
                    return fault
        return None

    def _accept(self) -> None:
        """Count a new connection and number it for the thread that serves it (each
        connection has its own thread): the requests it carries are logged with its number."""
        with self._lock:
            self.accepted += 1
            self._handling.connection = self.accepted

    def connections(self, service: str | None = None, operation: str | None = None) -> int:
        """How many distinct connections the matching logged requests came over."""
        return len({r.connection for r in self.requests(service, operation)})

    def _record(self, routed: Routed, request: Request, status: int) -> None:
        connection = getattr(self._handling, "connection", 0)
        with self._lock:
            self.log.append(
                LoggedRequest(
                    time.time(),
                    routed.service,
                    routed.operation,
                    routed.writes,
                    request.method,
                    request.path,
                    status,
                    request.body,
                    connection,
                )
            )

    # -- dispatch ----------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response | None:
        """Return the response to send, or None to drop the connection without answering."""
        if request.path.startswith(CONTROL):
            return self._control(request)
        for service in self.services:
            if not request.path.startswith(service.prefix):
                continue
            routed = service.route(request)
            if routed is None:
                continue
            return self._serve(service, routed, request)
        return Response(404, {"error": f"sandbox: no endpoint for {request.method} {request.path}"})

    def _serve(self, service: Service, routed: Routed, request: Request) -> Response | None:
        delay = self._take_fault(routed, ("latency",))
        if delay:
            time.sleep(delay.seconds)
        failure = self._take_fault(routed, ("status",))
        if failure:
            self._record(routed, request, failure.status)
            return service.fault_response(failure.status, failure.retry_after)
        with self._lock:
            response = service.handle(request, routed)
        self._record(routed, request, response.status)
        if self._take_fault(routed, ("drop",)):
            return None
        if self._take_fault(routed, ("hangup",)):
            response.hang_up = True
        return response

    def _control(self, request: Request) -> Response:
        what = request.path[len(CONTROL) :].strip("/")
        if what == "requests":
            return Response(
                200,
                [
                    {
                        "service": r.service,
                        "operation": r.operation,
                        "writes": r.writes,
                        "method": r.method,
                        "path": r.path,
                        "status": r.status,
                        "connection": r.connection,
                    }
                    for r in self.requests()
                ],
            )
        if what == "state":
            with self._lock:
                return Response(200, self.state())
        if what == "faults" and request.method == "POST":
            spec = request.json()
            self.inject(spec.pop("operation"), spec.pop("kind", "status"), **spec)
            return Response(200, {"ok": True})
        if what == "clock" and request.method == "POST":
            value = request.json().get("now")
            self.clock.pinned = datetime.fromisoformat(value) if value else None
            return Response(200, {"now": self.clock.now().isoformat()})
        return Response(404, {"error": f"unknown control path {request.path}"})


def _make_handler(sandbox: Sandbox) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: the sandbox keeps its own log

        def setup(self) -> None:
            super().setup()
            sandbox._accept()

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            response = sandbox.dispatch(request)
            if response is None:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            payload = response.encoded()
            self.send_response(response.status)
            content_type = response.headers.pop("Content-Type", "application/json; charset=utf-8")
            if payload:
                self.send_header("Content-Type", content_type)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            if response.hang_up:
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    return Handler


__all__ = ["Clock", "Fault", "LoggedRequest", "Sandbox"]
