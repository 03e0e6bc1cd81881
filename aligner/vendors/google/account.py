"""The Google account shared by the Google surfaces: `aligner auth google` and its doctor lines."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aligner.core.doctor import Check, fail, ok, probe
from aligner.errors import ConfigError, SurfaceError
from aligner.state.credentials import origin
from aligner.state.settings import Settings
from aligner.surfaces.base import Account, AccountNeeds, AuthFlow, AuthOption, AuthTalk
from aligner.theme.schema import ThemeConfig
from aligner.vendors.google.scopes import short
from aligner.vendors.google.settings import GoogleSettings

if TYPE_CHECKING:
    from aligner.sandbox.seed import SandboxSeed

NAME = "google"
REAUTH = "run `aligner auth google` again"
# An OAuth app in "Testing" publishing status gets refresh tokens that expire after 7 days:
# https://developers.google.com/identity/protocols/oauth2#expiration
TESTING_DAYS = 7
TESTING_NOTE = (
    'while your OAuth consent screen is in "Testing" status, Google expires this grant after '
    f"{TESTING_DAYS} days: publish the app (APIs & Services → OAuth consent screen → Publish app) "
    'or use a Workspace "Internal" app to keep it'
)


class GoogleAuth(AuthFlow):
    help = "Authorize aligner for the enabled Google surfaces (asks only for their scopes)."
    needs_theme = True
    options = (
        AuthOption(
            "--client-secrets",
            'OAuth client file of type "Desktop app" (default: $ALIGNER_GOOGLE_CLIENT_SECRETS).',
            path=True,
        ),
        AuthOption("--no-browser", "Print the URL instead of opening a browser.", is_flag=True),
        AuthOption("--port", "Loopback port for the redirect.", default=0),
    )

    def run(
        self,
        talk: AuthTalk,
        settings: Settings,
        config: ThemeConfig | None,
        scopes: Sequence[str],
        options: Mapping[str, Any],
    ) -> bool:
        from aligner.vendors.google import oauth

        google = settings.part(GoogleSettings)
        source = options.get("client_secrets") or google.google_client_secrets
        if source is None:
            raise ConfigError(
                '--client-secrets: give the OAuth client file ("Desktop app") from your Google '
                "Cloud project, or set ALIGNER_GOOGLE_CLIENT_SECRETS"
            )
        flow = oauth.load_client(Path(source), scopes)
        talk.say("Asking Google for: " + ", ".join(map(short, scopes)))
        no_browser = bool(options.get("no_browser"))
        creds = oauth.authorize(
            flow,
            announce=lambda url: talk.show_url(url, open_browser=not no_browser),
            open_browser=not no_browser,
            port=int(options.get("port") or 0),
        )
        talk.keep_secret(creds.token, creds.refresh_token, creds.client_secret)
        grant = oauth.save_grant(creds, google.google_credentials_target, scopes)
        granted = ", ".join(map(short, grant.scopes))
        talk.say(f"Saved Google credentials to {grant.path} (mode 0600). Granted: {granted}")
        talk.say(f"Note: {TESTING_NOTE}.")
        if grant.missing:
            missing = ", ".join(map(short, grant.missing))
            talk.warn(
                f"error: Google did not grant {missing}: run `aligner auth google` again and "
                "allow every requested access"
            )
            return False
        return True


class GoogleAccount(Account):
    name = NAME
    title = "Google"
    settings = GoogleSettings

    def auth(self) -> AuthFlow:
        return GoogleAuth()

    def doctor(
        self, settings: Settings, scopes: Mapping[str, Sequence[str]], needs: AccountNeeds
    ) -> Iterator[Check]:
        from aligner.vendors.google.client import load_credentials

        google = settings.part(GoogleSettings)
        try:
            load_credentials(google, next(iter(scopes), NAME))
        except SurfaceError as exc:
            yield fail(f"{NAME}.credentials", str(exc))
            return
        yield ok(f"{NAME}.credentials", credentials_origin(google))
        grant = grant_check(google, scopes)
        if grant is not None:
            yield grant
        age = grant_age_check(google, needs)
        if age is not None:
            yield age

    def seed(self, box: SandboxSeed) -> None:
        from aligner.sandbox.google.common import seed_account

        seed_account(box)

    def sandbox_env(self, url: str) -> dict[str, str]:
        from aligner.sandbox.google.common import sandbox_env

        return sandbox_env(url)


def credentials_origin(google: GoogleSettings) -> str:
    if google.google_access_token is not None:
        return f"access token from {origin(google, 'google_access_token')}"
    if google.google_service_account is not None:
        account, subject = google.google_service_account, google.google_subject
        return f"service account {account} acting as {subject}"
    return f"authorized-user file {google.google_credentials}"


def grant_check(google: GoogleSettings, needs: Mapping[str, Sequence[str]]) -> Check | None:
    """What the stored grant covers (a raw token or service account records none)."""
    from aligner.vendors.google.oauth import granted_scopes

    if google.google_access_token is not None or google.google_service_account is not None:
        return None
    path = google.google_credentials
    granted = granted_scopes(path) if path is not None else None
    if granted is None:
        return None
    missing = [
        f"{short(scope)} (for the {surface})"
        for surface, wanted in needs.items()
        for scope in wanted
        if scope not in granted
    ]
    if missing:
        return fail(f"{NAME}.scopes", f"the Google grant lacks {', '.join(missing)}", REAUTH)
    return ok(f"{NAME}.scopes", "grant has " + ", ".join(short(s) for s in granted))


def grant_age_check(google: GoogleSettings, needs: AccountNeeds) -> Check | None:
    """A grant of an app in "Testing" status dies after 7 days: warn from day 6, or when the
    window ends more than 6 days after the grant."""
    from aligner.vendors.google.oauth import granted_at

    path = google.google_credentials
    if google.google_access_token is not None or path is None:
        return None
    since = granted_at(path)
    if since is None:
        return None
    limit = since + timedelta(days=TESTING_DAYS - 1)
    name = f"{NAME}.grant_age"
    if needs.now >= limit:
        age = (needs.now - since).days
        return Check(name, "warn", f"the Google grant is {age} days old", TESTING_NOTE)
    if needs.until > limit:
        return Check(
            name,
            "warn",
            f"the window ends more than {TESTING_DAYS - 1} days after the Google grant",
            TESTING_NOTE,
        )
    return ok(name, f"granted {since:%Y-%m-%d}")


def read_check(
    check: str,
    settings: Settings,
    api: tuple[str, str],
    scope: str,
    request_of: Callable[[Any], Any],
) -> tuple[Check | None, Any]:
    """One cheap read call of `api` (name, version) for the surface named by `check`; a failure
    becomes its ✗ line."""
    from aligner.vendors.google.client import build_service, execute

    surface = check.partition(".")[0]
    google = settings.part(GoogleSettings)

    def read() -> Any:
        service = build_service(google, *api, surface)
        try:
            return execute(request_of(service), surface, scope, retry=True)
        finally:
            service.close()  # httplib2 keeps sockets open otherwise

    return probe(check, read)


GOOGLE = GoogleAccount()
