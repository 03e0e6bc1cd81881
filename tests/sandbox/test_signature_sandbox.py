"""The fake Gmail sendAs settings, driven by the real google-api-python-client."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from google.auth.exceptions import RefreshError
from googleapiclient.errors import HttpError

from aligner.sandbox.google.common import EMAIL, GOOGLE_TOKEN
from aligner.sandbox.google.gmail.settings import SEEDED_ALIAS, GmailSettingsService
from aligner.sandbox.http import Request
from aligner.sandbox.server import Sandbox
from aligner.vendors.google.client import build_service
from aligner.vendors.google.settings import GoogleSettings

SCOPE = "https://www.googleapis.com/auth/"
Client = Callable[..., Any]


@pytest.fixture
def gmail(sandbox: Sandbox) -> Iterator[Client]:
    """gmail(token=...) -> users().settings().sendAs() of a real client on the sandbox."""
    services: list[Any] = []

    def make(token: str = GOOGLE_TOKEN) -> Any:
        settings = GoogleSettings(google_access_token=token, google_api_root=sandbox.url)
        service = build_service(settings, "gmail", "v1", "signature")
        services.append(service)
        return service.users().settings().sendAs()

    yield make
    for service in services:
        service.close()


def error_of(call: Any) -> tuple[int, str, str]:
    with pytest.raises(HttpError) as caught:
        call.execute()
    body = json.loads(caught.value.content)["error"]
    return body["code"], body["errors"][0]["reason"], body["message"]


def grant(sandbox: Sandbox, token: str, *scopes: str) -> str:
    sandbox.service("oauth").accounts.grant(token, *scopes)
    return token


def test_list_names_the_primary_address_and_every_signature(gmail: Client) -> None:
    entries = gmail().list(userId="me").execute()["sendAs"]
    assert [(e["sendAsEmail"], e["isPrimary"]) for e in entries] == [
        (EMAIL, True),
        (SEEDED_ALIAS, False),
    ]
    assert "Alex Doe" in entries[0]["signature"]


def test_get_finds_an_address_and_404s_an_unknown_one(gmail: Client) -> None:
    assert gmail().get(userId="me", sendAsEmail=EMAIL).execute()["isPrimary"] is True
    code, reason, _ = error_of(gmail().get(userId="me", sendAsEmail="a+b@example.com"))
    assert (code, reason) == (404, "notFound")


def test_patch_stores_gmails_rewrite_and_returns_it(gmail: Client, sandbox: Sandbox) -> None:
    sent = "Alex<BR/>Doe"
    body = gmail().patch(userId="me", sendAsEmail=EMAIL, body={"signature": sent}).execute()
    assert body["signature"] == '<div dir="ltr">Alex<br>Doe</div>'
    assert sandbox.service("gmail.settings").signature(EMAIL) == body["signature"]
    assert body["displayName"] == "Alex Doe"  # patch leaves other fields alone


def test_update_replaces_the_writable_fields(gmail: Client) -> None:
    body = gmail().update(userId="me", sendAsEmail=EMAIL, body={"signature": "<b>x</b>"})
    result = body.execute()
    assert result["signature"] == '<div dir="ltr"><b>x</b></div>'
    assert result["displayName"] == ""
    assert result["isPrimary"] is True


def test_a_signature_over_10000_characters_is_refused(gmail: Client) -> None:
    call = gmail().patch(userId="me", sendAsEmail=EMAIL, body={"signature": "x" * 10_001})
    code, reason, message = error_of(call)
    assert (code, reason) == (400, "invalidArgument")
    assert "10000" in message


def test_only_the_primary_address_can_be_changed(gmail: Client) -> None:
    call = gmail().patch(userId="me", sendAsEmail=SEEDED_ALIAS, body={"signature": "x"})
    code, _, message = error_of(call)
    assert code == 403 and "service accounts" in message


@pytest.mark.parametrize(
    ("scope", "can_read", "can_write"),
    [
        (SCOPE + "gmail.settings.basic", True, True),
        (SCOPE + "gmail.settings.sharing", False, True),
        (SCOPE + "gmail.readonly", True, False),
        ("https://mail.google.com/", True, False),
        (SCOPE + "gmail.compose", False, False),
    ],
)
def test_scopes_per_method(
    gmail: Client, sandbox: Sandbox, scope: str, can_read: bool, can_write: bool
) -> None:
    client = gmail(grant(sandbox, "ya29.scoped", scope))
    calls = {
        "read": client.list(userId="me"),
        "write": client.patch(userId="me", sendAsEmail=EMAIL, body={"signature": "x"}),
    }
    for what, allowed in (("read", can_read), ("write", can_write)):
        if allowed:
            calls[what].execute()
        else:
            assert error_of(calls[what])[:2] == (403, "insufficientPermissions")


def test_an_unknown_token_is_401(gmail: Client, sandbox: Sandbox) -> None:
    with pytest.raises(RefreshError):  # a bare token cannot be refreshed after the 401
        gmail("ya29.unknown").list(userId="me").execute()
    assert [r.status for r in sandbox.requests("gmail.settings")] == [401]


def test_another_users_settings_are_refused(gmail: Client) -> None:
    code, reason, _ = error_of(gmail().list(userId="someone@example.org"))
    assert (code, reason) == (403, "forbidden")


def test_injected_faults_use_googles_error_envelope(gmail: Client, sandbox: Sandbox) -> None:
    sandbox.inject("gmail.sendAs.list", "status", status=503)
    assert error_of(gmail().list(userId="me"))[:2] == (503, "backendError")
    assert gmail().list(userId="me").execute()["sendAs"]


def test_paths_that_are_not_send_as_settings_are_left_to_other_services() -> None:
    service = GmailSettingsService()

    def route(method: str, path: str) -> Any:
        return service.route(Request(method, path, {}, {}, b""))

    assert route("GET", "/gmail/v1/users/me/drafts") is None
    assert route("POST", "/gmail/v1/users/me/messages/send") is None
    assert route("POST", "/gmail/v1/users/me/settings/sendAs") is None  # create: not emulated
    assert route("PATCH", "/gmail/v1/users/me/settings/sendAs/a%40b.c").operation == (
        "gmail.sendAs.patch"
    )
