"""Gmail signature end to end: the real CLI and google-api-python-client against the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aligner.sandbox.google.common import EMAIL
from aligner.sandbox.google.gmail.settings import SEEDED_ALIAS, GmailSettingsService, gmail_rewrite
from aligner.sandbox.server import Sandbox
from aligner.surfaces.signature.html import find_theme_block, html_to_text, marker_class
from tests.conftest import AFTER, BEFORE, DURING, Aligner, write_theme

THEME_LINE = "Optimizing inference pipelines · p50 latency 28 ms → 19 ms (−32%)"
NO_SLACK = "\n[slack]\nenabled = false\n"


def signature_section(
    html: str = "<div>{{ theme.name }} · {{ metrics.latency.label }} "
    "{{ metrics.latency | change }}</div>",
    **options: str,
) -> str:
    lines = [NO_SLACK, "[signature]", "enabled = true"]
    lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in options.items()]
    lines.append(f"html = {json.dumps(html, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def gmail(sandbox: Sandbox) -> GmailSettingsService:
    service: GmailSettingsService = sandbox.service("gmail.settings")
    return service


@pytest.fixture
def original(gmail: GmailSettingsService) -> str:
    return gmail.signature(EMAIL)


@pytest.fixture
def signature(env: dict[str, str], tmp_path: Path, sandbox: Sandbox) -> Aligner:
    return Aligner(env, write_theme(tmp_path / "theme.toml", signature_section()), sandbox)


def with_theme(env: dict[str, str], tmp_path: Path, sandbox: Sandbox, section: str) -> Aligner:
    return Aligner(env, write_theme(tmp_path / "theme.toml", section), sandbox)


def patches(sandbox: Sandbox) -> int:
    return len(sandbox.requests("gmail.settings", writes=True))


def test_during_the_window_the_signature_carries_the_theme(
    signature: Aligner, gmail: GmailSettingsService, original: str
) -> None:
    result = signature("apply", now=DURING)
    assert result.exit_code == 0, result.output
    shown = gmail.signature(EMAIL)
    assert html_to_text(shown).splitlines() == [*html_to_text(original).splitlines(), THEME_LINE]
    assert find_theme_block(shown) is not None


def test_before_the_window_nothing_is_written(
    signature: Aligner, sandbox: Sandbox, original: str, gmail: GmailSettingsService
) -> None:
    assert signature("apply", now=BEFORE).exit_code == 0
    assert patches(sandbox) == 0
    assert gmail.signature(EMAIL) == original


def test_after_the_window_the_original_comes_back_byte_for_byte(
    signature: Aligner, sandbox: Sandbox, gmail: GmailSettingsService, original: str
) -> None:
    signature("apply", now=DURING)
    result = signature("apply", now=AFTER)
    assert result.exit_code == 0, result.output
    assert "restore" in result.output
    assert gmail.signature(EMAIL) == original
    sandbox.clear_log()
    assert signature("apply", now=AFTER).exit_code == 0
    assert patches(sandbox) == 0


def test_revert_restores_the_original_now(
    signature: Aligner, sandbox: Sandbox, gmail: GmailSettingsService, original: str
) -> None:
    signature("apply", now=DURING)
    assert signature("revert", now=DURING).exit_code == 0
    assert gmail.signature(EMAIL) == original
    sandbox.clear_log()
    signature("apply", now=DURING)
    assert patches(sandbox) == 0


def test_a_signature_edited_during_the_window_survives_and_is_reported(
    signature: Aligner, sandbox: Sandbox, gmail: GmailSettingsService
) -> None:
    signature("apply", now=DURING)
    gmail.set_signature(EMAIL, "<div>Alex Doe</div><div>Principal Engineer</div>")
    edited = gmail.signature(EMAIL)
    sandbox.clear_log()
    during = signature("apply", now=DURING)
    assert during.exit_code == 0
    assert "conflict" in during.output and "changed by hand" in during.output
    notice = json.loads(signature("plan", "--json", now=DURING).stdout)["notices"][0]
    assert notice["action"] == "conflict" and notice["after"] == edited
    assert isinstance(notice["before"], str)  # what aligner had set, as Gmail stored it
    after = signature("apply", now=AFTER)
    assert after.exit_code == 0
    assert "changed by hand" in after.output
    assert patches(sandbox) == 0
    assert gmail.signature(EMAIL) == edited


def test_gmail_rewriting_the_html_causes_no_endless_rewrites(
    signature: Aligner, sandbox: Sandbox, gmail: GmailSettingsService
) -> None:
    signature("apply", now=DURING)
    sent = json.loads(sandbox.requests("gmail.settings", "gmail.sendAs.patch")[0].body)
    assert gmail.signature(EMAIL) != sent["signature"]  # Gmail stored its own rewrite
    sandbox.clear_log()
    second = signature("apply", now=DURING)
    assert second.exit_code == 0
    assert "nothing to do" in second.output
    assert patches(sandbox) == 0
    assert [r.operation for r in sandbox.requests()] == ["gmail.sendAs.list"]
    assert signature("plan", "--detailed-exitcode", now=DURING).exit_code == 0


def test_the_theme_block_is_never_stacked_even_without_state(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox, gmail: GmailSettingsService
) -> None:
    first = with_theme(env, tmp_path, sandbox, signature_section())
    first("apply", now=DURING)
    fresh = Aligner({**env, "ALIGNER_STATE_DIR": str(tmp_path / "other")}, first.config, sandbox)
    assert fresh("apply", now=DURING).exit_code == 0
    assert html_to_text(gmail.signature(EMAIL)).count(THEME_LINE) == 1
    assert fresh("apply", now=AFTER).exit_code == 0
    assert THEME_LINE not in html_to_text(gmail.signature(EMAIL))


def test_editing_the_theme_during_the_window_updates_once(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox, gmail: GmailSettingsService
) -> None:
    with_theme(env, tmp_path, sandbox, signature_section())("apply", now=DURING)
    edited = with_theme(env, tmp_path, sandbox, signature_section("<div>{{ theme.name }}</div>"))
    sandbox.clear_log()
    result = edited("apply", now=DURING)
    assert result.exit_code == 0, result.output
    assert "update" in result.output
    assert patches(sandbox) == 1
    assert html_to_text(gmail.signature(EMAIL)).splitlines()[-1] == (
        "Optimizing inference pipelines"
    )
    sandbox.clear_log()
    edited("apply", now=DURING)
    assert patches(sandbox) == 0


def test_replace_mode_may_use_the_original(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox, gmail: GmailSettingsService
) -> None:
    original = gmail.signature(EMAIL)
    section = signature_section("<div>{{ theme.name }}</div>{{ original }}", mode="replace")
    run = with_theme(env, tmp_path, sandbox, section)
    assert run("apply", now=DURING).exit_code == 0
    lines = html_to_text(gmail.signature(EMAIL)).splitlines()
    assert lines == ["Optimizing inference pipelines", *html_to_text(original).splitlines()]
    sandbox.clear_log()
    run("apply", now=DURING)
    assert patches(sandbox) == 0
    run("apply", now=AFTER)
    assert gmail.signature(EMAIL) == original


def test_plan_shows_a_text_diff_and_the_html(signature: Aligner, sandbox: Sandbox) -> None:
    result = signature("plan", now=DURING)
    assert result.exit_code == 0, result.output
    assert "Gmail signature" in result.stdout
    assert f"+ {THEME_LINE}" in result.stdout
    assert "    Alex Doe" in result.stdout
    assert 'html: <div dir="ltr">' in result.stdout
    assert f'class="{marker_class("inference")}"' in result.stdout
    assert patches(sandbox) == 0


def test_a_send_as_address_that_does_not_exist_is_a_clear_error(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    run = with_theme(env, tmp_path, sandbox, signature_section(send_as="nobody@example.com"))
    result = run("apply", now=DURING)
    assert result.exit_code == 1
    assert "nobody@example.com" in result.output
    assert "not a send-as address" in result.output
    assert "Traceback" not in result.output
    assert patches(sandbox) == 0


def test_send_as_is_matched_case_insensitively(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox, gmail: GmailSettingsService
) -> None:
    run = with_theme(env, tmp_path, sandbox, signature_section(send_as=EMAIL.upper()))
    assert run("apply", now=DURING).exit_code == 0
    assert THEME_LINE in html_to_text(gmail.signature(EMAIL))


def test_an_alias_gmail_will_not_let_apps_change_is_explained(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    run = with_theme(env, tmp_path, sandbox, signature_section(send_as=SEEDED_ALIAS))
    result = run("apply", now=DURING)
    assert result.exit_code == 1
    assert SEEDED_ALIAS in result.output and "primary" in result.output


def test_a_signature_too_long_with_the_original_is_refused_before_writing(
    signature: Aligner, sandbox: Sandbox, gmail: GmailSettingsService
) -> None:
    gmail.set_signature(EMAIL, "<div>" + "x" * 9_950 + "</div>")
    result = signature("apply", now=DURING)
    assert result.exit_code == 1
    assert "10,000" in result.output and "shorten" in result.output
    assert patches(sandbox) == 0


def test_validate_refuses_an_oversized_signature(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    run = with_theme(env, tmp_path, sandbox, signature_section("<div>" + "y" * 10_001 + "</div>"))
    result = run("validate")
    assert result.exit_code == 2
    assert "signature.html:" in result.stderr and "10,000" in result.stderr


@pytest.mark.parametrize(
    "html", ["<div>{{ interview.company }} prep</div>", "<div>Interview ready</div>"]
)
def test_validate_refuses_a_signature_that_gives_the_interview_away(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox, html: str
) -> None:
    result = with_theme(env, tmp_path, sandbox, signature_section(html))("validate")
    assert result.exit_code == 2
    assert "signature.html:" in result.stderr and "mentions" in result.stderr


def test_discretion_warn_lets_it_through(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    path = tmp_path / "theme.toml"
    write_theme(path, signature_section("<div>Interview ready</div>"))
    path.write_text(
        path.read_text().replace('id = "inference"', 'id = "inference"\ndiscretion = "warn"')
    )
    result = Aligner(env, path, sandbox)("validate")
    assert result.exit_code == 0
    assert "warning: signature.html" in result.stderr


def test_the_rendered_html_is_sanitised(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox, gmail: GmailSettingsService
) -> None:
    html = '<div onclick="x()">\ufeff{{ theme.name }}\x07<script>alert(1)</script></div>'
    run = with_theme(env, tmp_path, sandbox, signature_section(html))
    assert run("apply", now=DURING).exit_code == 0
    sent = json.loads(sandbox.requests("gmail.settings", "gmail.sendAs.patch")[0].body)
    for bad in ("onclick", "<script", "\ufeff", "\x07"):
        assert bad not in sent["signature"]


def test_server_errors_and_rate_limits_are_retried(
    signature: Aligner, sandbox: Sandbox, gmail: GmailSettingsService
) -> None:
    sandbox.inject("gmail.sendAs.list", "status", status=503)
    sandbox.inject("gmail.sendAs.patch", "status", status=429, retry_after=0)
    result = signature("apply", now=DURING)
    assert result.exit_code == 0, result.output
    assert [r.status for r in sandbox.requests("gmail.settings", "gmail.sendAs.patch")] == [
        429,
        200,
    ]
    assert THEME_LINE in html_to_text(gmail.signature(EMAIL))


def test_a_dropped_connection_after_the_write_converges(
    signature: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("gmail.sendAs.patch", "drop")
    assert signature("apply", now=DURING).exit_code == 0
    sandbox.clear_log()
    assert signature("apply", now=DURING).exit_code == 0
    assert patches(sandbox) == 0


def test_a_token_without_the_settings_scope_fails_fast_naming_it(
    signature: Aligner, sandbox: Sandbox
) -> None:
    sandbox.service("oauth").accounts.grant(
        "ya29.readonly", "https://www.googleapis.com/auth/gmail.readonly"
    )
    result = signature("apply", now=DURING, ALIGNER_GOOGLE_ACCESS_TOKEN="ya29.readonly")
    assert result.exit_code == 1
    assert "gmail.settings.basic" in result.output
    assert [r.status for r in sandbox.requests("gmail.settings", "gmail.sendAs.patch")] == [403]


def test_missing_google_credentials_is_a_clear_failure(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    env = {k: v for k, v in env.items() if k != "ALIGNER_GOOGLE_ACCESS_TOKEN"}
    result = with_theme(env, tmp_path, sandbox, signature_section())("apply", now=DURING)
    assert result.exit_code == 1
    assert "ALIGNER_GOOGLE_ACCESS_TOKEN" in result.output


def test_disabling_the_surface_mid_window_gives_the_original_back(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox, gmail: GmailSettingsService
) -> None:
    original = gmail.signature(EMAIL)
    with_theme(env, tmp_path, sandbox, signature_section())("apply", now=DURING)
    disabled = signature_section().replace("enabled = true", "enabled = false")
    assert with_theme(env, tmp_path, sandbox, disabled)("apply", now=DURING).exit_code == 0
    assert gmail.signature(EMAIL) == original


def test_an_original_gmail_would_rewrite_comes_back_as_gmail_stores_it(
    signature: Aligner, gmail: GmailSettingsService
) -> None:
    gmail.send_as[EMAIL]["signature"] = "Alex<br/>Doe"  # stored by some older client as-is
    signature("apply", now=DURING)
    signature("apply", now=AFTER)
    assert gmail.signature(EMAIL) == gmail_rewrite("Alex<br/>Doe")


def test_a_first_write_that_failed_is_retried_not_reported_as_an_edit(
    signature: Aligner, sandbox: Sandbox, gmail: GmailSettingsService, original: str
) -> None:
    sandbox.inject("gmail.sendAs.patch", "status", status=400)
    failed = signature("apply", now=DURING)
    assert failed.exit_code == 1
    assert gmail.signature(EMAIL) == original
    retried = signature("apply", now=DURING)
    assert retried.exit_code == 0, retried.output
    assert "conflict" not in retried.output
    assert THEME_LINE in html_to_text(gmail.signature(EMAIL))
    signature("apply", now=AFTER)
    assert gmail.signature(EMAIL) == original


def test_an_edit_after_a_failed_first_write_is_themed_and_given_back(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    gmail: GmailSettingsService = sandbox.service("gmail.settings")
    aligner = Aligner(env, write_theme(tmp_path / "theme.toml", signature_section()), sandbox)
    sandbox.inject("gmail.sendAs.patch", "status", status=400)
    assert aligner("apply", now=DURING).exit_code == 1
    gmail.set_signature(EMAIL, "<div>Alex Kim, Principal Engineer</div>")
    edited = gmail.signature(EMAIL)
    assert aligner("apply", now=DURING).exit_code == 0
    assert "Principal Engineer" in html_to_text(gmail.signature(EMAIL))
    assert aligner("apply", now=AFTER).exit_code == 0
    assert gmail.signature(EMAIL) == edited
