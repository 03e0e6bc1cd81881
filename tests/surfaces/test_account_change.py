"""Noticing that the account behind a surface changed (issue 12 §5).

aligner records who each surface acted as (Slack team/user from auth.test, the Google account's
primary send-as address, the GitHub viewer login) and compares it on every run that reads. A
different account while aligner still holds something there stops that surface with one line;
nothing is written and no snapshot is restored into the wrong account. `--adopt-account` starts
afresh for the new account.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aligner.core.accounts import ACCOUNTS
from aligner.sandbox.google.common import EMAIL
from aligner.sandbox.google.gmail.settings import GmailSettingsService
from aligner.sandbox.server import Sandbox
from aligner.sandbox.slack.service import SlackService
from aligner.state.store import Store
from tests.conftest import AFTER, DURING, USER_ID, Aligner, flat, write_theme
from tests.surfaces.github_status.helpers import github_theme
from tests.surfaces.signature.test_signature_surface import signature_section

OTHER_TOKEN = "xoxp-sandbox-other-user"
OTHER_USER = "U0OTHERUSR"
THEMED_TEXT = "Optimizing inference pipelines: 28 ms → 19 ms (−32%)"
ALEX_ORIGINAL = {
    "status_text": "Working from home",
    "status_emoji": ":house_with_garden:",
    "status_expiration": 0,
}
SAM_ORIGINAL = {"status_text": "On call", "status_emoji": ":bell:", "status_expiration": 0}
CHANGED_LINE = (
    "the account changed: aligner set what it holds here as Slack user U0ALIGNER in "
    "workspace T0ALIGNER, but the credentials now act as Slack user U0OTHERUSR in workspace "
    "T0ALIGNER; nothing was changed. To give it back, run `aligner revert` with the "
    "credentials of Slack user U0ALIGNER in workspace T0ALIGNER; to start afresh for Slack user "
    "U0OTHERUSR in workspace T0ALIGNER (aligner forgets what it held for the old account), run "
    "`aligner apply --adopt-account`"
)
CHANGED = "slack: " + CHANGED_LINE


def recorded_accounts(env: dict[str, str]) -> dict[str, object]:
    with Store(Path(env["ALIGNER_STATE_DIR"]) / "state.db", readonly=True) as store:
        return store.metas(ACCOUNTS)


@pytest.fixture
def slack(sandbox: Sandbox) -> SlackService:
    service: SlackService = sandbox.service("slack")
    service.add_user(OTHER_TOKEN, OTHER_USER, "sam")
    service.set_status(OTHER_USER, "On call", ":bell:")
    return service


def sets(sandbox: Sandbox) -> int:
    return len(sandbox.requests("slack", "users.profile.set"))


def test_the_slack_account_is_recorded_with_one_auth_test_and_not_asked_when_idle(
    aligner: Aligner, sandbox: Sandbox, env: dict[str, str]
) -> None:
    sandbox.clear_log()
    assert aligner("apply", now=DURING).exit_code == 0
    assert len(sandbox.requests("slack", "auth.test")) == 1
    assert recorded_accounts(env) == {"slack": "T0ALIGNER/U0ALIGNER"}
    sandbox.clear_log()
    assert aligner("apply", now=DURING).exit_code == 0  # nothing to do: one read, no auth.test
    assert [r.operation for r in sandbox.requests("slack")] == ["users.profile.get"]


def test_a_status_that_already_shows_the_theme_costs_one_read_once_the_account_is_known(
    aligner: Aligner, sandbox: Sandbox, env: dict[str, str], tmp_path: Path
) -> None:
    """aligner holds nothing (a fresh state folder) and the status already shows the theme: the
    first run asks the account alongside its read, and later runs read once, as any run with
    nothing to do."""
    assert aligner("apply", now=DURING).exit_code == 0
    fresh = Aligner({**env, "ALIGNER_STATE_DIR": str(tmp_path / "fresh")}, aligner.config, sandbox)
    sandbox.clear_log()
    first = fresh("apply", now=DURING)
    assert first.exit_code == 0 and "nothing to do" in flat(first.output).lower(), first.output
    assert sorted(r.operation for r in sandbox.requests("slack")) == [
        "auth.test",
        "users.profile.get",
    ]
    for _ in range(2):
        sandbox.clear_log()
        assert fresh("apply", now=DURING).exit_code == 0
        assert [r.operation for r in sandbox.requests("slack")] == ["users.profile.get"]


def test_a_slack_token_of_another_user_stops_the_surface_with_one_line(
    aligner: Aligner, sandbox: Sandbox, slack: SlackService
) -> None:
    assert aligner("apply", now=DURING).exit_code == 0
    sandbox.clear_log()

    during = aligner("apply", now=DURING, ALIGNER_SLACK_TOKEN=OTHER_TOKEN)

    assert during.exit_code == 1, during.output
    assert CHANGED in flat(during.output)
    assert "changed by hand" not in flat(during.output)  # not mistaken for a person's edit
    assert "Traceback" not in flat(during.output)
    assert sets(sandbox) == 0
    assert slack.status(OTHER_USER) == SAM_ORIGINAL

    after = aligner("apply", now=AFTER, ALIGNER_SLACK_TOKEN=OTHER_TOKEN)
    assert after.exit_code == 1
    assert CHANGED in flat(after.output)
    assert sets(sandbox) == 0  # alex's snapshot is never restored into sam's account
    assert slack.status(OTHER_USER) == SAM_ORIGINAL

    revert = aligner("revert", now=AFTER, ALIGNER_SLACK_TOKEN=OTHER_TOKEN)
    assert revert.exit_code == 1 and CHANGED in flat(revert.output)
    assert sets(sandbox) == 0

    back = aligner("revert", now=AFTER)  # with the old credentials
    assert back.exit_code == 0, back.output
    assert slack.status(USER_ID) == ALEX_ORIGINAL


def test_plan_previews_the_change_and_adopt_account_previews_starting_afresh(
    aligner: Aligner, sandbox: Sandbox, slack: SlackService
) -> None:
    assert aligner("apply", now=DURING).exit_code == 0
    sandbox.clear_log()
    plan = aligner("plan", now=DURING, ALIGNER_SLACK_TOKEN=OTHER_TOKEN)
    assert plan.exit_code == 1 and CHANGED_LINE in flat(plan.output)

    preview = aligner("plan", "--adopt-account", now=DURING, ALIGNER_SLACK_TOKEN=OTHER_TOKEN)

    assert preview.exit_code == 0, preview.output
    assert "now acting as Slack user U0OTHERUSR in workspace T0ALIGNER" in flat(preview.output)
    assert "“On call”" in flat(preview.output) and THEMED_TEXT in flat(preview.output)
    assert sets(sandbox) == 0


def test_adopt_account_starts_afresh_for_the_new_slack_user(
    aligner: Aligner, sandbox: Sandbox, slack: SlackService, env: dict[str, str]
) -> None:
    assert aligner("apply", now=DURING).exit_code == 0
    as_sam = {"ALIGNER_SLACK_TOKEN": OTHER_TOKEN}

    adopt = aligner("apply", "--adopt-account", now=DURING, **as_sam)

    assert adopt.exit_code == 0, adopt.output
    assert "now acting as Slack user U0OTHERUSR" in flat(adopt.output)
    assert slack.status(OTHER_USER)["status_text"] == THEMED_TEXT
    assert recorded_accounts(env) == {"slack": f"T0ALIGNER/{OTHER_USER}"}

    again = aligner("apply", now=DURING, **as_sam)  # no flag needed any more
    assert again.exit_code == 0, again.output
    after = aligner("apply", now=AFTER, **as_sam)
    assert after.exit_code == 0, after.output
    assert slack.status(OTHER_USER) == SAM_ORIGINAL  # sam's own original, not alex's
    assert slack.status(USER_ID)["status_text"] == ""  # alex's themed status expired on its own


def test_with_nothing_held_a_new_account_is_taken_on_without_asking(
    aligner: Aligner, sandbox: Sandbox, slack: SlackService, env: dict[str, str]
) -> None:
    assert aligner("apply", now=DURING).exit_code == 0
    assert aligner("apply", now=AFTER).exit_code == 0  # given back: nothing held any more
    slack.set_status(OTHER_USER, "On call", ":bell:")
    result = aligner("apply", now=DURING, ALIGNER_SLACK_TOKEN=OTHER_TOKEN)
    assert result.exit_code == 0, result.output
    assert slack.status(OTHER_USER)["status_text"] == THEMED_TEXT
    assert recorded_accounts(env) == {"slack": f"T0ALIGNER/{OTHER_USER}"}


# -- Google (the signature's primary send-as address) ----------------------------------------------

OTHER_EMAIL = "sam.other@example.com"
SAM_SIGNATURE = "<div>Sam · other account</div>"


def test_another_google_account_stops_the_signature_and_adopt_starts_afresh(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    signature = Aligner(env, write_theme(tmp_path / "theme.toml", signature_section()), sandbox)
    gmail: GmailSettingsService = sandbox.service("gmail.settings")
    assert signature("apply", now=DURING).exit_code == 0
    assert recorded_accounts(env) == {"signature": EMAIL.lower()}
    gmail.send_as.clear()  # the credentials now belong to another Google account
    gmail.add_send_as(OTHER_EMAIL, signature=SAM_SIGNATURE, primary=True)
    theirs = gmail.signature(OTHER_EMAIL)
    sandbox.clear_log()

    after = signature("apply", now=AFTER)

    assert after.exit_code == 1, after.output
    assert (
        f"signature: the account changed: aligner set what it holds here as Google account "
        f"{EMAIL.lower()}, but the credentials now act as Google account {OTHER_EMAIL}"
    ) in flat(after.output)
    assert sandbox.requests("gmail.settings", writes=True) == []
    assert gmail.signature(OTHER_EMAIL) == theirs  # no snapshot restored into it

    adopt = signature("apply", "--adopt-account", now=AFTER)
    assert adopt.exit_code == 0, adopt.output
    assert sandbox.requests("gmail.settings", writes=True) == []  # after the window: nothing
    assert recorded_accounts(env) == {"signature": OTHER_EMAIL}
    assert gmail.signature(OTHER_EMAIL) == theirs


# -- GitHub (the viewer login the read returns) ----------------------------------------------------


def test_another_github_user_stops_the_status(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    gh = Aligner(env, github_theme(tmp_path), sandbox)
    github = sandbox.service("github")
    github.add_token("ghp_sandboxSamClassicToken00000000000", "sam")
    assert gh("apply", now=DURING).exit_code == 0
    assert recorded_accounts(env) == {"github": "alex"}
    sandbox.clear_log()

    result = gh("apply", now=AFTER, ALIGNER_GITHUB_TOKEN="ghp_sandboxSamClassicToken00000000000")

    assert result.exit_code == 1, result.output
    assert "as GitHub user alex, but the credentials now act as GitHub user sam" in flat(
        result.output
    )
    assert sandbox.requests("github", "github.changeUserStatus") == []
    assert github.status("sam") is None


# -- Calendar and note (the primary calendar's summary; the Gmail profile) ------------------------

CALENDAR_SECTION = """
[slack]
enabled = false

[calendar]
enabled = true
event_type = "default"

[[calendar.blocks]]
id = "prep"
title = "Prep"
start = "-2h"
duration = "1h"
"""


def test_another_google_account_stops_the_calendar(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    calendar = Aligner(env, write_theme(tmp_path / "theme.toml", CALENDAR_SECTION), sandbox)
    assert calendar("apply", now=DURING).exit_code == 0
    assert recorded_accounts(env)["calendar"] == EMAIL.lower()
    fake = sandbox.service("calendar")
    next(c for c in fake.calendars.values() if c.primary).summary = "sam.other@example.com"
    sandbox.clear_log()
    result = calendar("apply", now=AFTER)  # would delete the block aligner made
    assert result.exit_code == 1, result.output
    said = f"as Google account {EMAIL.lower()}, but the credentials now act as Google account"
    assert said in flat(result.output)
    assert sandbox.requests("calendar", writes=True) == []


def test_another_gmail_account_stops_the_note_while_aligner_holds_its_draft(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    from tests.surfaces.note.note_helpers import DUE, LATER, aligner_drafts, note_theme

    note = Aligner(env, note_theme(tmp_path, "draft"), sandbox)
    assert note("apply", now=DUE).exit_code == 0  # the draft is made: aligner holds it
    assert recorded_accounts(env)["note"] == EMAIL.lower()
    sandbox.service("gmail").address = "sam.other@example.com"
    sandbox.clear_log()
    result = note("revert", now=LATER)  # would delete the draft it made
    assert result.exit_code == 1, result.output
    said = f"as Google account {EMAIL.lower()}, but the credentials now act as Google account"
    assert said in flat(result.output)
    assert sandbox.requests("gmail", writes=True) == []
    assert len(aligner_drafts(sandbox)) == 1
