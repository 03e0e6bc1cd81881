"""Signing in to Microsoft 365 with MSAL for Python as a public client, and the cache it leaves.

`aligner auth microsoft` runs one of MSAL's two flows for a public client
(https://learn.microsoft.com/en-us/entra/msal/python/getting-started/acquiring-tokens):

- the device-code flow (the default): `initiate_device_flow` asks Microsoft Entra for a user
  code, the person opens https://microsoft.com/devicelogin on any device and types it, and
  `acquire_token_by_device_flow` polls the token endpoint until they have
  (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-device-code). It works
  over SSH and on machines without a browser; the app registration must allow public client
  flows.
- `--browser`: `acquire_token_interactive`, the authorization-code flow with PKCE and a loopback
  redirect to http://localhost:<port> (the app registration needs that redirect URI under
  "Mobile and desktop applications").

MSAL adds the reserved scopes openid, profile and offline_access (the refresh token) itself.
What is kept is MSAL's SerializableTokenCache, in a 0600 file:
    {"client_id": "...", "authority": "https://login.microsoftonline.com/organizations",
     "cache": "<MSAL's serialized cache>"}
`token.py` loads it and refreshes silently.

A personal Microsoft account (outlook.com, hotmail.com) signs in under the consumer tenant,
whose id is fixed: 9188040d-6c67-4c5b-b112-36a304b66dad
(https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference, `tid`).
Presence (the Teams status message) exists for work or school accounts only.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aligner.errors import AuthError, ConfigError, TransientError
from aligner.state.credentials import write_private
from aligner.vendors.microsoft.scopes import granted, requestable
from aligner.vendors.microsoft.settings import MicrosoftSettings

NAME = "microsoft"
PERSONAL_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
NO_CLIENT_ID = (
    "--client-id: give the Application (client) ID of your app registration, or set "
    'ALIGNER_MICROSOFT_CLIENT_ID (the README\'s "Using Microsoft 365" says how to register one)'
)


@dataclass(frozen=True)
class SignedIn:
    """Who signed in and what Microsoft granted (no token in here)."""

    username: str
    tenant: str  # the `tid` claim ("" when unknown)
    scopes: tuple[str, ...]  # as Microsoft lists them in the token response's `scope`

    @property
    def personal(self) -> bool:
        return self.tenant.lower() == PERSONAL_TENANT


def client_id_of(settings: MicrosoftSettings, given: str | None) -> str:
    client_id = (given or settings.microsoft_client_id or "").strip()
    if not client_id:
        raise ConfigError(NO_CLIENT_ID)
    return client_id


def application(client_id: str, authority: str, cache: Any, surface: str = NAME) -> Any:
    """An msal.PublicClientApplication; a network failure or unknown tenant is one line."""
    import msal
    import requests

    try:
        return msal.PublicClientApplication(client_id, authority=authority, token_cache=cache)
    except requests.RequestException as exc:
        raise TransientError(
            f"cannot reach Microsoft sign-in at {authority} ({type(exc).__name__})", surface
        ) from None
    except ValueError:
        raise ConfigError(
            f"Microsoft Entra does not know the tenant of {authority}: check --tenant or "
            "ALIGNER_MICROSOFT_TENANT (organizations, common, consumers, or your tenant's domain "
            "or id)"
        ) from None


def sign_in(
    settings: MicrosoftSettings,
    scopes: Sequence[str],
    *,
    client_id: str,
    tenant: str | None,
    browser: bool,
    port: int,
    say: Callable[[str], None],
    show_url: Callable[[str], None],
    keep_secret: Callable[..., None],
) -> SignedIn:
    """Run the device-code (or browser) flow and store MSAL's cache, 0600."""
    import msal
    import requests
    from msal.oauth2cli.oauth2 import BrowserInteractionTimeoutError

    authority = f"{settings.microsoft_authority_host}{tenant or settings.microsoft_tenant}"
    cache = msal.SerializableTokenCache()
    app = application(client_id, authority, cache)
    wanted = requestable(scopes)
    try:
        if browser:
            result = app.acquire_token_interactive(
                wanted,
                prompt="select_account",
                port=port or None,
                timeout=600,
                on_before_launching_ui=lambda **_: say("Opening your browser to sign in…"),
                auth_uri_callback=show_url,
            )
        else:
            flow = app.initiate_device_flow(scopes=wanted)
            if "user_code" not in flow:
                raise AuthError(f"Microsoft refused to start the sign-in: {refusal(flow)}", NAME)
            say(str(flow.get("message") or flow.get("verification_uri")))
            result = app.acquire_token_by_device_flow(flow)
    except requests.RequestException as exc:
        raise TransientError(
            f"lost Microsoft sign-in at {authority} ({type(exc).__name__}); try again", NAME
        ) from None
    except (msal.exceptions.MsalError, BrowserInteractionTimeoutError) as exc:
        raise AuthError(f"Microsoft sign-in did not finish ({exc})", NAME) from None
    except ValueError:  # not JSON: a captive portal or proxy answered instead of Entra
        raise TransientError(
            f"Microsoft sign-in at {authority} answered something that is not Entra's JSON; "
            "try again",
            NAME,
        ) from None
    if not isinstance(result, dict) or "access_token" not in result:
        raise AuthError(f"Microsoft sign-in failed: {refusal(result)}", NAME)
    keep_secret(result.get("access_token"), result.get("refresh_token"), result.get("id_token"))
    claims = result.get("id_token_claims") or {}
    who = SignedIn(
        username=str(claims.get("preferred_username") or claims.get("upn") or "?"),
        tenant=str(claims.get("tid") or ""),
        scopes=tuple(str(result.get("scope") or "").split()),
    )
    save_cache(settings, client_id, authority, cache)
    return who


def refusal(result: Any) -> str:
    """Microsoft Entra's error, one line: `invalid_grant: AADSTS70000: …` (no trace ids)."""
    if not isinstance(result, Mapping):
        return "no answer"
    code = str(result.get("error") or "error")
    text = str(result.get("error_description") or "").strip()
    first = text.splitlines()[0].strip() if text else ""
    return f"{code}: {first}" if first else code


def save_cache(settings: MicrosoftSettings, client_id: str, authority: str, cache: Any) -> None:
    data = {"client_id": client_id, "authority": authority, "cache": cache.serialize()}
    write_private(settings.token_cache_target, json.dumps(data))


# -- reading what a cache or a raw token says (doctor) ------------------------------------------


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The claims of a JWT, unverified; None when `token` is not one (Graph access tokens
    are JWTs today, but Microsoft says to treat them as opaque)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        raw = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(raw)
    except (ValueError, TypeError):
        return None
    return claims if isinstance(claims, dict) else None


def cache_secrets(serialized: str) -> list[str]:
    """Every token inside MSAL's serialized cache (so output can be scrubbed of them)."""
    try:
        data = json.loads(serialized)
    except ValueError:
        return []
    found = []
    for kind in ("AccessToken", "RefreshToken", "IdToken"):
        entries = data.get(kind) if isinstance(data, dict) else None
        for entry in (entries or {}).values():
            if isinstance(entry, dict) and entry.get("secret"):
                found.append(str(entry["secret"]))
    return found


@dataclass(frozen=True)
class CachedGrant:
    """What MSAL's cache holds for its (first) account."""

    username: str
    tenant: str
    scopes: frozenset[str]  # case-folded, as `scopes.granted` gives them


def cached_grant(serialized: str) -> CachedGrant | None:
    """The account, tenant and scopes of the refresh (and access) tokens in a cache."""
    try:
        data = json.loads(serialized)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    accounts = list((data.get("Account") or {}).values())
    if not accounts:
        return None
    account = accounts[0]
    home = account.get("home_account_id")
    targets: list[str] = []
    for kind in ("RefreshToken", "AccessToken"):
        for entry in (data.get(kind) or {}).values():
            if entry.get("home_account_id") == home:
                targets += str(entry.get("target") or "").split()
    tenant = ""
    for entry in (data.get("IdToken") or {}).values():
        if entry.get("home_account_id") == home:
            tenant = str((jwt_claims(str(entry.get("secret") or "")) or {}).get("tid") or "")
    if not tenant and isinstance(home, str) and "." in home:
        tenant = home.split(".", 1)[1]  # <object id>.<home tenant id>
    return CachedGrant(str(account.get("username") or "?"), tenant, frozenset(granted(targets)))


def scope_list(scopes: Iterable[str]) -> str:
    return ", ".join(sorted(set(scopes), key=str.lower)) or "none"
