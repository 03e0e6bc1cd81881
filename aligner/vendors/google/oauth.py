"""`aligner auth google`: the installed-app OAuth flow, and what a stored grant holds.

The person downloads an OAuth client file of type "Desktop app"; the flow asks only for the scopes
of the enabled Google surfaces (with include_granted_scopes, so running it again after enabling a
surface upgrades the grant), listens on a loopback port for Google's redirect, exchanges the code
(over requests) and stores the authorized-user JSON with mode 0600.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aligner.errors import AuthError, ConfigError
from aligner.state.credentials import write_private

if TYPE_CHECKING:
    from google.oauth2.credentials import Credentials
    from google_auth_oauthlib.flow import InstalledAppFlow

SUCCESS_PAGE = "aligner has your Google authorization. You can close this tab."


@dataclass(frozen=True)
class GoogleGrant:
    path: Path
    scopes: tuple[str, ...]  # what Google granted (all of it, with include_granted_scopes)
    missing: tuple[str, ...]  # asked for but not granted (e.g. a box left unticked)


def granted_at(path: Path) -> datetime | None:
    """When `aligner auth google` stored this grant (None for files it did not write)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return datetime.fromisoformat(str(data["granted_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def granted_scopes(path: Path) -> tuple[str, ...] | None:
    """The scopes recorded in an authorized-user file, or None when it records none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    scopes = data.get("scopes") if isinstance(data, dict) else None
    if isinstance(scopes, str):
        return tuple(scopes.split())
    return tuple(scopes) if isinstance(scopes, list) else None


def _flow_class() -> type[InstalledAppFlow]:
    """InstalledAppFlow that hands the authorization URL to a callback instead of printing."""
    from google_auth_oauthlib.flow import InstalledAppFlow

    class Flow(InstalledAppFlow):  # type: ignore[misc]
        announce: Callable[[str], None] | None = None

        def authorization_url(self, **kwargs: Any) -> tuple[str, str]:
            url, state = super().authorization_url(**kwargs)
            if self.announce is not None:
                self.announce(url)
            return url, state

    return Flow


def load_client(client_secrets: Path, scopes: Sequence[str]) -> Any:
    try:
        data = json.loads(client_secrets.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"--client-secrets: {client_secrets} does not exist") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--client-secrets: cannot read {client_secrets} ({exc})") from None
    if not isinstance(data, dict) or "installed" not in data:
        raise ConfigError(
            f'--client-secrets: {client_secrets} is not a "Desktop app" OAuth client file '
            "(create one under APIs & Services → Credentials → OAuth client ID → Desktop app)"
        )
    return _flow_class().from_client_config(data, scopes=list(scopes))


@contextmanager
def _relaxed_token_scope() -> Iterator[None]:
    """With include_granted_scopes Google answers with more scopes than asked; that is fine."""
    old = os.environ.get("OAUTHLIB_RELAX_TOKEN_SCOPE")
    os.environ["OAUTHLIB_RELAX_TOKEN_SCOPE"] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("OAUTHLIB_RELAX_TOKEN_SCOPE", None)
        else:
            os.environ["OAUTHLIB_RELAX_TOKEN_SCOPE"] = old


def authorize(
    flow: Any,
    *,
    announce: Callable[[str], None],
    open_browser: bool,
    port: int = 0,
    timeout: float | None = 300,
) -> Credentials:
    """Run the loopback flow to the end; errors become AuthError (never carrying a token)."""
    from google_auth_oauthlib.flow import WSGITimeoutError
    from oauthlib.oauth2 import OAuth2Error  # type: ignore[import-untyped]
    from requests import RequestException

    flow.announce = announce
    try:
        with _relaxed_token_scope():
            creds: Credentials = flow.run_local_server(
                host="localhost",
                port=port,
                open_browser=open_browser,
                authorization_prompt_message=None,
                success_message=SUCCESS_PAGE,
                timeout_seconds=timeout,
                access_type="offline",
                include_granted_scopes="true",
                prompt="consent",
            )
    except WSGITimeoutError:
        raise AuthError(
            "no answer from the browser in time: run `aligner auth google` again"
        ) from None
    except OAuth2Error as exc:
        raise AuthError(f"Google refused the authorization ({exc.error})") from None
    except RequestException as exc:
        raise AuthError(f"cannot reach Google's token endpoint ({type(exc).__name__})") from None
    except OSError as exc:
        raise AuthError(f"cannot listen on localhost port {port} ({exc.strerror})") from None
    return creds


def save_grant(creds: Credentials, path: Path, asked: Sequence[str]) -> GoogleGrant:
    """Store the authorized-user JSON (mode 0600), with the scopes Google actually granted."""
    if not creds.refresh_token:
        raise AuthError(
            "Google returned no refresh token: remove aligner's access at "
            "https://myaccount.google.com/permissions and run `aligner auth google` again"
        )
    granted = tuple(creds.granted_scopes or creds.scopes or asked)
    data = json.loads(creds.to_json())  # type: ignore[no-untyped-call]
    data["scopes"] = list(granted)
    data["granted_at"] = datetime.now(UTC).isoformat(timespec="seconds")  # doctor: TESTING_DAYS
    write_private(path, json.dumps(data, indent=2) + "\n")
    missing = tuple(s for s in asked if s not in granted)
    return GoogleGrant(path, granted, missing)
