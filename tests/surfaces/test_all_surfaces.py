"""Every surface together, on the example theme, across the whole timeline."""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import pytest

from aligner.core.rehearsal import sandbox_settings, steps
from aligner.core.session import open_session
from aligner.sandbox.server import Sandbox
from aligner.surfaces import REGISTRY
from aligner.theme.validation import load_theme
from tests.conftest import REPO

EXAMPLE = REPO / "config" / "example.toml"


def shown(config: object) -> list[str]:
    """The surfaces the example theme has a section for (optional ones may stay out of it)."""
    sections = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    return [cls.name for cls in REGISTRY if cls.name in sections]


def test_the_example_enables_every_surface_it_shows_and_the_rest_are_off() -> None:
    config = load_theme(EXAMPLE).config
    assert [cls.name for cls in REGISTRY if cls.enabled(config)] == shown(config)
    assert len(shown(config)) >= 4


@pytest.mark.parametrize("step", range(len(steps(load_theme(EXAMPLE).config))))
def test_converged_apply_reads_each_surface_once_and_writes_nothing(
    step: int, sandbox: Sandbox, tmp_path: Path
) -> None:
    config = load_theme(EXAMPLE).config
    settings = sandbox_settings(sandbox.url, tmp_path / "state")
    timeline = steps(config)[: step + 1]
    for at, _ in timeline:  # live the timeline up to this step
        sandbox.clock.pinned = at
        with open_session(settings, config, lock=True) as session:
            assert not session.apply(at).failed
    at = timeline[-1][0]
    sandbox.clear_log()
    with open_session(settings, config, lock=True) as session:
        result = session.apply(at)
    assert result.written == () and not result.failed
    reads = Counter(r.service for r in sandbox.requests())
    assert all(not r.writes for r in sandbox.requests())
    assert sorted(reads.values()) == [1] * len(shown(config)), reads


def test_no_token_in_any_output_or_state_file(
    env: dict[str, str], sandbox: Sandbox, state_dir: Path
) -> None:
    from tests.conftest import Aligner

    aligner = Aligner(env, EXAMPLE, sandbox)
    secrets = [env["ALIGNER_SLACK_TOKEN"], env["ALIGNER_GOOGLE_ACCESS_TOKEN"]]
    outputs = []
    for at, _ in steps(load_theme(EXAMPLE).config):
        moment = at.isoformat()
        for command in (("plan", "--json"), ("apply",), ("status",)):
            outputs.append(aligner(*command, now=moment).output)
    outputs.append(aligner("revert", now=moment).output)
    outputs.append(
        aligner(
            "--debug",
            "apply",
            now=moment,
            ALIGNER_GOOGLE_ACCESS_TOKEN="ya29.x" * 3,
            ALIGNER_SLACK_TOKEN="xoxp-wrong-secret",
        ).output
    )
    secrets += ["ya29.x" * 3, "xoxp-wrong-secret"]
    files = [p.read_bytes() for p in state_dir.rglob("*") if p.is_file()]
    assert files, "the state dir was written"
    for secret in secrets:
        assert all(secret not in text for text in outputs), secret
        assert all(secret.encode() not in content for content in files), secret


def test_google_surfaces_share_one_token_refresh(
    env: dict[str, str], sandbox: Sandbox, tmp_path: Path
) -> None:
    import json

    from aligner.sandbox.google.common import GOOGLE_REFRESH_TOKEN
    from aligner.state.credentials import write_private
    from tests.conftest import Aligner

    creds = tmp_path / "creds" / "google-credentials.json"
    grant = {
        "refresh_token": GOOGLE_REFRESH_TOKEN,
        "token_uri": f"{sandbox.url}token",
        "client_id": "x.apps.googleusercontent.com",
        "client_secret": "client-secret",
    }
    write_private(creds, json.dumps(grant))
    env = {k: v for k, v in env.items() if k != "ALIGNER_GOOGLE_ACCESS_TOKEN"}
    env["ALIGNER_CREDENTIALS_DIR"] = str(creds.parent)
    result = Aligner(env, EXAMPLE, sandbox)("apply", now="-2h")
    assert result.exit_code == 0, result.output
    assert len(sandbox.requests("oauth", "oauth.token")) == 1  # not one per Google surface
