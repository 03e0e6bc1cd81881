"""Request/response values shared by the sandbox services (no HTTP server code here)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query string, percent-decoding left to the service
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def bearer(self) -> str | None:
        """The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1,
        https://datatracker.ietf.org/doc/html/rfc6750#section-2.1), or None.
        """
        auth = self.headers.get("authorization", "")
        return auth[7:].strip() if auth.lower().startswith("bearer ") else None

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def form(self) -> dict[str, str]:
        parsed = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}


@dataclass
class Response:
    status: int = 200
    body: Any = None  # JSON-able, or bytes
    headers: dict[str, str] = field(default_factory=dict)
    hang_up: bool = False  # close the connection after this answer, without a Connection header

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode("utf-8")


@dataclass(frozen=True)
class Routed:
    """What a service makes of a request: the operation name and whether it writes."""

    service: str
    operation: str
    writes: bool


class Service:
    """A fake vendor API: state plus request handling, with errors in the vendor's own shape."""

    name: str = ""
    prefix: str = ""

    def route(self, request: Request) -> Routed | None:
        raise NotImplementedError

    def handle(self, request: Request, routed: Routed) -> Response:
        raise NotImplementedError

    def fault_response(self, status: int, retry_after: int | None) -> Response:
        """The vendor's error body for an injected HTTP error.

        Each service overrides this with its vendor's shape (Slack: slack/service.py; Google:
        google/common.py `google_error`). Retry-After is the standard HTTP header (RFC 9110 §10.2.3,
        https://datatracker.ietf.org/doc/html/rfc9110#section-10.2.3), sent only when a test asks.
        """
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return Response(status, {"error": {"code": status, "message": "injected fault"}}, headers)

    def snapshot(self) -> Any:
        return {}
