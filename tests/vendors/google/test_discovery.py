"""The Google clients are built from the bundled discovery documents without their prose."""

from __future__ import annotations

import json
from typing import Any

import httplib2
from googleapiclient.discovery import build_from_document
from googleapiclient.discovery_cache import get_static_doc

from aligner.vendors.google.client import discovery_document


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
        assert trimmed["resources"].keys() == bundled["resources"].keys()
        assert trimmed["schemas"].keys() == bundled["schemas"].keys()
        assert trimmed["parameters"].keys() == bundled["parameters"].keys()
    event = json.loads(discovery_document("calendar", "v3"))["schemas"]["Event"]["properties"]
    assert event["description"] == {"type": "string"}  # a field named description stays


def test_the_client_has_every_method_it_had() -> None:
    http = httplib2.Http()
    for api, version, path in (
        ("calendar", "v3", ("events",)),
        ("gmail", "v1", ("users", "drafts")),
        ("gmail", "v1", ("users", "settings", "sendAs")),
        ("gmail", "v1", ("users", "messages")),
    ):
        full = build_from_document(get_static_doc(api, version), http=http)
        trimmed = build_from_document(discovery_document(api, version), http=http)
        for name in path:
            full, trimmed = getattr(full, name)(), getattr(trimmed, name)()
        methods = {m for m in dir(full) if not m.startswith("_")}
        assert methods == {m for m in dir(trimmed) if not m.startswith("_")}
        assert {"list", "get"} <= methods


def test_the_document_is_read_once_per_process() -> None:
    assert discovery_document("gmail", "v1") is discovery_document("gmail", "v1")
