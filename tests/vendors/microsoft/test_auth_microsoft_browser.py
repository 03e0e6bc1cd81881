"""`aligner auth microsoft --browser`: MSAL's loopback authorization-code flow (PKCE), with the
test playing the browser: it reads the printed sign-in URL and posts the answer to the loopback
redirect as Microsoft Entra's form_post does."""

from __future__ import annotations

import json
import stat
import urllib.request
import webbrowser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.cli.test_auth_google import Interactive
from tests.vendors.microsoft.conftest import HOST, USERNAME, Entra


@pytest.fixture
def no_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    """No browser on this machine: MSAL hands aligner the URL to show instead."""

    def refuse(*args: object, **kwargs: object) -> bool:
        return False

    def none(*args: object, **kwargs: object) -> object:
        raise webbrowser.Error("no browser")

    monkeypatch.setattr(webbrowser, "open", refuse)
    monkeypatch.setattr(webbrowser, "get", none)


def test_browser_sign_in_through_the_loopback_redirect(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    ms_env: dict[str, str],
    ms_theme: Path,
    entra: Entra,
    cache_path: Path,
    no_browser: None,
) -> None:
    for name, value in ms_env.items():
        monkeypatch.setenv(name, value)

    with Interactive(capsys, "auth", "microsoft", "--browser") as flow:
        url = flow.url(f"{HOST}/organizations/oauth2/v2.0/authorize")
        asked = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        entra.nonce = asked["nonce"]
        form = urlencode({"code": "0.AXEA-authorization-code", "state": asked["state"]})
        request = urllib.request.Request(asked["redirect_uri"], data=form.encode(), method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
        code = flow.finish()

    assert code == 0, (flow.out, flow.err)
    assert asked["redirect_uri"].startswith("http://localhost:")
    assert asked["response_mode"] == "form_post" and asked["code_challenge_method"] == "S256"
    assert asked["prompt"] == "select_account"
    assert set(asked["scope"].split()) >= {"Presence.ReadWrite", "Calendars.ReadWrite"}
    redeemed = entra.grants[-1]
    assert redeemed["grant_type"] == ["authorization_code"]
    assert redeemed["code"] == ["0.AXEA-authorization-code"] and "code_verifier" in redeemed
    assert f"Signed in to Microsoft 365 as {USERNAME}" in flow.out
    for token in entra.issued:
        assert token not in flow.out + flow.err
    assert stat.S_IMODE(cache_path.stat().st_mode) == 0o600
    assert entra.issued[1] in json.loads(cache_path.read_text())["cache"]
