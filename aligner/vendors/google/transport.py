"""The HTTP transport under every Google client: one kept-alive connection, writes at most once.

httplib2 quietly re-sends a request whose connection drops before the answer arrives: it takes
the drop for a stale keep-alive connection (`Http._conn_request`, "BadStatusLine on the first try
... retry regardless"). For a POST the server had already committed, that makes a second draft
or a second email — observed against the sandbox's "drop after commit" fault. Here POST and
PATCH are written at most once: a drop raises ConnectionError (which `client.execute` reports as
a TransientError), and the caller finds out from the API what happened before trying again;
idempotent calls are retried by `execute(retry=True)`.

One connection per host serves every call of a run (httplib2 keeps it alive). A write goes over
it only when it is known to be sound: it answered its last request in full less than `MAX_IDLE`
seconds ago and the server has not closed it since (nothing is waiting to be read on it, as
urllib3 checks before reusing a connection). Otherwise the write gets a fresh connection, so a
failure while writing is never a stale keep-alive connection that could have been retried. The
connections close when the transport is dropped (at the end of the run) or `close()`d.
"""

from __future__ import annotations

import selectors
import time
import weakref
from typing import Any

import httplib2

NOT_IDEMPOTENT = frozenset({"POST", "PATCH"})
MAX_IDLE = 10.0  # seconds a kept-alive connection may sit unused and still carry a write


class SingleAttemptHttp(httplib2.Http):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idle_since: dict[int, float] = {}  # id(connection) -> when it last answered
        # the sockets close with the transport, never left for the garbage collector to find
        weakref.finalize(self, _close_all, self.connections)

    def _conn_request(
        self, conn: Any, request_uri: str, method: str, body: Any, headers: Any
    ) -> Any:
        idle_since = self._idle_since.pop(id(conn), None)
        if method not in NOT_IDEMPOTENT:
            answer = super()._conn_request(conn, request_uri, method, body, headers)
        else:
            if not _sound(conn, idle_since):
                conn.close()  # a fresh connection: a failure now cannot be a stale keep-alive one
            answer = self._write_once(conn, request_uri, method, body, headers)
        if conn.sock is not None:  # answered in full and kept alive (else http.client closed it)
            self._idle_since[id(conn)] = time.monotonic()
        return answer

    def _write_once(self, conn: Any, request_uri: str, method: str, body: Any, headers: Any) -> Any:
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


def _sound(conn: Any, idle_since: float | None) -> bool:
    """The connection answered its last request in full, recently, and is still open."""
    sock = conn.sock
    if sock is None or idle_since is None or time.monotonic() - idle_since > MAX_IDLE:
        return False
    pending = getattr(sock, "pending", None)  # TLS: bytes already decrypted, never expected
    if callable(pending) and pending():
        return False
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            # readable before we asked anything: the server closed it (or sent junk)
            return not selector.select(0)
    except (OSError, ValueError):
        return False


def _close_all(connections: dict[str, Any]) -> None:
    for conn in list(connections.values()):
        conn.close()
    connections.clear()
