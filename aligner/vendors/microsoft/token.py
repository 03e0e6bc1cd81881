"""Where a Graph access token comes from: a raw token, or MSAL's cache (refreshed silently).

ALIGNER_MICROSOFT_ACCESS_TOKEN wins when set (tests, short experiments). Otherwise the token
cache `aligner auth microsoft` wrote is loaded into an MSAL PublicClientApplication and
`acquire_token_silent` returns a cached access token or redeems the refresh token
(https://learn.microsoft.com/en-us/entra/msal/python/getting-started/acquiring-tokens). A cache
MSAL changed is written back, 0600, so the new refresh token is not lost.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from typing import Any

from aligner.errors import AuthError, TransientError
from aligner.state.credentials import require_private, write_private
from aligner.vendors.microsoft.scopes import missing, requestable
from aligner.vendors.microsoft.settings import MicrosoftSettings

NAME = "microsoft"
NO_CREDENTIALS = (
    "no Microsoft credentials: run `aligner auth microsoft` (or set ALIGNER_MICROSOFT_ACCESS_TOKEN)"
)
_cache_lock = threading.Lock()  # surfaces connect in parallel; one refresh at a time


def token_source(
    settings: MicrosoftSettings, scopes: Sequence[str], surface: str
) -> Callable[[], str]:
    """A callable returning an access token; it does nothing until first called."""
    raw = settings.microsoft_access_token
    if raw is not None:
        value = raw.get_secret_value()
        return lambda: value
    path = settings.token_cache_target
    if not path.is_file():
        raise AuthError(NO_CREDENTIALS, surface)
    return lambda: cached_token(settings, scopes, surface)


def load_cache_file(settings: MicrosoftSettings) -> dict[str, Any]:
    """{"client_id", "authority", "cache": <MSAL's serialized cache>} as `auth` wrote it."""
    path = settings.token_cache_target
    require_private(path, NAME)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise AuthError(f"cannot read the Microsoft token cache: {NO_CREDENTIALS}", NAME) from None
    if not isinstance(data, dict) or not isinstance(data.get("cache"), str):
        raise AuthError(f"the Microsoft token cache is not aligner's: {NO_CREDENTIALS}", NAME)
    return data


def cached_token(
    settings: MicrosoftSettings, scopes: Sequence[str], surface: str, *, force_refresh: bool = False
) -> str:
    """An access token from MSAL's cache: a cached one, or one redeemed with the refresh token
    (`force_refresh`: always redeem it, as doctor does to prove the sign-in still works)."""
    result = silent_result(settings, scopes, surface, force_refresh=force_refresh)
    return str(result["access_token"])


def silent_result(
    settings: MicrosoftSettings, scopes: Sequence[str], surface: str, *, force_refresh: bool = False
) -> dict[str, Any]:
    """MSAL's answer to `acquire_token_silent_with_error` (it holds `access_token`), or AuthError
    with one line saying to sign in again; a cache MSAL changed is written back, 0600."""
    import msal
    import requests

    from aligner.vendors.microsoft.signin import application, cached_grant, refusal

    with _cache_lock:
        data = load_cache_file(settings)
        cache = msal.SerializableTokenCache()
        cache.deserialize(data["cache"])
        # The tokens belong to the app registration that obtained them.
        client_id = data.get("client_id") or settings.microsoft_client_id
        if not client_id:
            raise AuthError(
                "ALIGNER_MICROSOFT_CLIENT_ID is not set: give your app registration's client id "
                "and run `aligner auth microsoft`",
                surface,
            )
        authority = str(data.get("authority") or settings.authority)
        app = application(str(client_id), authority, cache, surface)
        accounts = app.get_accounts()
        try:
            result = (
                app.acquire_token_silent_with_error(
                    requestable(scopes), account=accounts[0], force_refresh=force_refresh
                )
                if accounts
                else None
            )
        except requests.RequestException as exc:
            raise TransientError(
                f"cannot reach Microsoft sign-in to renew the token ({type(exc).__name__})",
                surface,
            ) from None
        if cache.has_state_changed:
            write_private(
                settings.token_cache_target, json.dumps({**data, "cache": cache.serialize()})
            )
        if not result or "access_token" not in result:
            grant = cached_grant(data["cache"])
            lacking = missing(scopes, grant.scopes) if grant else []
            if lacking:
                reason = "it does not cover " + ", ".join(lacking)
            elif result:
                reason = refusal(result)
            else:
                reason = "the sign-in has expired"
            raise AuthError(
                f"Microsoft sign-in needs renewing ({reason}): run `aligner auth microsoft`",
                surface,
            )
        return dict(result)


def graph_for(
    settings: MicrosoftSettings, scopes: Sequence[str], surface: str, **options: Any
) -> Any:
    """A `Graph` client for one surface's run (httpx is imported on first call, not here)."""
    from aligner.vendors.microsoft.graph import Graph
    from aligner.vendors.waits import WaitBudget

    options.setdefault("budget", WaitBudget(settings.retry_cap))
    return Graph(
        settings.graph_api_url, token_source(settings, scopes, surface), surface, **options
    )
