"""The Google clients are built from the bundled discovery documents, with only the methods
aligner uses (the ones the sandbox emulates) and without their prose."""

from __future__ import annotations

import json
from typing import Any

import httplib2
from googleapiclient.discovery import build_from_document
from googleapiclient.discovery_cache import get_static_doc

from aligner.sandbox.google.calendar import service as calendar_sandbox
from aligner.sandbox.google.gmail import mail as mail_sandbox
from aligner.sandbox.google.gmail import settings as settings_sandbox
from aligner.vendors.google.client import USED_METHODS, discovery_document


def strings_named_description(value: Any) -> int:
    if isinstance(value, dict):
        own = sum(1 for k, v in value.items() if k == "description" and isinstance(v, str))
        return own + sum(strings_named_description(v) for v in value.values())
    if isinstance(value, list):
        return sum(strings_named_description(v) for v in value)
    return 0


def test_the_prose_goes_and_everything_else_stays() -> None:
    for api, version in (("calendar", "v3"), ("gmail", "v1")):
        bundled = json.loads(get_static_doc(api, version))
        trimmed = json.loads(discovery_document(api, version))
        assert strings_named_description(bundled) > 100
        assert strings_named_description(trimmed) == 0
        assert trimmed["schemas"].keys() == bundled["schemas"].keys()
        assert trimmed["parameters"].keys() == bundled["parameters"].keys()
    event = json.loads(discovery_document("calendar", "v3"))["schemas"]["Event"]["properties"]
    assert event["description"] == {"type": "string"}  # a field named description stays


def resource(client: Any, path: str) -> Any:
    for name in path.split("."):
        client = getattr(client, name)()
    return client


def methods_of(resource: Any, full: Any) -> set[str]:
    """The API methods of a built resource (not its nested resources or the client's own)."""
    doc = full._resourceDesc
    return {m for m in dir(resource) if m in doc.get("methods", {})}


def test_the_clients_have_exactly_the_methods_aligner_uses() -> None:
    http = httplib2.Http()
    for (api, version), used in USED_METHODS.items():
        full = build_from_document(get_static_doc(api, version), http=http)
        trimmed = build_from_document(discovery_document(api, version), http=http)
        for path, methods in used.items():
            whole, kept = resource(full, path), resource(trimmed, path)
            assert methods <= methods_of(whole, whole), (api, path)  # real methods, by name
            assert methods_of(kept, whole) == methods, (api, path)
    calendar = build_from_document(discovery_document("calendar", "v3"), http=http)
    assert not hasattr(calendar, "calendarList")  # resources aligner never calls are gone
    assert not hasattr(calendar.events(), "quickAdd")


def test_the_sandbox_emulates_every_method_the_clients_keep() -> None:
    kept = set()
    for (api, _), used in USED_METHODS.items():
        for path, methods in used.items():
            short = path.removeprefix("users").removeprefix(".settings").strip(".")
            kept |= {".".join(filter(None, (api, short, m))) for m in methods}
    emulated = {f"calendar.events.{m}" for m in calendar_sandbox._OPERATIONS.values()}
    emulated |= {operation for _, _, operation, _ in mail_sandbox._ROUTES}
    emulated |= set(settings_sandbox._OPERATIONS.values())
    assert kept == emulated


def test_the_document_is_read_once_per_process() -> None:
    assert discovery_document("gmail", "v1") is discovery_document("gmail", "v1")
