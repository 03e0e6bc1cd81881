"""Fake GitHub GraphQL API: the calls the GitHub status surface makes, in GitHub's wire format.

One endpoint, `POST /graphql`, taking `{"query", "variables"}` and authenticated with
`Authorization: bearer TOKEN` (or `token TOKEN`)
(https://docs.github.com/en/graphql/guides/forming-calls-with-graphql). It understands exactly:

    query { viewer { login status { … } } }                            "github.viewer"
    query($login: String!) { organization(login: $login) { id … } }      "github.organization"
    mutation($input: ChangeUserStatusInput!) { changeUserStatus(…) }    "github.changeUserStatus"

(the operation names are what the sandbox's request log and fault injection use). Answers only
carry the fields asked for; an unknown field is a GraphQL error, as on GitHub. The objects
follow https://docs.github.com/en/graphql/reference/objects#userstatus and
https://docs.github.com/en/graphql/reference/input-objects#changeuserstatusinput:

- `errors` come with HTTP 200 and a `type` (INSUFFICIENT_SCOPES, NOT_FOUND, UNPROCESSABLE,
  FORBIDDEN), next to `data` where GitHub sends it;
- a bad token is HTTP 401 `{"message": "Bad credentials"}`;
- classic tokens get `X-OAuth-Scopes` and `X-Accepted-OAuth-Scopes`
  (https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps);
  fine-grained tokens get neither and need the Profile permission to change the status;
- a message longer than 80 characters is refused;
- a status past its `expiresAt` (on the sandbox clock) reads as null, as GitHub stops showing it;
- an input with neither emoji nor message clears the status;
- injected 403/429 faults answer like a secondary rate limit, with Retry-After
  (https://docs.github.com/en/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aligner.sandbox.http import Request, Response, Routed, Service
from aligner.sandbox.server import Clock

if TYPE_CHECKING:
    from aligner.sandbox.seed import SandboxSeed

MESSAGE_LIMIT = 80
PATH = "/graphql"
_EMOJI = re.compile(r"^:[a-z0-9_+\-]+:$")
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|\$?[A-Za-z_][A-Za-z0-9_]*|[{}():!,\[\]=]')
DOCS = "https://docs.github.com/graphql"


class GraphQLSyntaxError(ValueError):
    pass


@dataclass
class Field:
    name: str
    args: dict[str, Any] = field(default_factory=dict)  # literal values or ("$", variable)
    selections: list[Field] = field(default_factory=list)


@dataclass
class Operation:
    kind: str  # "query" | "mutation"
    fields: list[Field]


def parse(document: str) -> Operation:
    """Just enough GraphQL: one operation, fields with arguments and selection sets."""
    tokens = _TOKENS.findall(document)
    pos = 0

    def peek() -> str:
        return tokens[pos] if pos < len(tokens) else ""

    def take(expected: str | None = None) -> str:
        nonlocal pos
        token = peek()
        if not token or (expected is not None and token != expected):
            raise GraphQLSyntaxError(f"Parse error on {token or 'end of document'!r}")
        pos += 1
        return token

    def value() -> Any:
        token = take()
        if token.startswith("$"):
            return ("$", token[1:])
        if token.startswith('"'):
            return token[1:-1]
        return {"true": True, "false": False, "null": None}.get(token, token)

    def selection_set() -> list[Field]:
        take("{")
        found = []
        while peek() != "}":
            name = take()
            args: dict[str, Any] = {}
            if peek() == "(":
                take("(")
                while peek() != ")":
                    key = take()
                    take(":")
                    args[key] = value()
                    if peek() == ",":
                        take(",")
                take(")")
            subs = selection_set() if peek() == "{" else []
            found.append(Field(name, args, subs))
        take("}")
        return found

    kind = "query"
    if peek() in ("query", "mutation"):
        kind = take()
        if peek() not in ("(", "{"):
            take()  # the operation's name
        if peek() == "(":  # variable definitions: checked by use, not declared types
            depth = 0
            while True:
                token = take()
                depth += {"(": 1, ")": -1}.get(token, 0)
                if depth == 0:
                    break
    fields = selection_set()
    if pos != len(tokens):
        raise GraphQLSyntaxError(f"Parse error on {peek()!r}")
    return Operation(kind, fields)


@dataclass
class GitHubToken:
    login: str
    scopes: tuple[str, ...] | None = ("user", "repo")  # None: a fine-grained token
    profile_write: bool = True  # a fine-grained token's Profile permission


@dataclass
class GitHubService(Service):
    clock: Clock = field(default_factory=Clock)
    tokens: dict[str, GitHubToken] = field(default_factory=dict)
    statuses: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # login -> status
    organizations: dict[str, str] = field(default_factory=dict)  # login -> node id
    members: dict[str, set[str]] = field(default_factory=dict)  # organization login -> users

    name = "github"
    prefix = PATH

    # -- seeding and inspection --------------------------------------------------------------

    def add_token(
        self,
        token: str,
        login: str,
        scopes: tuple[str, ...] | None = ("user", "repo"),
        *,
        profile_write: bool = True,
    ) -> None:
        self.tokens[token] = GitHubToken(login, scopes, profile_write)
        self.statuses.setdefault(login, None)

    def add_organization(self, login: str, *members: str) -> str:
        node_id = f"O_kgDO{zlib.crc32(login.encode()):010d}"
        self.organizations[login] = node_id
        self.members.setdefault(login, set()).update(members)
        return node_id

    def set_status(
        self,
        login: str,
        message: str,
        emoji: str = "",
        *,
        expires_at: str | None = None,
        limited: bool = False,
        organization: str | None = None,
    ) -> None:
        self.statuses[login] = {
            "message": message,
            "emoji": emoji,
            "expiresAt": expires_at,
            "limited": limited,
            "organization": organization,
        }

    def status(self, login: str) -> dict[str, Any] | None:
        """The status as a visitor sees it now (None: no status)."""
        current = self.statuses.get(login)
        expires = current["expiresAt"] if current else None
        if expires and datetime.fromisoformat(expires) <= self.clock.now():
            self.statuses[login] = current = None
        return dict(current) if current else None

    def snapshot(self) -> Any:
        return {"statuses": {login: self.status(login) for login in self.statuses}}

    # -- HTTP --------------------------------------------------------------------------------

    def route(self, request: Request) -> Routed | None:
        if request.path != PATH or request.method != "POST":
            return None
        try:
            operation = parse(str(request.json().get("query") or ""))
        except (ValueError, AttributeError):
            return Routed(self.name, "github.graphql", writes=False)
        names = [f.name for f in operation.fields]
        if operation.kind == "mutation":
            return Routed(self.name, f"github.{names[0] if names else 'mutation'}", writes=True)
        root = "organization" if "organization" in names else "viewer"
        return Routed(self.name, f"github.{root}", writes=False)

    def fault_response(self, status: int, retry_after: int | None) -> Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        if status in (403, 429):
            message = (
                "You have exceeded a secondary rate limit. Please wait a few minutes before "
                "you try your request again."
            )
        else:
            message = "Server Error"
        return Response(status, {"message": message, "documentation_url": DOCS}, headers)

    def handle(self, request: Request, routed: Routed) -> Response:
        scheme, _, text = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() not in ("bearer", "token") or not text.strip():
            return Response(
                401,
                {
                    "message": "This endpoint requires you to be authenticated.",
                    "documentation_url": DOCS,
                },
            )
        token = self.tokens.get(text.strip())
        if token is None:
            return Response(401, {"message": "Bad credentials", "documentation_url": DOCS})
        headers = {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999"}
        if token.scopes is not None:
            headers["X-OAuth-Scopes"] = ", ".join(token.scopes)
            headers["X-Accepted-OAuth-Scopes"] = "user" if routed.writes else ""
        try:
            body = request.json()
            operation = parse(str(body.get("query") or ""))
            variables = dict(body.get("variables") or {})
        except (ValueError, AttributeError) as exc:
            error = {"message": str(exc), "locations": [{"line": 1, "column": 1}]}
            return Response(200, {"errors": [error]}, headers)
        data: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for root in operation.fields:
            value, problems = self._resolve(operation.kind, root, variables, token)
            data[root.name] = value
            errors += problems
        reply: dict[str, Any] = {"data": data}
        if errors:
            reply["errors"] = errors
            if any("extensions" in e for e in errors):  # a query that does not validate
                reply = {"errors": errors}
        return Response(200, reply, headers)

    # -- resolvers ---------------------------------------------------------------------------

    def _resolve(
        self, kind: str, root: Field, variables: dict[str, Any], token: GitHubToken
    ) -> tuple[Any, list[dict[str, Any]]]:
        args = {k: _bind(v, variables) for k, v in root.args.items()}
        if kind == "query" and root.name == "viewer":
            return _project(self._user(token.login), root, ["viewer"])
        if kind == "query" and root.name == "organization":
            login = str(args.get("login") or "")
            if login not in self.organizations:
                message = f"Could not resolve to an Organization with the login of '{login}'."
                return None, [_error("NOT_FOUND", message, ["organization"])]
            return _project(self._organization(login), root, ["organization"])
        if kind == "mutation" and root.name == "changeUserStatus":
            return self._change_user_status(root, dict(args.get("input") or {}), token)
        where = "Mutation" if kind == "mutation" else "Query"
        return None, [_undefined(where, root.name, [kind])]

    def _change_user_status(
        self, root: Field, given: dict[str, Any], token: GitHubToken
    ) -> tuple[Any, list[dict[str, Any]]]:
        path = ["changeUserStatus"]
        if token.scopes is not None and "user" not in token.scopes:
            granted = ", ".join(f"'{s}'" for s in token.scopes)
            return None, [
                _error(
                    "INSUFFICIENT_SCOPES",
                    "Your token has not been granted the required scopes to execute this query. "
                    "The 'changeUserStatus' field requires one of the following scopes: "
                    f"['user'], but your token has only been granted the: [{granted}] scopes. "
                    "Please modify your token's scopes at: https://github.com/settings/tokens.",
                    path,
                )
            ]
        if token.scopes is None and not token.profile_write:
            return None, [
                _error("FORBIDDEN", "Resource not accessible by personal access token", path)
            ]
        message = str(given.get("message") or "")
        emoji = str(given.get("emoji") or "")
        if len(message) > MESSAGE_LIMIT:
            problem = f"Message is too long (maximum is {MESSAGE_LIMIT} characters)"
            return None, [_error("UNPROCESSABLE", problem, path)]
        if emoji and not (_EMOJI.match(emoji) or (len(emoji) <= 4 and not emoji.isascii())):
            return None, [_error("UNPROCESSABLE", "Emoji is not a valid emoji", path)]
        organization = None
        if given.get("organizationId"):
            found = [o for o, i in self.organizations.items() if i == given["organizationId"]]
            if not found:
                problem = (
                    f"Could not resolve to a node with the global id of '{given['organizationId']}'"
                )
                return None, [_error("NOT_FOUND", problem, path)]
            organization = found[0]
            if token.login not in self.members.get(organization, set()):
                problem = "You must be a member of the organization to limit your status to it"
                return None, [_error("FORBIDDEN", problem, path)]
        expires = given.get("expiresAt")
        try:
            expires = datetime.fromisoformat(str(expires)).isoformat() if expires else None
        except ValueError:
            return None, [_error("UNPROCESSABLE", f"Invalid DateTime: {expires!r}", path)]
        limited = bool(given.get("limitedAvailability"))
        if not message and not emoji and not limited:
            self.statuses[token.login] = None
        else:
            self.set_status(
                token.login,
                message,
                emoji,
                expires_at=expires,
                limited=limited,
                organization=organization,
            )
        payload = {
            "__typename": "ChangeUserStatusPayload",
            "clientMutationId": given.get("clientMutationId"),
            "status": self._status_object(token.login),
        }
        return _project(payload, root, path)

    def _user(self, login: str) -> dict[str, Any]:
        return {
            "__typename": "User",
            "login": login,
            "id": f"U_kgDO{zlib.crc32(login.encode()):010d}",
            "status": self._status_object(login),
        }

    def _status_object(self, login: str) -> dict[str, Any] | None:
        status = self.status(login)
        if status is None:
            return None
        organization = status["organization"]
        return {
            "__typename": "UserStatus",
            "emoji": status["emoji"] or None,
            "message": status["message"] or None,
            "expiresAt": _datetime(status["expiresAt"]),
            "indicatesLimitedAvailability": status["limited"],
            "organization": self._organization(organization) if organization else None,
        }

    def _organization(self, login: str) -> dict[str, Any]:
        return {"__typename": "Organization", "login": login, "id": self.organizations[login]}


def _bind(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, tuple) and value and value[0] == "$":
        return variables.get(value[1])
    return value


def _project(value: Any, node: Field, path: list[str]) -> tuple[Any, list[dict[str, Any]]]:
    """Only the fields the query selected; an unknown one is a validation error."""
    if value is None or not node.selections:
        return value, []
    out: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for sub in node.selections:
        if sub.name not in value:
            errors.append(_undefined(value.get("__typename", "?"), sub.name, [*path, sub.name]))
            continue
        out[sub.name], found = _project(value[sub.name], sub, [*path, sub.name])
        errors += found
    return out, errors


def _error(kind: str, message: str, path: list[str]) -> dict[str, Any]:
    return {"type": kind, "path": path, "locations": [{"line": 1, "column": 1}], "message": message}


def _undefined(type_name: str, name: str, path: list[str]) -> dict[str, Any]:
    return {
        "path": path,
        "extensions": {"code": "undefinedField", "typeName": type_name, "fieldName": name},
        "locations": [{"line": 1, "column": 1}],
        "message": f"Field '{name}' doesn't exist on type '{type_name}'",
    }


def _datetime(value: str | None) -> str | None:
    if not value:
        return None
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the sandbox's GitHub person -----------------------------------------------------------------

GITHUB_TOKEN = "ghp_sandboxAlexClassicToken0000000000"
LOGIN = "alex"
ORGANIZATION = "example-labs"


def seed_account(box: SandboxSeed) -> GitHubService:
    """GitHub with the person (alex), a classic token with the user scope, and their org."""

    def make() -> GitHubService:
        github = box.add(GitHubService(clock=box.clock))
        github.add_token(GITHUB_TOKEN, LOGIN)
        github.add_organization(ORGANIZATION, LOGIN)
        return github

    return box.shared(GitHubService, make)


def sandbox_env(url: str) -> dict[str, str]:
    return {"ALIGNER_GITHUB_API_URL": f"{url}graphql", "ALIGNER_GITHUB_TOKEN": GITHUB_TOKEN}
