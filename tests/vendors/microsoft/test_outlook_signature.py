"""Outlook signatures cannot be themed (Microsoft Graph has no API for them): `validate` says
so in one line naming `signature.provider`, instead of pretending."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SLACK_SECTION, Aligner, write_theme


def test_an_outlook_signature_is_refused_by_validate_with_the_reason(
    env: dict[str, str], tmp_path: Path
) -> None:
    theme = write_theme(
        tmp_path / "theme.toml",
        SLACK_SECTION,
        '\n[signature]\nenabled = true\nprovider = "outlook"\n',
    )

    result = Aligner(env, theme)("validate")

    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "signature.provider: Outlook signatures cannot be themed: Microsoft Graph has no API to "
        'read or write them; use provider = "gmail", or set enabled = false and change your '
        "Outlook signature by hand"
    )


def test_plan_refuses_it_too_before_any_call(
    env: dict[str, str], tmp_path: Path, aligner: Aligner
) -> None:
    theme = write_theme(
        tmp_path / "theme.toml", '\n[signature]\nenabled = true\nprovider = "outlook"\n'
    )
    aligner.config = theme

    result = aligner("plan")

    assert result.exit_code == 2
    assert "signature.provider: Outlook signatures cannot be themed" in result.stderr
    assert aligner.sandbox is not None and aligner.sandbox.requests() == []


def test_gmail_stays_the_default_and_may_be_named(env: dict[str, str], tmp_path: Path) -> None:
    for provider in ("", 'provider = "gmail"\n'):
        theme = write_theme(
            tmp_path / "theme.toml", SLACK_SECTION, f"\n[signature]\nenabled = true\n{provider}"
        )
        result = Aligner(env, theme)("validate")
        assert result.exit_code == 0, result.output


def test_an_unknown_provider_is_a_schema_error(env: dict[str, str], tmp_path: Path) -> None:
    theme = write_theme(
        tmp_path / "theme.toml",
        SLACK_SECTION,
        '\n[signature]\nenabled = true\nprovider = "yahoo"\n',
    )

    result = Aligner(env, theme)("validate")

    assert result.exit_code == 2
    assert "signature.provider" in result.stderr
