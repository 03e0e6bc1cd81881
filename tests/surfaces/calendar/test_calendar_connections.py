"""Calendar reads keep one connection open between calls; each thread has its own client."""

from __future__ import annotations

import threading
from typing import Any

from aligner.sandbox.google.common import GOOGLE_TOKEN
from aligner.sandbox.server import Sandbox
from aligner.surfaces.calendar.api import CalendarApi
from aligner.vendors.google.client import build_service
from aligner.vendors.google.settings import GoogleSettings


def sockets(api: CalendarApi) -> list[Any]:
    return list(api.service._http.http.connections.values())


def test_reads_reuse_one_connection_until_closed(sandbox: Sandbox) -> None:
    settings = GoogleSettings(google_api_root=sandbox.url, google_access_token=GOOGLE_TOKEN)

    def make() -> Any:
        return build_service(settings, "calendar", "v3", "calendar")

    api = CalendarApi(make(), make)
    try:
        assert api.get("primary", "nosuchevent1") is None
        first = sockets(api)
        assert api.get("primary", "nosuchevent2") is None
        assert len(first) == 1 and sockets(api) == first  # the same connection, kept alive
        assert len(sandbox.requests("calendar", "calendar.events.get")) == 2
        seen: list[Any] = []
        worker = threading.Thread(target=lambda: seen.append(api.service))
        worker.start()
        worker.join()
        assert seen and seen[0] is not api.service  # httplib2 is not thread-safe: one each
    finally:
        api.close()
    assert sockets(api) == []


def test_the_client_built_at_connect_serves_the_first_thread_that_calls(sandbox: Sandbox) -> None:
    """The engine connects in one thread and reads in another: that read builds no client."""
    settings = GoogleSettings(google_api_root=sandbox.url, google_access_token=GOOGLE_TOKEN)
    built: list[Any] = []

    def make() -> Any:
        built.append(build_service(settings, "calendar", "v3", "calendar"))
        return built[-1]

    api = CalendarApi(make(), make)
    reader = threading.Thread(target=lambda: api.get("primary", "nosuchevent1"))
    reader.start()
    reader.join()
    assert len(built) == 1
    try:
        assert api.get("primary", "nosuchevent2") is None  # another thread: its own client
        assert len(built) == 2 and api.service is built[1]
    finally:
        api.close()
        built[0].close()
