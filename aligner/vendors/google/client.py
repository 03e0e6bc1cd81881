"""Google API access shared by the Calendar, signature and note surfaces.

- Clients: google-api-python-client with its bundled (static) discovery documents; requests go
  to ALIGNER_GOOGLE_API_ROOT (Calendar under `{root}calendar/v3/`, Gmail under `{root}gmail/v1/`).
- Credentials: ALIGNER_GOOGLE_ACCESS_TOKEN (a raw bearer token) wins over
  ALIGNER_GOOGLE_CREDENTIALS (an authorized-user JSON, refreshed as google-auth does).
- `execute` retries only what is safe to retry (never pass retry=True for a send), honours
  Retry-After, and turns failures into aligner's error tree. Statuses a caller wants to handle
  itself (404, 409, ...) come back as `GoogleStatus`.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httplib2
from google.auth.credentials import Credentials as AnyCredentials
from google.auth.exceptions import GoogleAuthError, RefreshError, TransportError
from google.oauth2 import service_account
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build_from_document
from googleapiclient.discovery_cache import get_static_doc
from googleapiclient.errors import HttpError

from aligner.errors import AuthError, SurfaceError, TransientError
from aligner.state.credentials import require_private, write_private
from aligner.state.settings import is_loopback
from aligner.vendors.google.errors import (
    ErrorInfo,
    GoogleStatus,
    is_retryable,
    status_text,
    translate,
)
from aligner.vendors.google.settings import GoogleSettings
from aligner.vendors.google.transport import SingleAttemptHttp
from aligner.vendors.waits import RATE_LIMITED, WaitBudget

MAX_ATTEMPTS = 4
BACKOFF_BASE = 0.25  # seconds; doubled per attempt
_ENDPOINT_PATH = {"calendar": "calendar/v3/", "gmail": ""}


def load_credentials(
    settings: GoogleSettings, surface: str, scopes: Sequence[str] = ()
) -> AnyCredentials:
    """Google credentials, first found: ALIGNER_GOOGLE_ACCESS_TOKEN, a service account acting
    as ALIGNER_GOOGLE_SUBJECT (domain-wide delegation), then the authorized-user JSON
    (ALIGNER_GOOGLE_CREDENTIALS, or the one `aligner auth google` wrote). Credential files
    others can read are refused, as ssh does."""
    if settings.google_access_token is not None:
        try:
            return Credentials(token=settings.google_access_token.get_secret_value())
        except AuthError as exc:  # a refused secret says how to fix it
            raise AuthError(str(exc), surface) from None
    if settings.google_service_account is not None:
        return _service_account(settings, settings.google_service_account, surface, scopes)
    path = settings.google_credentials
    if path is not None:
        _require_file(path, "ALIGNER_GOOGLE_CREDENTIALS", surface)
        try:
            return _authorized_user(settings, path)
        except (ValueError, json.JSONDecodeError) as exc:
            raise AuthError(
                f"{path} is not an authorized-user credentials file ({exc}): "
                "run `aligner auth google`",
                surface,
            ) from None
    raise AuthError(
        "no Google credentials: run `aligner auth google` (or set ALIGNER_GOOGLE_ACCESS_TOKEN, "
        "or ALIGNER_GOOGLE_SERVICE_ACCOUNT with ALIGNER_GOOGLE_SUBJECT)",
        surface,
    )


_SHARED: dict[tuple[str, int, str], AnyCredentials] = {}
_SHARED_LOCK = threading.Lock()


def _authorized_user(settings: GoogleSettings, path: Path) -> AnyCredentials:
    """One credentials object per file version, shared by every surface (and every run of the
    daemon): its access token is refreshed once, not once per surface, and stored back in the
    file with its expiry, so the next run (a cron job every 5 minutes) reuses it until it expires:
    about one refresh an hour instead of one per run."""
    key = (str(path), path.stat().st_mtime_ns, settings.google_api_root)
    with _SHARED_LOCK:
        if key not in _SHARED:
            creds: Credentials = Credentials.from_authorized_user_file(str(path))
            _SHARED[key] = _one_refresh_at_a_time(_sandbox_token_uri(settings, creds), path)
        return _SHARED[key]


def _one_refresh_at_a_time(creds: AnyCredentials, path: Path) -> AnyCredentials:
    """Surfaces read concurrently: the first to find the token stale refreshes it (and stores
    it), the others wait and use the new one instead of refreshing again."""
    refresh, lock = creds.refresh, threading.Lock()

    def serialised(request: Any) -> None:
        seen = creds.token
        with lock:
            if creds.token != seen and creds.valid:
                return
            refresh(request)
            _store_token(path, creds)

    creds.refresh = serialised  # type: ignore[method-assign]
    return creds


def _store_token(path: Path, creds: AnyCredentials) -> None:
    """Write the refreshed access token and its expiry back into the authorized-user file,
    atomically and 0600 (the rest of the file as it was). Failing to store it costs only a
    refresh next run."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["token"] = creds.token
        if creds.expiry is not None:
            data["expiry"] = creds.expiry.isoformat() + "Z"  # naive UTC, as google-auth writes it
        refreshed = getattr(creds, "refresh_token", None)
        if refreshed:
            data["refresh_token"] = refreshed
        write_private(path, json.dumps(data, indent=2) + "\n")
    except (OSError, ValueError, TypeError):
        return


def _require_file(path: Path, variable: str, surface: str) -> None:
    try:
        found = path.is_file()
    except OSError as exc:
        raise AuthError(
            f"{variable} points at {path}, which aligner cannot read ({exc.strerror})", surface
        ) from None
    if not found:
        raise AuthError(
            f"{variable} points at {path}, which does not exist (run `aligner auth google`)",
            surface,
        )
    require_private(path, surface)


def _service_account(
    settings: GoogleSettings, path: Path, surface: str, scopes: Sequence[str]
) -> AnyCredentials:
    """A service account key acting as the user (Workspace domain-wide delegation)."""
    _require_file(path, "ALIGNER_GOOGLE_SERVICE_ACCOUNT", surface)
    if not settings.google_subject:
        raise AuthError(
            "ALIGNER_GOOGLE_SERVICE_ACCOUNT needs ALIGNER_GOOGLE_SUBJECT: the email of the "
            "user to act as",
            surface,
        )
    try:
        account = service_account.Credentials.from_service_account_file(
            str(path), scopes=list(scopes)
        )
    except (ValueError, KeyError, json.JSONDecodeError) as exc:
        raise AuthError(f"{path} is not a service account key file ({exc})", surface) from None
    delegated: AnyCredentials = account.with_subject(settings.google_subject)
    return _sandbox_token_uri(settings, delegated)


def _sandbox_token_uri(settings: GoogleSettings, creds: AnyCredentials) -> AnyCredentials:
    """google-auth always refreshes at Google's endpoint; a loopback sandbox serves its own."""
    if not is_loopback(settings.google_api_root):
        return creds
    root = settings.google_api_root.rstrip("/") + "/"
    moved: AnyCredentials = creds.with_token_uri(root + "token")  # type: ignore[attr-defined]
    return moved


def authorized_http(
    settings: GoogleSettings, surface: str, scopes: Sequence[str] = ()
) -> AuthorizedHttp:
    """Credentials over a transport that keeps one connection alive for every call and sends
    each write at most once (see google_transport)."""
    # httplib2 honours proxy variables even for loopback: never proxy a local sandbox.
    proxy = None if is_loopback(settings.google_api_root) else httplib2.proxy_info_from_environment
    transport = SingleAttemptHttp(timeout=30, proxy_info=proxy)
    authed = AuthorizedHttp(load_credentials(settings, surface, scopes), http=transport)
    authed.waits = WaitBudget(settings.retry_cap)
    return authed


def build_service(
    settings: GoogleSettings,
    api: str,
    version: str,
    surface: str,
    scopes: Sequence[str] = (),
    *,
    http: AuthorizedHttp | None = None,
) -> Any:
    """A discovery client for `api` pointed at the configured root, with static discovery.

    Every request it makes goes over `http` (a new `authorized_http` when None): one kept-alive
    connection for the run, closed when the client is dropped (see google_transport)."""
    root = settings.google_api_root.rstrip("/") + "/"
    return build_from_document(
        discovery_document(api, version),
        http=http or authorized_http(settings, surface, scopes),
        client_options={"api_endpoint": root + _ENDPOINT_PATH[api]},
    )


# The methods the sandbox serves, by resource path: those aligner calls, and messages.send and
# drafts.update, which the sandbox's own tests call. Clients are built with these alone:
# googleapiclient builds every method of a resource each time the resource is made (its
# parameters, its docstring), and a full `events()` (11 methods) or `users().settings()` costs
# milliseconds per command. A method not listed is missing from the client (AttributeError),
# which the first test that calls it shows.
USED_METHODS: dict[tuple[str, str], dict[str, frozenset[str]]] = {
    ("calendar", "v3"): {
        "events": frozenset({"list", "get", "insert", "patch", "update", "delete"}),
    },
    ("gmail", "v1"): {
        "users": frozenset({"getProfile"}),
        "users.drafts": frozenset({"create", "get", "list", "update", "delete", "send"}),
        "users.messages": frozenset({"send", "list", "get"}),
        "users.settings": frozenset(),
        "users.settings.sendAs": frozenset({"list", "get", "patch", "update"}),
    },
}


@functools.lru_cache(maxsize=8)
def discovery_document(api: str, version: str) -> str:
    """The bundled (static) discovery document with only the resources and methods aligner
    uses (USED_METHODS), and without prose: the client turns every description into
    docstrings for each resource it builds, and nothing else reads them. A property named
    "description" (an Event's) is an object and stays. Schemas all stay (methods refer to
    them by name)."""
    document = get_static_doc(api, version)
    if document is None:
        raise SurfaceError(f"{api} {version}: no discovery document bundled with the client")
    used = json.loads(document)
    used["resources"] = _used_resources(used.get("resources", {}), USED_METHODS[api, version])
    return json.dumps(_without_prose(used), separators=(",", ":"))


def _used_resources(
    resources: dict[str, Any], used: dict[str, frozenset[str]], prefix: str = ""
) -> dict[str, Any]:
    """The resources on the way to a used method, each with only its used methods."""
    kept: dict[str, Any] = {}
    for name, resource in resources.items():
        path = prefix + name
        if not any(p == path or p.startswith(path + ".") for p in used):
            continue
        methods = used.get(path, frozenset())
        kept[name] = {
            **resource,
            "methods": {k: v for k, v in resource.get("methods", {}).items() if k in methods},
            "resources": _used_resources(resource.get("resources", {}), used, path + "."),
        }
    return kept


def _without_prose(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _without_prose(v)
            for k, v in value.items()
            if not (k == "description" and isinstance(v, str))
        }
    if isinstance(value, list):
        return [_without_prose(v) for v in value]
    return value


def error_info(exc: HttpError) -> ErrorInfo:
    status = int(exc.resp.status)
    reason, message = "", str(getattr(exc, "reason", "") or "")
    try:
        error = json.loads(exc.content or b"{}").get("error", {})
        if isinstance(error, dict):
            message = error.get("message", message)
            reason = (error.get("errors") or [{}])[0].get("reason", "") or error.get("status", "")
    except (ValueError, AttributeError):
        pass
    reason = reason or status_text(status)  # never "(503 )": an empty reason reads as the status
    retry = exc.resp.get("retry-after")
    retry_after = float(retry) if retry and str(retry).replace(".", "", 1).isdigit() else None
    return ErrorInfo(status, reason, message, retry_after)


def execute(
    request: Any, surface: str, scope: str, *, retry: bool, expect: tuple[int, ...] = ()
) -> Any:
    """Run one API request. `retry` only for calls that are safe to send twice."""
    attempts = MAX_ATTEMPTS if retry else 1
    for attempt in range(attempts):
        try:
            return request.execute(num_retries=0)
        except HttpError as exc:
            info = error_info(exc)
            if info.status in expect:
                raise GoogleStatus(info.status, info.reason, info.message) from None
            if not (is_retryable(info) and attempt + 1 < attempts):
                error = translate(info, surface, scope)
                error.http_status = info.status
                raise error from None
            if not _sleep(request, attempt, info.retry_after):
                limited = info.status == 429 or info.retry_after is not None
                error = (
                    TransientError(_past_cap(info), surface, info.retry_after)
                    if limited
                    else translate(info, surface, scope)
                )
                error.http_status = info.status
                raise error from None
        except RefreshError as exc:
            raise _refresh_failed(exc, request, surface) from None
        except TransportError as exc:
            raise TransientError(
                f"cannot reach Google's sign-in service ({_first_line(exc)}); "
                "the next run will try again",
                surface,
            ) from None
        except GoogleAuthError as exc:
            raise AuthError(f"Google credentials problem: {_first_line(exc)}", surface) from None
        except (TimeoutError, OSError, httplib2.HttpLib2Error) as exc:
            if attempt + 1 >= attempts or not _sleep(request, attempt, None):
                raise TransientError(
                    f"cannot reach Google ({type(exc).__name__}: {exc}); the "
                    "next run will try again",
                    surface,
                ) from None
    raise AssertionError("unreachable")


def _refresh_failed(exc: RefreshError, request: Any, surface: str) -> SurfaceError:
    """A rejected token: a bare access token cannot refresh itself, a stored grant can fail to.
    Google's token endpoint failing for a while (5xx, 429: google-auth marks it `retryable`
    after its own retries) is no reason to sign in again."""
    if getattr(exc, "retryable", False):
        return TransientError(
            f"Google's sign-in service is unavailable right now ({_first_line(exc)}); "
            "the next run will try again",
            surface,
        )
    credentials = getattr(getattr(request, "http", None), "credentials", None)
    if credentials is not None and not getattr(credentials, "refresh_token", None):
        return AuthError(
            "Google rejected the access token (expired or revoked): get a fresh one for "
            "ALIGNER_GOOGLE_ACCESS_TOKEN (e.g. `gcloud auth print-access-token`), or run "
            "`aligner auth google` for credentials that refresh themselves",
            surface,
        )
    return AuthError(
        f"Google credentials could not be refreshed ({_first_line(exc)}): "
        "run `aligner auth google` again",
        surface,
    )


def _sleep(request: Any, attempt: int, retry_after: float | None) -> bool:
    """Wait before the next attempt, if this run's wait budget covers it (else False)."""
    delay = retry_after if retry_after is not None else BACKOFF_BASE * (2**attempt)
    waits = getattr(getattr(request, "http", None), "waits", None)
    if not isinstance(waits, WaitBudget):
        waits = WaitBudget()  # a request built elsewhere: the default cap, for this call
    return waits.wait(delay)


def _past_cap(info: ErrorInfo) -> str:
    asked = f"Google asked to wait {info.retry_after:g} s" if info.retry_after else "Google"
    what = f"{info.status} {info.reason}".strip()
    return f"{asked} ({what}), past ALIGNER_RETRY_CAP: {RATE_LIMITED}"


def _first_line(exc: Exception) -> str:
    # google-auth's errors carry (message, response body): the message alone reads well
    text = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    return text.splitlines()[0] if text else type(exc).__name__
