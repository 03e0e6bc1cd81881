"""`aligner auth slack`: get a Slack user token, check it with auth.test, store it privately.

Two ways in: `--token` (paste a token the person already has), or Slack's OAuth v2 flow with the
client id and secret of their own Slack app (deploy/slack-app-manifest.yaml creates it). Slack
only accepts https redirect URLs, even on localhost, so the loopback listener serves TLS with a
throwaway self-signed certificate: the browser warns once about it. The code is exchanged with
oauth.v2.access through slack-sdk, and the user token is checked and stored with mode 0600.
"""

from __future__ import annotations

import ipaddress
import secrets
import ssl
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from aligner.errors import AuthError
from aligner.state.credentials import write_private
from aligner.vendors.slack.client import slack_client
from aligner.vendors.slack.settings import TOKEN_FILE, SlackSettings

AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"
DEFAULT_PORT = 8737
CALLBACK_PATH = "/slack/callback"
BASE_USER_SCOPES = ("users.profile:read", "users.profile:write")
_TOKEN_PROBLEMS = {
    "invalid_auth": "Slack does not know this token",
    "not_authed": "no token was given",
    "token_revoked": "the token was revoked",
    "token_expired": "the token expired",
    "account_inactive": "the account behind the token is deactivated",
}


@dataclass(frozen=True)
class SlackIdentity:
    user: str
    team: str
    scopes: tuple[str, ...] | None  # from the x-oauth-scopes header; None when absent
    bot: bool


def user_scopes(extra: Sequence[str] = ()) -> list[str]:
    """users.profile:read/write, plus what the enabled Slack surfaces declare."""
    return list(dict.fromkeys([*BASE_USER_SCOPES, *extra]))


def call_slack(method: Callable[..., Any], **kwargs: Any) -> Any:
    """One Slack call; failures become AuthError messages that never contain a token."""
    from slack_sdk.errors import SlackApiError

    try:
        return method(**kwargs)
    except SlackApiError as exc:
        code = str(exc.response.get("error", "")) if exc.response is not None else ""
        reason = _TOKEN_PROBLEMS.get(code, f"Slack answered {code or 'an error'}")
        raise AuthError(reason, "slack") from None
    except OSError as exc:
        raise AuthError(f"cannot reach Slack ({type(exc).__name__})", "slack") from None


def inspect_token(settings: SlackSettings, token: str) -> SlackIdentity:
    """auth.test: who the token is, and its scopes (Slack lists them in x-oauth-scopes)."""
    response = call_slack(slack_client(settings, token).auth_test)
    header = {k.lower(): v for k, v in response.headers.items()}.get("x-oauth-scopes")
    if isinstance(header, list):
        header = ",".join(header)
    scopes = tuple(s.strip() for s in header.split(",") if s.strip()) if header else None
    return SlackIdentity(
        user=str(response.get("user") or response.get("user_id") or "?"),
        team=str(response.get("team") or response.get("team_id") or "?"),
        scopes=scopes,
        bot=bool(response.get("bot_id")),
    )


def missing_scopes(identity: SlackIdentity, needed: list[str]) -> list[str]:
    if identity.scopes is None:
        return []
    return [s for s in needed if s not in identity.scopes]


def require_usable(identity: SlackIdentity, needed: list[str]) -> None:
    if identity.bot:
        raise AuthError(
            "this is a bot token; aligner changes your own profile, so it needs a user "
            "token (xoxp-…): run `aligner auth slack` with your app's client id and secret",
            "slack",
        )
    missing = missing_scopes(identity, needed)
    if missing:
        raise AuthError(
            f"the token lacks {', '.join(missing)}: add it to your Slack app's user token "
            "scopes (deploy/slack-app-manifest.yaml has them all), reinstall the app and run "
            "`aligner auth slack` again",
            "slack",
        )


def store_token(settings: SlackSettings, token: str) -> Path:
    path = settings.credentials_dir / TOKEN_FILE
    write_private(path, token + "\n")
    return path


# -- OAuth v2 ---------------------------------------------------------------------------------


def authorize_url(client_id: str, scopes: list[str], redirect_uri: str, state: str) -> str:
    query = {
        "client_id": client_id,
        "user_scope": ",".join(scopes),
        "redirect_uri": redirect_uri,
        "state": state,
    }
    return f"{AUTHORIZE_URL}?{urlencode(query)}"


def exchange_code(
    settings: SlackSettings, client_id: str, client_secret: str, code: str, redirect_uri: str
) -> str:
    """oauth.v2.access: the authorization code for the user token."""
    response = call_slack(
        slack_client(settings).oauth_v2_access,
        client_id=client_id,
        client_secret=client_secret,
        code=code,
        redirect_uri=redirect_uri,
    )
    user = response.get("authed_user") or {}
    token = user.get("access_token") if isinstance(user, dict) else None
    if not token:
        raise AuthError(
            "Slack returned no user token: check that your app has user token scopes "
            "(see deploy/slack-app-manifest.yaml)",
            "slack",
        )
    return str(token)


def oauth_flow(
    settings: SlackSettings,
    client_id: str,
    client_secret: str,
    scopes: list[str],
    *,
    announce: Callable[[str], None],
    open_browser: bool,
    port: int = DEFAULT_PORT,
    timeout: float = 300,
) -> str:
    """Send the person to Slack, wait for the loopback redirect, exchange the code: a token."""
    state = secrets.token_urlsafe(24)
    with LoopbackRedirect(port, CALLBACK_PATH) as listener:
        url = authorize_url(client_id, scopes, listener.redirect_uri, state)
        announce(url)
        if open_browser:
            import webbrowser

            webbrowser.open(url, new=1)
        params = listener.wait(state, timeout)
    if "error" in params:
        raise AuthError(f"Slack did not authorize aligner ({params['error']})", "slack")
    return exchange_code(settings, client_id, client_secret, params["code"], listener.redirect_uri)


# -- the loopback listener ----------------------------------------------------------------------


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for localhost (Slack requires https redirect URLs)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    alt_names = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(alt_names, critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_private(key_path, key_pem.decode("ascii"))
    return cert_path, key_path


@dataclass
class LoopbackRedirect:
    """An https listener on localhost that waits for one OAuth redirect to `path`."""

    port: int
    path: str
    received: dict[str, str] | None = None
    _server: HTTPServer | None = field(default=None, repr=False)

    @property
    def redirect_uri(self) -> str:
        assert self._server is not None
        return f"https://localhost:{self._server.server_address[1]}{self.path}"

    def __enter__(self) -> LoopbackRedirect:
        try:
            server = HTTPServer(("localhost", self.port), _handler(self))
        except OSError as exc:
            raise AuthError(
                f"cannot listen on localhost port {self.port} ({exc.strerror}): pass "
                "--port with the port of your app's redirect URL",
                "slack",
            ) from None
        with tempfile.TemporaryDirectory(prefix="aligner-tls-") as folder:
            cert, key = _self_signed(Path(folder))
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.server_close()

    def wait(self, state: str, timeout: float) -> dict[str, str]:
        """The redirect's query (`code`, or `error`) once one arrives carrying `state`."""
        assert self._server is not None
        deadline = time.monotonic() + timeout
        while self.received is None or self.received.get("state") != state:
            self.received = None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AuthError(
                    "no answer from the browser in time: run `aligner auth slack` again", "slack"
                )
            self._server.timeout = remaining
            self._server.handle_request()
        return self.received


def _handler(listener: LoopbackRedirect) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return  # the query holds a one-time code: keep it out of stderr

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != listener.path:
                self.send_error(404)
                return
            listener.received = {k: v[0] for k, v in parse_qs(parts.query).items()}
            body = b"aligner has your Slack authorization. You can close this tab."
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
