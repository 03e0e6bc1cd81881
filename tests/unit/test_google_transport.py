"""The private httplib2 hook under every Google client still fires (pinned range in pyproject).

httplib2 re-sends a request whose connection dropped before the answer came (it takes the drop
for a stale keep-alive connection). For a committed POST that is a second draft or email. These
tests run both transports against the sandbox's "drop after commit" fault: if a new httplib2 no
longer re-sends, or the override stops being called, one of them fails. The connection is kept
alive for every call (the sandbox counts the connections it accepts), but a write goes only over
one known to be open.
"""

from __future__ import annotations

import gc
import time

import httplib2
import pytest

from aligner.sandbox.server import Sandbox
from aligner.vendors.google import transport
from aligner.vendors.google.transport import SingleAttemptHttp

BODY = b'{"message": {"raw": "SGk="}}'
HEADERS = {"Content-Type": "application/json", "Authorization": "Bearer ya29.sandbox-access-token"}


def _drafts_url(sandbox: Sandbox) -> str:
    return f"{sandbox.url}gmail/v1/users/me/drafts"


def _creates(sandbox: Sandbox) -> int:
    return len(sandbox.requests("gmail", "gmail.drafts.create"))


def test_plain_httplib2_sends_a_dropped_post_twice(sandbox: Sandbox) -> None:
    """Why the hook exists (if this fails, httplib2 changed: re-check the hook is still needed)."""
    sandbox.inject("gmail.drafts.create", "drop")
    http = httplib2.Http(timeout=10, proxy_info=None)
    response, _ = http.request(_drafts_url(sandbox), "POST", body=BODY, headers=HEADERS)
    http.close()
    assert response.status == 200
    assert _creates(sandbox) == 2


def test_aligners_transport_sends_a_dropped_post_once(sandbox: Sandbox) -> None:
    sandbox.inject("gmail.drafts.create", "drop")
    http = SingleAttemptHttp(timeout=10, proxy_info=None)
    with pytest.raises(ConnectionError, match="not sending it again"):
        http.request(_drafts_url(sandbox), "POST", body=BODY, headers=HEADERS)
    http.close()
    assert _creates(sandbox) == 1


def test_reads_keep_httplib2s_own_retry_of_a_stale_connection(sandbox: Sandbox) -> None:
    http = SingleAttemptHttp(timeout=10, proxy_info=None)
    url = f"{sandbox.url}gmail/v1/users/me/drafts"
    for _ in range(2):
        response, _ = http.request(url, "GET", headers=HEADERS)
        assert response.status == 200
    http.close()


def test_reads_and_writes_share_one_kept_alive_connection(sandbox: Sandbox) -> None:
    http = SingleAttemptHttp(timeout=10, proxy_info=None)
    for method, body in (("GET", None), ("POST", BODY), ("GET", None), ("POST", BODY)):
        response, _ = http.request(_drafts_url(sandbox), method, body=body, headers=HEADERS)
        assert response.status == 200
    http.close()
    assert _creates(sandbox) == 2
    assert sandbox.accepted == 1


def test_a_write_never_goes_over_a_connection_the_server_closed(sandbox: Sandbox) -> None:
    """The server closed the kept-alive connection after its last answer (idle servers do):
    the write sees that before sending and opens a fresh one, instead of failing unsent."""
    sandbox.inject("gmail.drafts.list", "hangup")
    http = SingleAttemptHttp(timeout=10, proxy_info=None)
    http.request(_drafts_url(sandbox), "GET", headers=HEADERS)
    for _ in range(100):  # the server's close reaches the client's socket
        if transport._sound(next(iter(http.connections.values())), time.monotonic()) is False:
            break
        time.sleep(0.01)
    response, _ = http.request(_drafts_url(sandbox), "POST", body=BODY, headers=HEADERS)
    http.close()
    assert response.status == 200
    assert _creates(sandbox) == 1
    assert sandbox.accepted == 2


def test_a_write_after_a_long_idle_gets_a_fresh_connection(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transport, "MAX_IDLE", -1.0)  # every connection counts as idle too long
    http = SingleAttemptHttp(timeout=10, proxy_info=None)
    http.request(_drafts_url(sandbox), "GET", headers=HEADERS)
    response, _ = http.request(_drafts_url(sandbox), "POST", body=BODY, headers=HEADERS)
    http.close()
    assert response.status == 200
    assert sandbox.accepted == 2


def test_the_connection_closes_with_the_transport(sandbox: Sandbox) -> None:
    http = SingleAttemptHttp(timeout=10, proxy_info=None)
    http.request(_drafts_url(sandbox), "GET", headers=HEADERS)
    sock = next(iter(http.connections.values())).sock
    assert sock.fileno() != -1
    del http
    gc.collect()
    assert sock.fileno() == -1  # closed, not left to the garbage collector (ResourceWarning)
