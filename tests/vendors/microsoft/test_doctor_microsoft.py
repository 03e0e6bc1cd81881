"""`aligner doctor` for the Microsoft account: the sign-in, whether it still works, the
permissions the enabled surfaces need, the account kind, and Outlook signatures."""

from __future__ import annotations

import json
import time
from pathlib import Path

from aligner.vendors.microsoft.scopes import CALENDARS, MAIL_SEND, PRESENCE
from tests.conftest import DURING
from tests.vendors.microsoft.conftest import (
    PERSONAL_TENANT,
    PROBE,
    USERNAME,
    Entra,
    Run,
    jwt,
    probe_theme,
)
from tests.vendors.microsoft.test_auth_microsoft import REVOKED

SIGNATURES = (
    "? microsoft.signatures: Outlook signatures cannot be themed: Microsoft Graph has no API "
    "for them"
)
DURING_EPOCH = 1796241600  # 2026-12-02T20:00:00Z


def lines(text: str) -> dict[str, str]:
    """doctor's lines by check name (the folds of a piped terminal undone)."""
    found: dict[str, str] = {}
    name = ""
    for line in text.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[0] in "✓✗!?" and parts[1].endswith(":"):
            name = parts[1].rstrip(":")
            found[name] = line
        elif name:
            found[name] += " " + line.strip()
    return found


def test_doctor_after_sign_in_checks_the_refresh_and_the_grant(run: Run, entra: Entra) -> None:
    assert run("auth", "microsoft").exit_code == 0

    result = run("doctor")

    assert result.exit_code == 0, result.output
    found = lines(result.stdout)
    assert found["microsoft.credentials"].startswith("✓ microsoft.credentials: token cache ")
    assert found["microsoft.works"] == (
        f"✓ microsoft.works: signed in as {USERNAME}; the refresh token works"
    )
    assert found["microsoft.scopes"] == (f"✓ microsoft.scopes: grant has {PRESENCE}, {CALENDARS}")
    assert found["microsoft.signatures"].startswith(SIGNATURES)
    assert "microsoft.account" not in found  # a work account: nothing to say
    assert entra.grant_types() == ["device_code", "refresh_token"]  # one call proves it
    for token in entra.issued:
        assert token not in result.output


def test_doctor_names_a_permission_the_sign_in_lacks(
    run: Run, entra: Entra, tmp_path: Path
) -> None:
    assert run("auth", "microsoft").exit_code == 0
    probe_theme(tmp_path / "theme.toml", [PRESENCE, CALENDARS, MAIL_SEND])  # a new surface

    result = run("doctor", "--json")

    assert result.exit_code == 1
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["microsoft.works"]["status"] == "ok"
    scopes = checks["microsoft.scopes"]
    assert scopes["status"] == "fail"
    assert scopes["detail"] == f"the Microsoft sign-in lacks {MAIL_SEND} (for the {PROBE})"
    assert scopes["remedy"].endswith("then run `aligner auth microsoft`")
    # the refresh asked only for what the grant holds, so it could succeed
    refresh = entra.grants[-1]["scope"][0].split()
    assert MAIL_SEND not in refresh and PRESENCE in refresh


def test_doctor_says_when_the_sign_in_was_revoked(run: Run, entra: Entra) -> None:
    assert run("auth", "microsoft").exit_code == 0
    entra.refuse_refresh = REVOKED

    result = run("doctor")

    assert result.exit_code == 1
    found = lines(result.stdout)
    assert found["microsoft.works"] == (
        "✗ microsoft.works: Microsoft sign-in needs renewing (invalid_grant: AADSTS700082: The "
        "refresh token has expired due to inactivity.): run `aligner auth microsoft`"
    )
    assert "microsoft.scopes" not in found


def test_doctor_without_any_sign_in(run: Run) -> None:
    result = run("doctor")

    assert result.exit_code == 1
    found = lines(result.stdout)
    assert found["microsoft.credentials"] == (
        "✗ microsoft.credentials: no Microsoft sign-in — run `aligner auth microsoft` (or set "
        "ALIGNER_MICROSOFT_ACCESS_TOKEN)"
    )
    assert found["microsoft.signatures"].startswith(SIGNATURES)


def test_doctor_calls_out_a_personal_account_when_presence_is_needed(
    run: Run, entra: Entra, tmp_path: Path
) -> None:
    probe_theme(tmp_path / "theme.toml", [CALENDARS])
    entra.home_tenant, entra.username = PERSONAL_TENANT, "alex@outlook.com"
    assert run("auth", "microsoft").exit_code == 0
    probe_theme(tmp_path / "theme.toml", [PRESENCE, CALENDARS])

    found = lines(run("doctor").stdout)

    assert found["microsoft.account"] == (
        "✗ microsoft.account: alex@outlook.com is a personal Microsoft account: presence (the "
        "Teams status message) needs a work or school account; a personal Microsoft account has "
        "no Teams presence — sign in with a work or school account: run `aligner auth microsoft`"
    )


def test_doctor_reads_a_raw_tokens_claims(run: Run, tmp_path: Path) -> None:
    token = jwt(
        {
            "aud": "00000003-0000-0000-c000-000000000000",
            "tid": PERSONAL_TENANT,
            "upn": "alex@outlook.com",
            "scp": "Calendars.ReadWrite User.Read",
            "exp": DURING_EPOCH + 3600,  # long before the window ends
        }
    )

    result = run("doctor", ALIGNER_MICROSOFT_ACCESS_TOKEN=token, ALIGNER_NOW=DURING)

    assert result.exit_code == 1
    found = lines(result.stdout)
    assert found["microsoft.credentials"] == (
        "✓ microsoft.credentials: Microsoft Graph access token from $ALIGNER_MICROSOFT_ACCESS_TOKEN"
    )
    assert found["microsoft.works"].startswith(
        "! microsoft.works: the access token for alex@outlook.com expires at 2026-12-02 21:00Z, "
        "before the window ends"
    )
    assert found["microsoft.scopes"].startswith(
        f"✗ microsoft.scopes: the Microsoft sign-in lacks {PRESENCE} (for the {PROBE})"
    )
    assert found["microsoft.account"].startswith("✗ microsoft.account: alex@outlook.com is a")
    assert token not in result.output


def test_doctor_refuses_an_expired_raw_token(run: Run) -> None:
    token = jwt({"upn": USERNAME, "scp": "Presence.ReadWrite", "exp": int(time.time()) - 60})

    found = lines(run("doctor", ALIGNER_MICROSOFT_ACCESS_TOKEN=token).stdout)

    assert found["microsoft.works"].startswith("✗ microsoft.works: the access token expired at ")


def test_doctor_cannot_read_an_opaque_token_and_says_so(run: Run) -> None:
    result = run("doctor", ALIGNER_MICROSOFT_ACCESS_TOKEN="EwBwA8l6BAAU-opaque-token")

    assert result.exit_code == 0, result.output
    found = lines(result.stdout)
    assert found["microsoft.scopes"] == (
        "? microsoft.scopes: the access token is opaque: aligner cannot tell its permissions or "
        "expiry"
    )
