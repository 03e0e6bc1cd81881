"""`aligner auth github`, `aligner doctor` and `aligner rehearse` for the GitHub status."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from aligner.cli import cli
from aligner.sandbox.github.service import GITHUB_TOKEN, LOGIN, ORGANIZATION
from aligner.sandbox.server import Sandbox
from tests.cli.test_doctor import lines
from tests.conftest import DURING, Aligner, flat
from tests.surfaces.github_status.helpers import GITHUB_SECTION, THEMED, github_theme


@pytest.fixture
def creds_dir(tmp_path: Path) -> Path:
    return tmp_path / "creds"


@pytest.fixture
def unsigned(gh: Aligner, creds_dir: Path) -> Aligner:
    """No ALIGNER_GITHUB_TOKEN in the environment: the stored token is what counts."""
    gh.env = {**gh.env, "ALIGNER_CREDENTIALS_DIR": str(creds_dir)}
    gh.env.pop("ALIGNER_GITHUB_TOKEN")
    return gh


def auth(who: Aligner, token: str) -> Result:
    return CliRunner().invoke(
        cli,
        ["auth", "github", "--config", str(who.config)],
        env=who.env,
        input=token + "\n",
        catch_exceptions=False,
    )


def test_a_token_is_checked_then_stored_privately(
    unsigned: Aligner, sandbox: Sandbox, creds_dir: Path
) -> None:
    result = auth(unsigned, GITHUB_TOKEN)
    assert result.exit_code == 0, result.output
    assert f"for {LOGIN}" in result.output and "0600" in result.output
    assert GITHUB_TOKEN not in result.output
    assert sandbox.requests("github", "github.viewer")
    path = creds_dir / "github-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == GITHUB_TOKEN
    assert unsigned("apply", now=DURING).exit_code == 0  # the stored token is used
    assert sandbox.service("github").status(LOGIN)["message"] == THEMED


@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_token_is_refused_and_not_stored(
    unsigned: Aligner, creds_dir: Path, debug: bool
) -> None:
    bad = "ghp_notARealToken1234567890abcdefgh"
    args = ["--debug", "auth", "github"] if debug else ["auth", "github"]
    result = CliRunner().invoke(
        cli, [*args, "--config", str(unsigned.config)], env=unsigned.env, input=bad + "\n"
    )
    assert result.exit_code == 1
    assert "Bad credentials" in result.output
    assert bad not in result.output
    assert not (creds_dir / "github-token").exists()


def test_a_token_without_the_user_scope_is_refused_naming_it(
    unsigned: Aligner, sandbox: Sandbox, creds_dir: Path
) -> None:
    sandbox.service("github").add_token("ghp_repoOnlyToken", LOGIN, scopes=("repo",))
    result = auth(unsigned, "ghp_repoOnlyToken")
    assert result.exit_code == 1
    assert "lacks the user scope" in result.output
    assert not (creds_dir / "github-token").exists()


def test_a_fine_grained_token_is_stored_with_a_note(
    unsigned: Aligner, sandbox: Sandbox, creds_dir: Path
) -> None:
    sandbox.service("github").add_token("github_pat_fineGrained", LOGIN, scopes=None)
    result = auth(unsigned, "github_pat_fineGrained")
    assert result.exit_code == 0, result.output
    assert "Profile (read and write)" in result.output
    assert (creds_dir / "github-token").exists()


def test_doctor_says_all_is_well(gh: Aligner) -> None:
    result = gh("doctor")
    assert result.exit_code == 0, result.output
    found = lines(result.output)
    assert found["github.credentials"].startswith("✓")
    assert found["github.works"].startswith("✓") and LOGIN in found["github.works"]
    assert found["github.scopes"].startswith("✓") and "user" in found["github.scopes"]
    assert GITHUB_TOKEN not in result.output


def test_doctor_names_a_missing_scope(gh: Aligner, sandbox: Sandbox) -> None:
    sandbox.service("github").add_token("ghp_repoOnlyToken", LOGIN, scopes=("repo",))
    result = gh("doctor", ALIGNER_GITHUB_TOKEN="ghp_repoOnlyToken")
    assert result.exit_code == 1
    line = lines(result.output)["github.scopes"]
    assert line.startswith("✗") and "user scope" in line and "aligner auth github" in line


def test_doctor_says_how_to_get_a_token(unsigned: Aligner) -> None:
    result = unsigned("doctor")
    assert result.exit_code == 1
    line = lines(result.output)["github.credentials"]
    assert line.startswith("✗") and "aligner auth github" in line


def test_doctor_on_bad_credentials(gh: Aligner) -> None:
    result = gh("doctor", ALIGNER_GITHUB_TOKEN="ghp_unknownToken0000")
    line = lines(result.output)["github.works"]
    assert line.startswith("✗") and "Bad credentials" in line


def test_doctor_cannot_see_a_fine_grained_tokens_permissions(gh: Aligner, sandbox: Sandbox) -> None:
    sandbox.service("github").add_token("github_pat_fineGrained", LOGIN, scopes=None)
    result = gh("doctor", ALIGNER_GITHUB_TOKEN="github_pat_fineGrained")
    assert result.exit_code == 0
    assert lines(result.output)["github.scopes"].startswith("?")


def test_doctor_checks_the_organization(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    good = Aligner(
        env,
        github_theme(tmp_path, section=GITHUB_SECTION + f'organization = "{ORGANIZATION}"\n'),
        sandbox,
    )
    assert lines(good("doctor").output)["github.organization"].startswith("✓")
    bad = Aligner(
        env, github_theme(tmp_path, section=GITHUB_SECTION + 'organization = "nope-org"\n'), sandbox
    )
    result = bad("doctor")
    assert result.exit_code == 1
    assert lines(result.output)["github.organization"].startswith("✗")


def test_rehearse_shows_the_github_status(gh: Aligner) -> None:
    result = gh("rehearse")
    assert result.exit_code == 0, result.output
    assert (
        f"✓ github set status: :house_with_garden: “Working from home” → :rocket: “{THEMED}”"
        in (flat(result.output))
    )
    row = next(line for line in result.output.splitlines() if line.startswith("GitHub profile"))
    assert ":house_with_garden:" in row and ":rocket:" in row and row.endswith("✓ as before")
