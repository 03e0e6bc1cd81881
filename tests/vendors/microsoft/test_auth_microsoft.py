"""`aligner auth microsoft` end to end: the real MSAL code against Microsoft Entra as
`responses` plays it, the token cache it leaves (0600), and token.py re-using that cache."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import requests

from aligner.errors import AuthError, TransientError
from aligner.state.settings import Settings
from aligner.vendors.microsoft.scopes import CALENDARS, MAIL_SEND, PRESENCE
from aligner.vendors.microsoft.settings import MicrosoftSettings
from aligner.vendors.microsoft.token import cached_token, graph_for
from tests.vendors.microsoft.conftest import (
    CLIENT_ID,
    PERSONAL_TENANT,
    USERNAME,
    Entra,
    Run,
    probe_theme,
)

REVOKED = {
    "error": "invalid_grant",
    "error_description": "AADSTS700082: The refresh token has expired due to inactivity.\r\n"
    "Trace ID: 0f3a\r\nCorrelation ID: 9d1c\r\nTimestamp: 2026-12-02 08:00:00Z",
    "error_codes": [700082],
}


def microsoft_settings(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> MicrosoftSettings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings().part(MicrosoftSettings)


def test_device_code_sign_in_stores_a_private_cache_and_prints_no_token(
    run: Run, entra: Entra, cache_path: Path
) -> None:
    entra.pending = 2  # the person takes a moment to type the code

    result = run("auth", "microsoft")

    assert result.exit_code == 0, result.output
    assert "enter the code FGHJ4K7LM" in result.stdout
    assert f"Signed in to Microsoft 365 as {USERNAME}" in result.stdout
    assert "Presence.ReadWrite" in result.stdout and "Calendars.ReadWrite" in result.stdout
    for token in entra.issued:
        assert token not in result.output
    # only what the enabled surfaces need (MSAL adds the reserved scopes itself)
    asked = entra.device_requests[0]["scope"][0].split()
    assert sorted(asked) == sorted([CALENDARS, PRESENCE, "offline_access", "openid", "profile"])
    assert entra.device_requests[0]["client_id"] == [CLIENT_ID]
    assert entra.grant_types() == ["device_code"] * 3  # two pending polls, then the tokens
    assert stat.S_IMODE(cache_path.stat().st_mode) == 0o600
    saved = json.loads(cache_path.read_text())
    assert saved["client_id"] == CLIENT_ID
    assert saved["authority"] == "https://login.microsoftonline.com/organizations"
    assert entra.issued[1] in saved["cache"]  # the refresh token is in MSAL's cache


def test_tenant_and_client_id_options_win_over_settings(
    run: Run, entra: Entra, cache_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entra.tenant = "contoso.onmicrosoft.com"
    entra.install()

    result = run(
        "auth", "microsoft", "--tenant", "contoso.onmicrosoft.com", "--client-id", "other-app"
    )

    assert result.exit_code == 0, result.output
    assert entra.device_requests[-1]["client_id"] == ["other-app"]
    saved = json.loads(cache_path.read_text())
    assert saved["client_id"] == "other-app"
    assert saved["authority"].endswith("/contoso.onmicrosoft.com")


def test_missing_client_id_is_one_line_and_exit_2(run: Run, entra: Entra) -> None:
    result = run("auth", "microsoft", ALIGNER_MICROSOFT_CLIENT_ID="")

    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "ALIGNER_MICROSOFT_CLIENT_ID" in lines[0], result.stderr
    assert "--client-id" in lines[0]
    assert entra.device_requests == []  # nothing was asked of Microsoft


def test_no_enabled_microsoft_surface_is_refused_before_sign_in(
    run: Run, entra: Entra, tmp_path: Path
) -> None:
    (tmp_path / "theme.toml").write_text(
        (tmp_path / "theme.toml").read_text().replace("enabled = true", "enabled = false")
    )

    result = run("auth", "microsoft")

    assert result.exit_code == 2
    said = " ".join(result.stderr.split())
    assert "no Microsoft 365 surface is enabled in the theme; set" in said
    for setting in (
        '`[calendar] provider = "microsoft"`',  # the key that moves a surface to Microsoft
        '`[note] provider = "outlook"`',
        "`[teams] enabled = true`",
    ):
        assert setting in said
    assert entra.device_requests == []


def test_a_permission_microsoft_did_not_grant_fails_the_sign_in(
    run: Run, entra: Entra, cache_path: Path
) -> None:
    entra.granted = [PRESENCE]  # the tenant withheld Calendars.ReadWrite (no admin consent)

    result = run("auth", "microsoft")

    assert result.exit_code == 1
    assert "did not grant Calendars.ReadWrite" in result.stderr
    assert "an administrator may have to consent" in result.stderr
    assert cache_path.is_file()  # what was granted is kept


def test_a_personal_account_is_told_presence_needs_work_or_school(run: Run, entra: Entra) -> None:
    entra.home_tenant = PERSONAL_TENANT
    entra.username = "alex@outlook.com"

    result = run("auth", "microsoft")

    assert result.exit_code == 1
    assert "alex@outlook.com is a personal Microsoft account" in result.stderr
    assert "needs a work or school account" in result.stderr


def test_a_personal_account_is_fine_without_presence(
    run: Run, entra: Entra, tmp_path: Path
) -> None:
    probe_theme(tmp_path / "theme.toml", [CALENDARS, MAIL_SEND])
    entra.home_tenant = PERSONAL_TENANT

    result = run("auth", "microsoft")

    assert result.exit_code == 0, result.output
    assert "personal Microsoft account" in result.stdout


def test_a_refused_device_code_sign_in_is_one_line(run: Run, entra: Entra) -> None:
    entra.mock.replace(
        "POST",
        f"{entra.base}/oauth2/v2.0/token",
        status=400,
        json={
            "error": "authorization_declined",
            "error_description": "AADSTS70000: The user declined the sign-in.\r\nTrace ID: 1",
        },
    )

    result = run("auth", "microsoft")

    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: Microsoft sign-in failed: authorization_declined: AADSTS70000: "
        "The user declined the sign-in."
    )


# -- token.py re-uses the cache --------------------------------------------------------------------


def test_the_cache_serves_graph_and_a_refresh_is_written_back(
    run: Run,
    entra: Entra,
    cache_path: Path,
    ms_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entra.expires_in = 60  # within MSAL's 5-minute margin: the next use refreshes
    assert run("auth", "microsoft").exit_code == 0
    before = cache_path.read_text()
    settings = microsoft_settings(ms_env, monkeypatch)

    token = cached_token(settings, [PRESENCE], "probe")

    assert entra.grant_types() == ["device_code", "refresh_token"]
    refresh = entra.grants[-1]
    assert refresh["refresh_token"] == [entra.issued[1]]  # the one the sign-in stored
    assert token == entra.issued[3]  # a new access token
    after = cache_path.read_text()
    assert after != before and entra.issued[4] in after  # the new refresh token kept
    assert stat.S_IMODE(cache_path.stat().st_mode) == 0o600


def test_a_fresh_cached_token_needs_no_call(
    run: Run, entra: Entra, ms_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("auth", "microsoft").exit_code == 0
    settings = microsoft_settings(ms_env, monkeypatch)

    assert cached_token(settings, [PRESENCE, CALENDARS], "probe") == entra.issued[0]
    assert entra.grant_types() == ["device_code"]


def test_a_revoked_refresh_token_says_sign_in_again(
    run: Run, entra: Entra, ms_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    entra.expires_in = 60
    assert run("auth", "microsoft").exit_code == 0
    entra.refuse_refresh = REVOKED
    settings = microsoft_settings(ms_env, monkeypatch)
    graph = graph_for(settings, [PRESENCE], "probe")

    with pytest.raises(AuthError) as caught:
        graph.get("me/presence")

    assert str(caught.value) == (
        "Microsoft sign-in needs renewing (invalid_grant: AADSTS700082: The refresh token has "
        "expired due to inactivity.): run `aligner auth microsoft`"
    )
    assert graph.calls == 0  # Graph was never called without a token


def test_a_graph_client_that_makes_no_call_never_signs_in(
    run: Run, entra: Entra, ms_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    entra.expires_in = 60
    assert run("auth", "microsoft").exit_code == 0
    settings = microsoft_settings(ms_env, monkeypatch)

    graph_for(settings, [PRESENCE], "probe").close()

    assert entra.grant_types() == ["device_code"]  # no refresh


def test_a_permission_the_cache_lacks_is_named(
    run: Run, entra: Entra, ms_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    entra.expires_in = 60
    assert run("auth", "microsoft").exit_code == 0
    entra.refuse_refresh = {
        "error": "invalid_grant",
        "error_description": "AADSTS65001: The user or administrator has not consented.",
    }
    settings = microsoft_settings(ms_env, monkeypatch)

    with pytest.raises(AuthError, match=r"it does not cover Mail\.Send\): run `aligner auth"):
        cached_token(settings, [PRESENCE, MAIL_SEND], "probe")


def test_no_sign_in_at_all_is_one_line(
    ms_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = microsoft_settings(ms_env, monkeypatch)

    with pytest.raises(AuthError, match=r"^no Microsoft credentials: run `aligner auth microsoft`"):
        graph_for(settings, [PRESENCE], "probe")


def test_a_cache_others_can_read_is_refused(
    run: Run,
    entra: Entra,
    cache_path: Path,
    ms_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run("auth", "microsoft").exit_code == 0
    cache_path.chmod(0o644)
    settings = microsoft_settings(ms_env, monkeypatch)

    with pytest.raises(AuthError, match=r"permissions 0644 .* are too open"):
        cached_token(settings, [PRESENCE], "probe")


def test_every_token_in_the_cache_is_scrubbed_from_output(
    run: Run, entra: Entra, ms_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("auth", "microsoft").exit_code == 0
    settings = microsoft_settings(ms_env, monkeypatch)

    secrets = settings.secret_values()

    assert set(entra.issued) <= set(secrets)  # access, refresh and id token
    assert CLIENT_ID not in secrets  # an app id is not a secret


def test_an_unknown_tenant_is_one_line_and_exit_2(run: Run, entra: Entra) -> None:
    entra.mock.add(
        "GET",
        "https://login.microsoftonline.com/no-such-tenant.example/v2.0/.well-known/openid-configuration",
        status=400,
        json={"error": "invalid_tenant", "error_description": "AADSTS90002: Tenant not found."},
    )

    result = run("auth", "microsoft", "--tenant", "no-such-tenant.example")

    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Microsoft Entra does not know the tenant of https://login.microsoftonline.com/"
        "no-such-tenant.example: check --tenant or ALIGNER_MICROSOFT_TENANT (organizations, "
        "common, consumers, or your tenant's domain or id)"
    )


def test_an_unreachable_sign_in_service_is_one_line_and_exit_1(run: Run, entra: Entra) -> None:
    entra.mock.replace(
        "GET",
        f"{entra.base}/v2.0/.well-known/openid-configuration",
        body=requests.ConnectionError("network is unreachable"),
    )

    result = run("auth", "microsoft")

    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: cannot reach Microsoft sign-in at https://login.microsoftonline.com/organizations "
        "(ConnectionError)"
    )


def test_a_renewal_that_cannot_reach_microsoft_is_transient(
    run: Run, entra: Entra, ms_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    entra.expires_in = 60
    assert run("auth", "microsoft").exit_code == 0
    entra.mock.replace(
        "POST", f"{entra.base}/oauth2/v2.0/token", body=requests.ConnectionError("reset")
    )
    settings = microsoft_settings(ms_env, monkeypatch)

    with pytest.raises(TransientError) as caught:
        cached_token(settings, [PRESENCE], "probe")

    assert caught.value.surface == "probe"
    assert (
        str(caught.value) == "cannot reach Microsoft sign-in to renew the token (ConnectionError)"
    )


def test_auth_lists_microsoft_with_its_options(run: Run) -> None:
    listed = run("auth", "--help")
    assert listed.exit_code == 0 and "microsoft" in listed.stdout

    result = run("auth", "microsoft", "--help")

    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for option in ("--client-id", "--tenant", "--browser", "--port"):
        assert option in text
    assert "device code" in text


def test_a_portal_answering_instead_of_entra_is_one_line(run: Run, entra: Entra) -> None:
    entra.mock.replace(
        "POST",
        f"{entra.base}/oauth2/v2.0/devicecode",
        body="<html>Please accept the hotel's terms</html>",
        content_type="text/html",
    )

    result = run("auth", "microsoft")

    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: Microsoft sign-in at https://login.microsoftonline.com/organizations answered "
        "something that is not Entra's JSON; try again"
    )
