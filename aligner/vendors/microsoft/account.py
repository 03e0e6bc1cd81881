"""The Microsoft 365 account the Microsoft surfaces act as: `aligner auth microsoft`, doctor.

Presence (the Teams status message) needs a work or school account; the calendar and mail work
with any Microsoft 365 mailbox. Outlook signatures cannot be themed: Microsoft Graph exposes no
API for them (they live in Outlook's own roaming settings), so aligner does not pretend to.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aligner.core.doctor import Check, fail, ok, token_check
from aligner.errors import AlignerError, SurfaceError
from aligner.state.credentials import RefusedSecret, shadowed_by_environment
from aligner.state.settings import Settings
from aligner.surfaces.base import Account, AccountNeeds, AuthFlow, AuthOption, AuthTalk
from aligner.theme.schema import ThemeConfig
from aligner.vendors.microsoft.scopes import PRESENCE, missing, requestable
from aligner.vendors.microsoft.settings import MicrosoftSettings

if TYPE_CHECKING:
    from aligner.sandbox.seed import SandboxSeed

NAME = "microsoft"
REAUTH = "run `aligner auth microsoft`"
PERSONAL_NOTE = (
    "presence (the Teams status message) needs a work or school account; a personal Microsoft "
    "account has no Teams presence"
)
SIGNATURE_NOTE = (
    "Outlook signatures cannot be themed: Microsoft Graph has no API for them (Outlook keeps "
    "them in its own settings), so aligner neither reads nor writes them"
)


class MicrosoftAuth(AuthFlow):
    help = (
        "Sign in to Microsoft 365 (device code; --browser for a local browser) for the enabled "
        "Microsoft surfaces (asks only for their permissions)."
    )
    needs_theme = True
    options = (
        AuthOption(
            "--client-id",
            "Application (client) ID of your app registration "
            "(default: $ALIGNER_MICROSOFT_CLIENT_ID).",
        ),
        AuthOption(
            "--tenant",
            "organizations, common, consumers, your tenant's domain or id "
            "(default: $ALIGNER_MICROSOFT_TENANT, else organizations).",
        ),
        AuthOption(
            "--browser",
            "Sign in in a browser on this machine (loopback redirect to http://localhost) "
            "instead of with a device code.",
            is_flag=True,
        ),
        AuthOption("--port", "Loopback port for --browser (0: any free port).", default=0),
    )

    def run(
        self,
        talk: AuthTalk,
        settings: Settings,
        config: ThemeConfig | None,
        scopes: Sequence[str],
        options: Mapping[str, Any],
    ) -> bool:
        from aligner.vendors.microsoft.signin import client_id_of, scope_list, sign_in

        ms = settings.part(MicrosoftSettings)
        client_id = client_id_of(ms, options.get("client_id"))
        talk.say(f"Asking Microsoft for: {', '.join(requestable(scopes))} (and offline_access)")
        who = sign_in(
            ms,
            scopes,
            client_id=client_id,
            tenant=options.get("tenant"),
            browser=bool(options.get("browser")),
            port=int(options.get("port") or 0),
            say=talk.say,
            show_url=lambda url: talk.show_url(url, open_browser=False),
            keep_secret=talk.keep_secret,
        )
        talk.say(
            f"Signed in to Microsoft 365 as {who.username}. Saved the token cache to "
            f"{ms.token_cache_target} (mode 0600). Granted: {scope_list(who.scopes)}"
        )
        usable = True
        lacking = missing(scopes, who.scopes)
        if lacking:
            talk.warn(
                f"error: Microsoft did not grant {', '.join(lacking)}: add the delegated "
                "permission to the app registration (an administrator may have to consent), then "
                "run `aligner auth microsoft` again"
            )
            usable = False
        if who.personal:
            if PRESENCE in scopes:
                talk.warn(f"error: {who.username} is a personal Microsoft account: {PERSONAL_NOTE}")
                usable = False
            else:
                talk.say(f"Note: {who.username} is a personal Microsoft account.")
        shadowed = shadowed_by_environment(ms, "microsoft_access_token", "token cache")
        if shadowed:
            talk.warn(shadowed)
        return usable


class MicrosoftAccount(Account):
    name = NAME
    title = "Microsoft 365"
    settings = MicrosoftSettings

    def auth(self) -> AuthFlow:
        return MicrosoftAuth()

    def doctor(
        self, settings: Settings, scopes: Mapping[str, Sequence[str]], needs: AccountNeeds
    ) -> Iterator[Check]:
        ms = settings.part(MicrosoftSettings)
        if ms.microsoft_access_token is not None:
            yield from raw_token_checks(ms, scopes, needs)
        else:
            yield from cache_checks(ms, scopes)
        yield Check(f"{NAME}.signatures", "unknown", SIGNATURE_NOTE)

    def seed(self, box: SandboxSeed) -> None:
        from aligner.sandbox.microsoft.common import seed_account

        seed_account(box)

    def sandbox_env(self, url: str) -> dict[str, str]:
        from aligner.sandbox.microsoft.common import sandbox_env

        return sandbox_env(url)


def _needed(scopes: Mapping[str, Sequence[str]]) -> list[str]:
    return list(dict.fromkeys(s for group in scopes.values() for s in group))


def scope_check(scopes: Mapping[str, Sequence[str]], have: set[str] | frozenset[str]) -> Check:
    """`microsoft.scopes`: each permission an enabled surface needs, present or named missing."""
    lacking = [
        f"{scope} (for the {surface})"
        for surface, wanted in scopes.items()
        for scope in missing(wanted, have)
    ]
    if lacking:
        return fail(
            f"{NAME}.scopes",
            f"the Microsoft sign-in lacks {', '.join(dict.fromkeys(lacking))}",
            f"add the delegated permission to the app registration, then {REAUTH}",
        )
    needed = requestable(_needed(scopes))
    return ok(f"{NAME}.scopes", "grant has " + (", ".join(needed) or "what aligner needs"))


def account_check(
    username: str, personal: bool, scopes: Mapping[str, Sequence[str]]
) -> Check | None:
    """A personal Microsoft account cannot serve presence: say so when a surface needs it."""
    if not personal:
        return None
    if any(PRESENCE in wanted for wanted in scopes.values()):
        return fail(
            f"{NAME}.account",
            f"{username} is a personal Microsoft account: {PERSONAL_NOTE}",
            f"sign in with a work or school account: {REAUTH}",
        )
    return ok(f"{NAME}.account", f"{username} is a personal Microsoft account")


def cache_checks(ms: MicrosoftSettings, scopes: Mapping[str, Sequence[str]]) -> Iterator[Check]:
    """Credentials, a working refresh, scopes and the account kind, from MSAL's token cache."""
    from aligner.vendors.microsoft.signin import PERSONAL_TENANT, cached_grant
    from aligner.vendors.microsoft.token import NO_CREDENTIALS, load_cache_file, silent_result

    path = ms.token_cache_target
    if not path.is_file():
        yield fail(f"{NAME}.credentials", "no Microsoft sign-in", NO_CREDENTIALS.split(": ")[1])
        return
    try:
        held = cached_grant(load_cache_file(ms)["cache"])
    except SurfaceError as exc:
        yield fail(f"{NAME}.credentials", str(exc))
        return
    yield ok(f"{NAME}.credentials", f"token cache {path} (from `aligner auth microsoft`)")
    if held is None:
        yield fail(f"{NAME}.works", "the token cache holds no account", REAUTH)
        return
    # One call to the token endpoint proves the refresh token still works. It asks only for
    # what the grant holds, so a permission the grant lacks is named by the scopes line below
    # rather than failing the refresh.
    needed = _needed(scopes)
    asked = [s for s in needed if s.lower() in held.scopes] or needed
    try:
        silent_result(ms, asked, NAME, force_refresh=True)
    except AlignerError as exc:
        yield fail(f"{NAME}.works", str(exc))
        return
    grant = cached_grant(load_cache_file(ms)["cache"]) or held
    yield ok(f"{NAME}.works", f"signed in as {grant.username}; the refresh token works")
    yield scope_check(scopes, grant.scopes)
    kind = account_check(grant.username, grant.tenant == PERSONAL_TENANT, scopes)
    if kind is not None:
        yield kind


def raw_token_checks(
    ms: MicrosoftSettings, scopes: Mapping[str, Sequence[str]], needs: AccountNeeds
) -> Iterator[Check]:
    """ALIGNER_MICROSOFT_ACCESS_TOKEN: present, private, and what its claims say (if a JWT)."""
    from aligner.vendors.microsoft.signin import PERSONAL_TENANT, jwt_claims

    credentials = token_check(NAME, "Microsoft Graph access", ms, "microsoft_access_token")
    yield credentials
    token = ms.microsoft_access_token
    if credentials.failed or token is None or isinstance(token, RefusedSecret):
        return
    claims = jwt_claims(token.get_secret_value())
    if claims is None:
        yield Check(
            f"{NAME}.scopes",
            "unknown",
            "the access token is opaque: aligner cannot tell its permissions or expiry",
        )
        return
    who = str(claims.get("upn") or claims.get("preferred_username") or claims.get("unique_name"))
    expires = _instant(claims.get("exp"))
    if expires is not None and expires <= needs.now:
        expired = f"the access token expired at {expires:%Y-%m-%d %H:%M}Z"
        yield fail(f"{NAME}.works", expired, REAUTH)
        return
    if expires is not None and expires < needs.until:
        yield Check(
            f"{NAME}.works",
            "warn",
            f"the access token for {who} expires at {expires:%Y-%m-%d %H:%M}Z, before the window "
            "ends",
            f"{REAUTH} for a refresh token (an access token lasts about an hour)",
        )
    else:
        yield ok(f"{NAME}.works", f"access token for {who}")
    scp = claims.get("scp")
    if isinstance(scp, str):
        yield scope_check(scopes, set(scp.split()))
    else:
        yield Check(f"{NAME}.scopes", "unknown", "the access token lists no delegated scopes")
    kind = account_check(who, str(claims.get("tid") or "") == PERSONAL_TENANT, scopes)
    if kind is not None:
        yield kind


def _instant(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


MICROSOFT = MicrosoftAccount()
