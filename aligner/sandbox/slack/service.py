"""Fake Slack Web API: auth.test, users.profile.get/set, emoji.list — in Slack's wire format.

Every method answers HTTP 200 with {"ok": ...}; errors are {"ok": false, "error": code}
(rate limiting is HTTP 429 with Retry-After). A status past its expiration reads as cleared,
as Slack clears it.
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

STATUS_LIMIT = 100
_EMOJI_SYNTAX = re.compile(r"^:[a-z0-9_+'\-]+:$")
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
        method = request.path[len(self.prefix) :]
        if method not in _METHODS:
            return None
        return Routed(self.name, method, writes=_METHODS[method][1])

    def fault_response(self, status: int, retry_after: int | None) -> Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        error = "ratelimited" if status == 429 else "service_unavailable"
        return Response(status, {"ok": False, "error": error}, headers)

    def handle(self, request: Request, routed: Routed) -> Response:
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
        if request.headers.get("content-type", "").startswith("application/json"):
            return dict(request.json())
        args: dict[str, Any] = {**{k: v[0] for k, v in request.query.items()}, **request.form()}
        return args

    def _reply(self, token: SlackToken, body: dict[str, Any]) -> Response:
        return Response(200, body, {"x-oauth-scopes": ",".join(token.scopes)})

    def _error(self, code: str, **extra: Any) -> Response:
        return Response(200, {"ok": False, "error": code, **extra})

    def _current(self, user_id: str) -> dict[str, Any]:
        profile = self.profiles[user_id]
        expiration = int(profile.get("status_expiration") or 0)
        if expiration and expiration <= self.clock.now().timestamp():
            profile.update(status_text="", status_emoji="", status_expiration=0)
        return profile

    # -- methods -----------------------------------------------------------------------------

    def _auth_test(self, token: SlackToken, args: dict[str, Any]) -> dict[str, Any]:
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
        user = args.get("user") or token.user_id
        if user not in self.profiles:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "profile": dict(self._current(user))}

    def _users_profile_set(self, token: SlackToken, args: dict[str, Any]) -> dict[str, Any]:
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
        """Exchange a one-time code (client credentials in HTTP Basic auth, as slack-sdk sends)."""
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
        return {
            "ok": True,
            "emoji": {
                name: f"https://emoji.example/{name}.png" for name in sorted(self.custom_emoji)
            },
        }


# method -> (scope needed, writes)
def _basic_auth(header: str) -> tuple[str, str, str]:
    if not header.lower().startswith("basic "):
        return "", "", ""
    try:
        return base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
    except ValueError:
        return "", "", ""


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
