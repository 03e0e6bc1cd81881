"""What every fake Google API shares: bearer-token scopes, the error envelope, the token endpoint.

Error body, as Google sends it:
    {"error": {"code": 404, "message": "Not Found", "status": "NOT_FOUND",
               "errors": [{"domain": "global", "reason": "notFound", "message": "Not Found"}]}}
The `errors[]` list with `domain`/`reason`/`message`:
    https://developers.google.com/calendar/api/guides/errors
    https://developers.google.com/gmail/api/guides/handle-errors
`status`, the canonical code of the HTTP status (google.rpc.Code, "HTTP Mapping"):
    https://cloud.google.com/apis/design/errors
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aligner.sandbox.http import Request, Response, Routed, Service

if TYPE_CHECKING:
    from aligner.sandbox.seed import SandboxSeed

# HTTP status -> canonical code, from google.rpc.Code's "HTTP Mapping"
# (https://cloud.google.com/apis/design/errors). 410 has no mapping there: NOT_FOUND is the
# sandbox's choice, not documented.
STATUS_TEXT = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    410: "NOT_FOUND",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
# Default `reason` per status, as the Calendar errors guide lists them
# (https://developers.google.com/calendar/api/guides/errors); `deleted` for 410 is reported,
# not documented: https://github.com/googleapis/google-api-python-client/issues/210
DEFAULT_REASON = {
    400: "badRequest",
    401: "authError",
    403: "forbidden",
    404: "notFound",
    409: "duplicate",
    410: "deleted",
    429: "rateLimitExceeded",
    500: "backendError",
    503: "backendError",
}


def google_error(
    status: int,
    message: str,
    reason: str | None = None,
    domain: str = "global",
    headers: dict[str, str] | None = None,
) -> Response:
    """A Google JSON error (see the module docstring for the sources of its shape)."""
    reason = reason or DEFAULT_REASON.get(status, "badRequest")
    body: dict[str, Any] = {
        "error": {
            "code": status,
            "message": message,
            "status": STATUS_TEXT.get(status, "UNKNOWN"),
            "errors": [{"domain": domain, "reason": reason, "message": message}],
        }
    }
    return Response(status, body, dict(headers or {}))


@dataclass
class GoogleAccounts:
    """Access tokens -> granted scopes, shared by every fake Google service and /token."""

    tokens: dict[str, set[str]] = field(default_factory=dict)
    refresh_tokens: dict[str, set[str]] = field(default_factory=dict)

    def grant(self, token: str, *scopes: str) -> None:
        self.tokens[token] = set(scopes)

    def check(self, request: Request, accepted: set[str]) -> Response | None:
        """None when the bearer token is valid and carries one of `accepted` scopes.

        Each method's page lists the scopes it accepts ("Requires one of the following OAuth
        scopes", e.g. https://developers.google.com/calendar/api/v3/reference/events/insert).
        - no or unknown token: 401 `authError`, "Invalid Credentials" in
          https://developers.google.com/calendar/api/guides/errors, with
          `WWW-Authenticate: Bearer` (https://datatracker.ietf.org/doc/html/rfc6750#section-3);
        - a token without an accepted scope: 403 "Request had insufficient authentication
          scopes." with reason `insufficientPermissions` (reported, not documented:
          https://github.com/googleapis/google-api-python-client/issues/1296 and, for the
          reason, https://github.com/GeneralTask/task-manager/pull/2160).
        """
        token = request.bearer()
        if token is None or token not in self.tokens:
            return google_error(
                401,
                "Request had invalid authentication credentials.",
                "authError",
                headers={"WWW-Authenticate": 'Bearer realm="x"'},
            )
        if accepted and not (self.tokens[token] & accepted):
            return google_error(
                403, "Request had insufficient authentication scopes.", "insufficientPermissions"
            )
        return None


@dataclass
class TokenEndpoint(Service):
    """POST /token: Google's OAuth token endpoint for the refresh_token grant.

    https://developers.google.com/identity/protocols/oauth2/web-server#offline: a refresh gives
    `access_token`, `expires_in` (3599 in Google's example), `scope` and `token_type: Bearer`.
    Errors follow RFC 6749 §5.2 (https://datatracker.ietf.org/doc/html/rfc6749#section-5.2):
    `unsupported_grant_type`, and `invalid_grant` for a revoked or expired refresh token, with
    Google's description "Token has been expired or revoked." (reported, not documented:
    https://github.com/dolfim/django-gmailapi-backend/issues/9).
    """

    accounts: GoogleAccounts = field(default_factory=GoogleAccounts)

    name = "oauth"
    prefix = "/token"

    def route(self, request: Request) -> Routed | None:
        if request.path == "/token" and request.method == "POST":
            return Routed(self.name, "oauth.token", writes=False)
        return None

    def handle(self, request: Request, routed: Routed) -> Response:
        form = request.form()
        if form.get("grant_type") != "refresh_token":
            return Response(400, {"error": "unsupported_grant_type"})
        scopes = self.accounts.refresh_tokens.get(form.get("refresh_token", ""))
        if scopes is None:
            return Response(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                },
            )
        token = "ya29.refreshed-" + secrets.token_urlsafe(12)
        self.accounts.grant(token, *scopes)
        return Response(
            200,
            {
                "access_token": token,
                "expires_in": 3599,
                "token_type": "Bearer",
                "scope": " ".join(sorted(scopes)),
            },
        )

    def fault_response(self, status: int, retry_after: int | None) -> Response:
        """`temporarily_unavailable` is an RFC 6749 §4.1.2.1 code of the *authorization*
        endpoint, not of the token endpoint (§5.2): the sandbox's choice, not documented."""
        return Response(status, {"error": "temporarily_unavailable"})


# -- the sandbox's Google person -----------------------------------------------------------------

GOOGLE_TOKEN = "ya29.sandbox-access-token"
GOOGLE_REFRESH_TOKEN = "1//sandbox-refresh-token"
EMAIL = "alex@example.com"


def seed_account(box: SandboxSeed) -> GoogleAccounts:
    """The person's Google account: its tokens (each surface grants its own scopes) and the
    OAuth token endpoint."""

    def make() -> GoogleAccounts:
        accounts = GoogleAccounts()
        accounts.grant(GOOGLE_TOKEN)
        accounts.refresh_tokens[GOOGLE_REFRESH_TOKEN] = set()
        box.add(TokenEndpoint(accounts=accounts))
        return accounts

    return box.shared(GoogleAccounts, make)


def grant_sandbox_scopes(accounts: GoogleAccounts, *scopes: str) -> None:
    """The person authorised aligner for `scopes` (a surface's seed asks for its own)."""
    accounts.tokens.setdefault(GOOGLE_TOKEN, set()).update(scopes)
    accounts.refresh_tokens.setdefault(GOOGLE_REFRESH_TOKEN, set()).update(scopes)


def sandbox_env(url: str) -> dict[str, str]:
    return {"ALIGNER_GOOGLE_API_ROOT": url, "ALIGNER_GOOGLE_ACCESS_TOKEN": GOOGLE_TOKEN}
