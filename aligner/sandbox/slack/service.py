"""Fake Slack Web API: auth.test, users.profile.get/set, emoji.list, oauth.v2.access.

Sources (official unless marked otherwise):
- the envelope: every method answers HTTP 200 with {"ok": ...}; errors are
  {"ok": false, "error": code}
  https://api.slack.com/web#evaluating_responses
- rate limiting is HTTP 429 with a Retry-After header (error code `ratelimited`)
  https://api.slack.com/apis/rate-limits
- status fields, their limits and expiration
  https://api.slack.com/methods/users.profile.set
  (also https://docs.slack.dev/reference/methods/users.profile.set)

A status past its `status_expiration` reads as cleared: the docs say the status "will expire"
at that Unix time; the sandbox applies that lazily, on the next read.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aligner.sandbox.http import Request, Response, Routed, Service
from aligner.sandbox.server import Clock

if TYPE_CHECKING:
    from aligner.sandbox.seed import SandboxSeed

# "status_text: The displayed text of up to 100 characters" and error `too_long` ("longer than
# the maximum allowed, 100"): https://api.slack.com/methods/users.profile.set
STATUS_LIMIT = 100
# The emoji checks are not documented (see SlackService._check_status).
_EMOJI_SYNTAX = re.compile(r"^:[a-z0-9_+'\-]+:$")
# A sample of Slack's standard emoji names (the sandbox's stand-in for the full set).
STANDARD_EMOJI = frozenset(
    """
rocket calendar spiral_calendar_pad palm_tree house_with_garden face_with_thermometer
speech_balloon zap fire chart_with_upwards_trend chart_with_downwards_trend bar_chart brain dart
hammer_and_wrench wrench gear books book memo pencil pencil2 computer desktop_computer coffee
tea headphones headphone mute no_bell bell sunny cloud umbrella car airplane train bus bike
runner running walking mag mag_right bulb sparkles star star2 tada trophy medal muscle thumbsup
+1 -1 white_check_mark heavy_check_mark x warning hourglass hourglass_flowing_sand stopwatch
timer_clock alarm_clock clock1 construction red_circle large_blue_circle green_heart blue_heart
heart smile smiley slightly_smiling_face thinking_face sleeping zzz shushing_face lock key
technologist man_technologist woman_technologist scientist telescope satellite crystal_ball
microscope test_tube rotating_light traffic_light vertical_traffic_light racing_car
""".split()
)
# Required scopes: https://api.slack.com/methods/users.profile.get ("users.profile:read"),
# https://api.slack.com/methods/users.profile.set ("users.profile:write").
SCOPES_READ = "users.profile:read"
SCOPES_WRITE = "users.profile:write"


@dataclass
class SlackToken:
    user_id: str
    team_id: str = "T0ALIGNER"
    scopes: tuple[str, ...] = (SCOPES_READ, SCOPES_WRITE)
    revoked: bool = False


def _blank_profile(name: str) -> dict[str, Any]:
    return {
        "real_name": name,
        "display_name": name,
        "status_text": "",
        "status_emoji": "",
        "status_expiration": 0,
        "status_text_canonical": "",
        "email": f"{name}@example.com",
    }


@dataclass
class SlackService(Service):
    clock: Clock = field(default_factory=Clock)
    tokens: dict[str, SlackToken] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    custom_emoji: set[str] = field(default_factory=set)
    # OAuth v2: client id -> secret, and one-time codes -> (user id, granted user scopes)
    oauth_clients: dict[str, str] = field(default_factory=dict)
    oauth_codes: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    name = "slack"
    prefix = "/api/"

    # -- seeding -----------------------------------------------------------------------------

    def add_user(
        self,
        token: str,
        user_id: str = "U0ALIGNER",
        name: str = "alex",
        scopes: tuple[str, ...] = (SCOPES_READ, SCOPES_WRITE),
    ) -> None:
        self.tokens[token] = SlackToken(user_id, scopes=scopes)
        self.profiles.setdefault(user_id, _blank_profile(name))

    def set_status(self, user_id: str, text: str, emoji: str, expiration: int = 0) -> None:
        profile = self.profiles[user_id]
        profile.update(status_text=text, status_emoji=emoji, status_expiration=expiration)

    def status(self, user_id: str = "U0ALIGNER") -> dict[str, Any]:
        profile = self._current(user_id)
        return {k: profile[k] for k in ("status_text", "status_emoji", "status_expiration")}

    def snapshot(self) -> Any:
        return {"profiles": {u: self._current(u) for u in self.profiles}}

    # -- HTTP --------------------------------------------------------------------------------

    def route(self, request: Request) -> Routed | None:
        # Web API methods are "HTTP RPC-style methods, all of the form
        # https://slack.com/api/METHOD" (https://api.slack.com/web).
        method = request.path[len(self.prefix) :]
        if method not in _METHODS:
            return None
        return Routed(self.name, method, writes=_METHODS[method][1])

    def fault_response(self, status: int, retry_after: int | None) -> Response:
        """An injected failure as Slack sends one: HTTP 429 with Retry-After and `ratelimited`
        (https://api.slack.com/apis/rate-limits), or `service_unavailable` ("The service is
        temporarily unavailable", in every method's error table, e.g.
        https://api.slack.com/methods/users.profile.set) for other statuses. Slack documents
        the error codes; which HTTP status accompanies `service_unavailable` it does not."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        error = "ratelimited" if status == 429 else "service_unavailable"
        return Response(status, {"ok": False, "error": error}, headers)

    def handle(self, request: Request, routed: Routed) -> Response:
        """Authenticate, check the method's scope, then run it.

        - the token comes as `Authorization: Bearer` or as a `token` argument, and the errors
          `not_authed`, `invalid_auth`, `token_revoked`, `missing_scope` are those of every
          method's error table: https://api.slack.com/methods/users.profile.set#errors
        - `missing_scope` carrying `needed` and `provided` is not in that table (reported, not
          documented): https://github.com/apache/superset/pull/15904
        - the `x-oauth-scopes` response header listing the token's scopes: not confirmed in
          the current docs (described in Slack's legacy scope docs, https://api.slack.com/scopes).
        """
        if routed.operation == "oauth.v2.access":  # authenticated by client id and secret
            return Response(200, self._oauth_v2_access(request))
        token_text = request.bearer() or self._args(request).get("token")
        if not token_text:
            return self._error("not_authed")
        token = self.tokens.get(token_text)
        if token is None:
            return self._error("invalid_auth")
        if token.revoked:
            return self._error("token_revoked")
        needed = _METHODS[routed.operation][0]
        if needed and needed not in token.scopes:
            return self._reply(
                token,
                {
                    "ok": False,
                    "error": "missing_scope",
                    "needed": needed,
                    "provided": ",".join(token.scopes),
                },
            )
        handler = getattr(self, "_" + routed.operation.replace(".", "_"))
        body: dict[str, Any] = handler(token, self._args(request))
        return self._reply(token, body)

    def _args(self, request: Request) -> dict[str, Any]:
        """Arguments as JSON or form fields ("Content types: application/x-www-form-urlencoded,
        application/json": https://api.slack.com/methods/users.profile.set)."""
        if request.headers.get("content-type", "").startswith("application/json"):
            return dict(request.json())
        args: dict[str, Any] = {**{k: v[0] for k, v in request.query.items()}, **request.form()}
        return args

    def _reply(self, token: SlackToken, body: dict[str, Any]) -> Response:
        return Response(200, body, {"x-oauth-scopes": ",".join(token.scopes)})

    def _error(self, code: str, **extra: Any) -> Response:
        return Response(200, {"ok": False, "error": code, **extra})

    def _current(self, user_id: str) -> dict[str, Any]:
        """The profile, with a status past `status_expiration` cleared ("the Unix Timestamp of
        when the status will expire": https://api.slack.com/methods/users.profile.set)."""
        profile = self.profiles[user_id]
        expiration = int(profile.get("status_expiration") or 0)
        if expiration and expiration <= self.clock.now().timestamp():
            profile.update(status_text="", status_emoji="", status_expiration=0)
        return profile

    # -- methods -----------------------------------------------------------------------------

    def _auth_test(self, token: SlackToken, args: dict[str, Any]) -> dict[str, Any]:
        """https://api.slack.com/methods/auth.test (no scope needed; url, team, user, ids)."""
        name = self.profiles[token.user_id]["display_name"]
        return {
            "ok": True,
            "url": "https://aligner-sandbox.slack.com/",
            "team": "Sandbox",
            "user": name,
            "team_id": token.team_id,
            "user_id": token.user_id,
        }

    def _users_profile_get(self, token: SlackToken, args: dict[str, Any]) -> dict[str, Any]:
        """https://api.slack.com/methods/users.profile.get (`user_not_found` for an unknown
        `user`)."""
        user = args.get("user") or token.user_id
        if user not in self.profiles:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "profile": dict(self._current(user))}

    def _users_profile_set(self, token: SlackToken, args: dict[str, Any]) -> dict[str, Any]:
        """https://api.slack.com/methods/users.profile.set

        `profile` as a JSON object or URL-encoded JSON string, else `name` + `value`;
        `invalid_profile` for a profile that is not valid JSON; `not_admin` for another user
        ("Only admins can update the profile of another user"); the reply carries the whole
        profile ("The complete user's profile will be returned").
        """
        user = args.get("user") or token.user_id
        if user != token.user_id:
            return {"ok": False, "error": "not_admin"}
        profile = args.get("profile")
        if isinstance(profile, str):
            try:
                profile = json.loads(profile)
            except ValueError:
                return {"ok": False, "error": "invalid_profile"}
        if profile is None and "name" in args:
            profile = {args["name"]: args.get("value", "")}
        if not isinstance(profile, dict):
            return {"ok": False, "error": "invalid_profile"}
        problem = self._check_status(profile, self._current(user))
        if problem:
            return problem
        current = self._current(user)
        for key, value in profile.items():
            current[key] = int(value or 0) if key == "status_expiration" else value
        current["status_text_canonical"] = ""
        return {"ok": True, "profile": dict(current), "username": current["display_name"]}

    def _check_status(self, profile: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
        """The status rules of users.profile.set.

        Documented (https://api.slack.com/methods/users.profile.set#errors):
        - `too_long`: status_text "longer than the maximum allowed, 100". The extra `limit`
          and `field` keys of the reply are reported, not documented (seen in public client
          code; no issue thread found).
        - `must_clear_both_status_text_and_status_emoji`: "Clearing the status requires
          setting both status_text and status_emoji to ''". When exactly it fires (one field
          sent empty on its own while the other is still set) is the sandbox's reading.
        Reported, not documented (absent from the method's error table; seen only in public
        client code that handles them, no issue thread found):
        - `profile_status_set_failed_not_emoji_syntax` for an emoji not written `:name:`;
        - `profile_status_set_failed_not_valid_emoji` for a name neither standard nor custom.
        """
        text = profile.get("status_text")
        emoji = profile.get("status_emoji")
        if text is not None and len(str(text)) > STATUS_LIMIT:
            return {"ok": False, "error": "too_long", "limit": STATUS_LIMIT, "field": "status_text"}
        if emoji:
            if not _EMOJI_SYNTAX.match(str(emoji)):
                return {"ok": False, "error": "profile_status_set_failed_not_emoji_syntax"}
            name = str(emoji).strip(":").split("::")[0]
            if name not in STANDARD_EMOJI and name not in self.custom_emoji:
                return {"ok": False, "error": "profile_status_set_failed_not_valid_emoji"}
        cleared_one = (text == "" and emoji is None and current["status_emoji"]) or (
            emoji == "" and text is None and current["status_text"]
        )
        if cleared_one:
            return {"ok": False, "error": "must_clear_both_status_text_and_status_emoji"}
        return {}

    def _oauth_v2_access(self, request: Request) -> dict[str, Any]:
        """Exchange a one-time code (client credentials in HTTP Basic auth, as slack-sdk sends).

        https://api.slack.com/methods/oauth.v2.access (also
        https://docs.slack.dev/reference/methods/oauth.v2.access): no scope needed; client id
        and secret by HTTP Basic auth or as arguments; errors `invalid_client_id`,
        `bad_client_secret`, `invalid_code`; a user token comes back under `authed_user`
        (https://api.slack.com/authentication/oauth-v2).
        """
        client_id, _, secret = _basic_auth(request.headers.get("authorization", ""))
        args = self._args(request)
        client_id = client_id or args.get("client_id", "")
        secret = secret or args.get("client_secret", "")
        if client_id not in self.oauth_clients:
            return {"ok": False, "error": "invalid_client_id"}
        if self.oauth_clients[client_id] != secret:
            return {"ok": False, "error": "bad_client_secret"}
        grant = self.oauth_codes.pop(str(args.get("code", "")), None)
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        user_id, scopes = grant
        token = "xoxp-sandbox-" + secrets.token_hex(8)
        self.add_user(token, user_id, scopes=scopes)
        return {
            "ok": True,
            "app_id": "A0ALIGNER",
            "authed_user": {
                "id": user_id,
                "scope": ",".join(scopes),
                "access_token": token,
                "token_type": "user",
            },
            "team": {"id": self.tokens[token].team_id, "name": "Sandbox"},
            "is_enterprise_install": False,
        }

    def _emoji_list(self, token: SlackToken, args: dict[str, Any]) -> dict[str, Any]:
        """https://api.slack.com/methods/emoji.list (scope `emoji:read`): the workspace's
        custom emoji, name -> image URL."""
        return {
            "ok": True,
            "emoji": {
                name: f"https://emoji.example/{name}.png" for name in sorted(self.custom_emoji)
            },
        }


def _basic_auth(header: str) -> tuple[str, str, str]:
    if not header.lower().startswith("basic "):
        return "", "", ""
    try:
        return base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
    except ValueError:
        return "", "", ""


# method -> (scope needed, writes); scopes from each method's page, "Required scopes":
# https://api.slack.com/methods/<method>
_METHODS: dict[str, tuple[str | None, bool]] = {
    "oauth.v2.access": (None, True),
    "auth.test": (None, False),
    "users.profile.get": (SCOPES_READ, False),
    "users.profile.set": (SCOPES_WRITE, True),
    "emoji.list": ("emoji:read", False),
}


# -- the sandbox's Slack person ------------------------------------------------------------------

SLACK_TOKEN = "xoxp-sandbox-user-token"
USER_ID = "U0ALIGNER"


def seed_account(box: SandboxSeed) -> SlackService:
    """The Slack workspace with the person (alex) and their user token."""

    def make() -> SlackService:
        slack = box.add(SlackService(clock=box.clock))
        slack.add_user(SLACK_TOKEN, USER_ID, "alex")
        return slack

    return box.shared(SlackService, make)


def sandbox_env(url: str) -> dict[str, str]:
    return {"ALIGNER_SLACK_API_URL": f"{url}api/", "ALIGNER_SLACK_TOKEN": SLACK_TOKEN}
