"""Slack: the behaviours aligner's status surface relies on (see conftest for targets).

The live token is a user token of a throwaway workspace with users.profile:read and
users.profile:write (what `aligner auth slack` asks for), and without emoji:read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from aligner.errors import AuthError, PermanentError, TransientError
from aligner.vendors.slack.client import translate
from tests.contract.conftest import CONTRACT_TEXT, RUN, SlackTarget, drop_backup, save_backup

Cleanup = Callable[[Callable[[], Any]], None]
STATUS_FIELDS = ("status_text", "status_emoji", "status_expiration")
STATUS_LIMIT = 100


def _status(profile: dict[str, Any]) -> dict[str, Any]:
    return {k: profile.get(k) for k in STATUS_FIELDS}


def _error(call: Callable[[], Any]) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


def _granted(answer: Any) -> set[str]:
    """The scopes in a response's x-oauth-scopes header (any case; one value or a list)."""
    headers = {str(k).lower(): v for k, v in answer.headers.items()}
    raw = headers.get("x-oauth-scopes")
    text = raw[0] if isinstance(raw, list) else str(raw or "")
    return {scope.strip() for scope in text.split(",") if scope.strip()}


def _keep_status(slack: SlackTarget, cleanup: Cleanup) -> None:
    """Remember the status now (a backup file survives a crash) and put it back afterwards."""
    original = _status(slack.client().users_profile_get()["profile"])
    if original["status_expiration"] and original["status_expiration"] <= time.time():
        original = {"status_text": "", "status_emoji": "", "status_expiration": 0}
    if slack.live:
        save_backup("slack-status", original)

    def restore() -> None:
        slack.client().users_profile_set(profile=original)
        drop_backup("slack-status")

    cleanup(restore)


def test_profile_set_then_get_with_status_expiration(slack: SlackTarget, cleanup: Cleanup) -> None:
    """users.profile.set stores status_text, status_emoji and status_expiration (a Unix time)
    and answers the whole profile; users.profile.get reads the same three back.

    https://api.slack.com/methods/users.profile.set (status fields, "status_expiration: the
    Unix Timestamp of when the status will expire"), https://api.slack.com/methods/users.profile.get,
    https://api.slack.com/docs/presence-and-status#custom_status
    """
    _keep_status(slack, cleanup)
    expires = int(time.time()) + 600  # a leftover clears itself within ten minutes
    wanted = {
        "status_text": f"{CONTRACT_TEXT} {RUN}",
        "status_emoji": ":calendar:",
        "status_expiration": expires,
    }
    answer = slack.client().users_profile_set(profile=wanted)
    assert answer["ok"] is True
    assert _status(answer["profile"]) == wanted
    read = slack.client().users_profile_get()
    assert _status(read["profile"]) == wanted


def test_auth_test_names_user_team_and_granted_scopes(slack: SlackTarget) -> None:
    """auth.test answers user_id and team_id (aligner records them) and the response carries
    the token's scopes in the `x-oauth-scopes` header (aligner's doctor reads them).

    https://api.slack.com/methods/auth.test, https://api.slack.com/scopes (x-oauth-scopes),
    https://api.slack.com/authentication/token-types#user
    """
    answer = slack.client().auth_test()
    assert answer["ok"] is True
    assert str(answer["user_id"]).startswith(("U", "W"))
    assert str(answer["team_id"]).startswith(("T", "E"))
    assert {"users.profile:read", "users.profile:write"} <= _granted(answer)


def test_invalid_auth_for_a_token_slack_does_not_know(slack: SlackTarget) -> None:
    """An unknown token answers `invalid_auth`; aligner reports an AuthError.

    https://api.slack.com/methods/users.profile.set#errors (invalid_auth),
    https://api.slack.com/web#evaluating_responses
    """
    bogus = "xoxp-0-0-0-" + "0" * 32
    error = _error(lambda: slack.client(bogus).auth_test())
    assert error.response["error"] == "invalid_auth"
    assert isinstance(translate(error, "contract"), AuthError)


def test_missing_scope_names_the_needed_and_provided_scopes(slack: SlackTarget) -> None:
    """A method whose scope the token lacks answers `missing_scope` with `needed` (and
    `provided`); aligner's message names the needed scope. emoji.list needs emoji:read, which
    aligner's status token does not need.

    https://api.slack.com/methods/emoji.list (emoji:read),
    https://api.slack.com/methods/users.profile.set#errors (missing_scope); `needed`/`provided`
    are reported, not documented: https://github.com/apache/superset/pull/15904
    """
    if "emoji:read" in _granted(slack.client().auth_test()):
        pytest.skip("the live token has emoji:read; use one without it to see missing_scope")
    error = _error(lambda: slack.client().emoji_list())
    assert error.response["error"] == "missing_scope"
    assert error.response["needed"] == "emoji:read"
    assert "users.profile:write" in str(error.response.get("provided", ""))
    translated = translate(error, "contract")
    assert isinstance(translated, AuthError)
    assert "emoji:read" in str(translated)


def test_a_status_text_over_100_characters_is_too_long(
    slack: SlackTarget, cleanup: Cleanup
) -> None:
    """status_text is "up to 100 characters"; longer answers `too_long` and changes nothing;
    aligner reports a PermanentError (its theme check refuses such a status first).

    https://api.slack.com/methods/users.profile.set (status_text; error too_long)
    """
    _keep_status(slack, cleanup)
    before = _status(slack.client().users_profile_get()["profile"])
    long_text = (CONTRACT_TEXT + " ") * 20
    assert len(long_text) > STATUS_LIMIT
    error = _error(
        lambda: slack.client().users_profile_set(
            profile={"status_text": long_text[: STATUS_LIMIT + 1], "status_emoji": ":calendar:"}
        )
    )
    assert error.response["error"] == "too_long"
    translated = translate(error, "contract")
    assert isinstance(translated, PermanentError) and not isinstance(translated, AuthError)
    assert _status(slack.client().users_profile_get()["profile"]) == before


def test_ratelimited_is_429_with_retry_after(slack: SlackTarget) -> None:
    """A rate-limited call answers HTTP 429, error `ratelimited` and a Retry-After header (in
    seconds); aligner reports a TransientError that waits that long. Only the sandbox is made to
    rate-limit (fault injection): provoking it on a real workspace would mean hammering it.

    https://api.slack.com/apis/rate-limits ("HTTP 429 Too Many Requests ... Retry-After")
    """
    if slack.sandbox is None:
        pytest.skip("rate limits are checked in the sandbox only (not provoked on Slack)")
    slack.sandbox.inject("users.profile.set", status=429, retry_after=7)
    error = _error(lambda: slack.client().users_profile_set(profile={"status_text": "x"}))
    assert error.response.status_code == 429
    assert error.response["error"] == "ratelimited"
    headers = {k.lower(): v for k, v in error.response.headers.items()}
    retry = headers["retry-after"]
    assert (retry[0] if isinstance(retry, list) else retry) == "7"
    translated = translate(error, "contract")
    assert isinstance(translated, TransientError)
    assert translated.retry_after == 7.0
