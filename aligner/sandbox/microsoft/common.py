"""What every fake Graph resource shares: bearer tokens and their permissions, the error envelope.

Graph's error body (https://learn.microsoft.com/en-us/graph/errors):
    {"error": {"code": "InvalidAuthenticationToken", "message": "Access token is empty.",
               "innerError": {"date": "2026-12-01T09:00:00", "request-id": "…",
                              "client-request-id": "…"}}}
A request without a token, or with one Graph does not accept, is 401 InvalidAuthenticationToken
with a `WWW-Authenticate: Bearer …` header; a token without the permission a call needs is 403
(the code depends on the workload: `ErrorAccessDenied` for Outlook mail and calendar, `Forbidden`
elsewhere). Injected 429/503 faults carry Retry-After as Graph's throttling does
(https://learn.microsoft.com/en-us/graph/throttling).

Every resource is served under `/graph/v1.0/` (ALIGNER_GRAPH_API_URL = {sandbox}/graph/v1.0/).
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aligner.sandbox.http import Request, Response, Service
from aligner.sandbox.server import Clock

if TYPE_CHECKING:
    from aligner.sandbox.seed import SandboxSeed

PREFIX = "/graph/v1.0/"
WWW_AUTHENTICATE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/'
    'authorize", client_id="00000003-0000-0000-c000-000000000000"'
)
FAULT_CODES = {
    400: "BadRequest",
    401: "InvalidAuthenticationToken",
    403: "Forbidden",
    404: "ResourceNotFound",
    409: "Conflict",
    412: "PreconditionFailed",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceNotAvailable",
    504: "GatewayTimeout",
}


def graph_error(
    status: int,
    code: str,
    message: str,
    clock: Clock | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A Graph error answer (see the module docstring for its shape)."""
    now = (clock or Clock()).now()
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": now.strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": str(uuid.uuid4()),
                "client-request-id": str(uuid.uuid4()),
            },
        }
    }
    return Response(status, body, dict(headers or {}))


@dataclass
class GraphPerson:
    """The signed-in user (`/me`)."""

    id: str = "6e7b768e-07e2-4810-8459-485f84f8f204"
    user_principal_name: str = "alex@example.com"
    display_name: str = "Alex Rivera"
    work_account: bool = True  # False: a personal Microsoft account (no presence)


@dataclass
class GraphGrant:
    scopes: set[str]  # delegated permissions, e.g. {"Presence.ReadWrite"}
    person: GraphPerson


@dataclass
class GraphDirectory:
    """Access tokens -> what they grant, shared by every fake Graph resource."""

    person: GraphPerson = field(default_factory=GraphPerson)
    tokens: dict[str, GraphGrant] = field(default_factory=dict)

    def grant(self, token: str, *scopes: str) -> GraphGrant:
        found = self.tokens.setdefault(token, GraphGrant(set(), self.person))
        found.scopes.update(scopes)
        return found

    def revoke(self, token: str, *scopes: str) -> None:
        """Take `scopes` away from `token` (all of them, and the token, when none named)."""
        if not scopes:
            self.tokens.pop(token, None)
        elif token in self.tokens:
            self.tokens[token].scopes.difference_update(scopes)


@dataclass
class GraphService(Service):
    """Base of the fake Graph resources: routing under /graph/v1.0/, tokens, errors."""

    directory: GraphDirectory = field(default_factory=GraphDirectory)
    clock: Clock = field(default_factory=Clock)
    name = "graph"
    prefix = PREFIX
    forbidden_code = "Forbidden"  # the 403 code of this workload

    @staticmethod
    def subpath(request: Request) -> str:
        """The path after /graph/v1.0/, without a trailing slash: `me/presence`."""
        return request.path[len(PREFIX) :].rstrip("/")

    def authorize(
        self, request: Request, *scopes: str
    ) -> tuple[GraphGrant | None, Response | None]:
        """The grant behind the request's token, or the answer Graph gives instead: 401 for a
        missing or unknown token, 403 when the token lacks every one of `scopes`."""
        token = request.bearer()
        if not token:
            return None, self.error(401, "InvalidAuthenticationToken", "Access token is empty.")
        grant = self.directory.tokens.get(token)
        if grant is None:
            return None, self.error(
                401, "InvalidAuthenticationToken", "Access token validation failure."
            )
        held = {s.lower() for s in grant.scopes}
        if scopes and not any(s.lower() in held for s in scopes):
            return grant, self.error(
                403, self.forbidden_code, "Access is denied. Check credentials and try again."
            )
        return grant, None

    def error(self, status: int, code: str, message: str, **headers: str) -> Response:
        extra = dict(headers)
        if status == 401:
            extra.setdefault("WWW-Authenticate", WWW_AUTHENTICATE)
        return graph_error(status, code, message, self.clock, extra)

    def fault_response(self, status: int, retry_after: int | None) -> Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        code = FAULT_CODES.get(status, "UnknownError")
        message = "Too many requests." if status == 429 else "The service is unavailable."
        if status < 429:
            message = "Injected fault."
        return self.error(status, code, message, **headers)


# -- the sandbox's Microsoft 365 person ----------------------------------------------------------


def _unsigned_jwt(claims: dict[str, Any]) -> str:
    """A JWT-shaped token (header.claims.signature) such as Graph issues, for doctor to read;
    the sandbox checks tokens by value, never by signature."""

    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return f"{part({'typ': 'JWT', 'alg': 'none'})}.{part(claims)}.sandbox"


# The person's delegated grant as Graph access tokens carry it (`scp`, space separated), for a
# work account (`tid` of an organisation), valid until 2100.
GRAPH_TOKEN = _unsigned_jwt(
    {
        "aud": "https://graph.microsoft.com",
        "tid": "72f988bf-0000-4000-8000-000000000000",
        "upn": GraphPerson.user_principal_name,
        "scp": "Calendars.ReadWrite Mail.ReadWrite Mail.Send Presence.ReadWrite",
        "exp": 4102444800,
    }
)


def seed_account(box: SandboxSeed) -> GraphDirectory:
    """The person's work account and its token (each surface grants its own permissions)."""

    def make() -> GraphDirectory:
        directory = GraphDirectory()
        directory.grant(GRAPH_TOKEN, "offline_access")
        return directory

    return box.shared(GraphDirectory, make)


def grant_sandbox_scopes(directory: GraphDirectory, *scopes: str) -> None:
    """The person consented to `scopes` for aligner (a surface's seed asks for its own)."""
    directory.grant(GRAPH_TOKEN, *scopes)


def sandbox_env(url: str) -> dict[str, str]:
    return {
        "ALIGNER_GRAPH_API_URL": f"{url}graph/v1.0/",
        "ALIGNER_MICROSOFT_ACCESS_TOKEN": GRAPH_TOKEN,
    }


def graph_json(value: dict[str, Any], context: str) -> dict[str, Any]:
    """A Graph entity body with its `@odata.context` first, as Graph sends it."""
    return {"@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#{context}", **value}
