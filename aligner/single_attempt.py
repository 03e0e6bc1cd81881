"""An HTTP transport for Google calls that must never be sent twice (a draft, a send).

httplib2 quietly re-sends a request whose connection drops before the answer arrives: it takes
the drop for a stale keep-alive connection (`Http._conn_request`, "BadStatusLine on the first try
... retry regardless"). For a POST the server had already committed, that makes a second draft
or a second email — observed against the sandbox's "drop after commit" fault. Here POST and
PATCH go over a fresh connection and are written at most once: a drop raises ConnectionError
(which `aligner.google.execute` reports as a TransientError), and the caller finds out from the
API what happened before trying again.
"""

from __future__ import annotations

from typing import Any

import httplib2
from google_auth_httplib2 import AuthorizedHttp

from aligner.google import load_credentials
from aligner.settings import Settings, is_loopback

NOT_IDEMPOTENT = frozenset({"POST", "PATCH"})


class SingleAttemptHttp(httplib2.Http):  # type: ignore[misc]
    def _conn_request(
        self, conn: Any, request_uri: str, method: str, body: Any, headers: Any
    ) -> Any:
        if method not in NOT_IDEMPOTENT:
            return super()._conn_request(conn, request_uri, method, body, headers)
        conn.close()  # a fresh connection: a failure now cannot be a stale keep-alive one
        original = conn.request
        sent = False

        def request_once(*args: Any, **kwargs: Any) -> Any:
            nonlocal sent
            if sent:
                raise ConnectionError(
                    f"the connection dropped after the {method} was sent; not sending it again"
                )
            sent = True
            return original(*args, **kwargs)

        conn.request = request_once
        try:
            return super()._conn_request(conn, request_uri, method, body, headers)
        finally:
            conn.request = original


def single_attempt_http(settings: Settings, surface: str) -> AuthorizedHttp:
    """Authorised like `aligner.google.build_service`'s transport, but writes go out once."""
    # httplib2 honours proxy variables even for loopback: never proxy a local sandbox.
    loopback = is_loopback(settings.google_api_root)
    proxy = None if loopback else httplib2.proxy_info_from_environment
    http = SingleAttemptHttp(timeout=30, proxy_info=proxy)
    return AuthorizedHttp(load_credentials(settings, surface), http=http)
