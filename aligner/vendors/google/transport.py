"""The HTTP transport under every Google client: a write goes out at most once.

httplib2 quietly re-sends a request whose connection drops before the answer arrives: it takes
the drop for a stale keep-alive connection (`Http._conn_request`, "BadStatusLine on the first try
... retry regardless"). For a POST the server had already committed, that makes a second draft
or a second email — observed against the sandbox's "drop after commit" fault. Here POST and
PATCH go over a fresh connection and are written at most once: a drop raises ConnectionError
(which `client.execute` reports as a TransientError), and the caller finds out from the API
what happened before trying again; idempotent calls are retried by `execute(retry=True)`.
"""

from __future__ import annotations

from typing import Any

import httplib2

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
