"""Where secrets come from (env > .env > secrets dir > auth's files); credential files private."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aligner.errors import AuthError
from aligner.sandbox.server import Sandbox
from aligner.state.credentials import EnvSource, RefusedSecret, write_private
from aligner.state.settings import Settings, SettingsPart
from aligner.vendors.google.client import load_credentials
from aligner.vendors.google.scopes import GMAIL_COMPOSE
from aligner.vendors.google.settings import GoogleSettings
from aligner.vendors.slack.settings import SlackSettings
from tests.conftest import DURING, USER_ID, Aligner, flat


def private(path: Path, text: str) -> Path:
    write_private(path, text)
    return path


def exposed(path: Path, text: str, mode: int = 0o640) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


@pytest.fixture
def layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """One Slack token in each layer; cwd is tmp_path (conftest), so .env is read from there."""
    creds, secrets = tmp_path / "creds", tmp_path / "secrets"
    private(creds / "slack-token", "xoxp-from-auth-file\n")
    private(secrets / "ALIGNER_SLACK_TOKEN", "xoxp-from-secrets-dir\n")
    private(tmp_path / ".env", "ALIGNER_SLACK_TOKEN=xoxp-from-dotenv\n")
    monkeypatch.setenv("ALIGNER_CREDENTIALS_DIR", str(creds))
    monkeypatch.setenv("ALIGNER_SECRETS_DIR", str(secrets))
    monkeypatch.setenv("ALIGNER_SLACK_TOKEN", "xoxp-from-environment")
    return {"creds": creds, "secrets": secrets, "dotenv": tmp_path / ".env"}


def slack_token() -> str:
    token = Settings().part(SlackSettings).slack_token
    assert token is not None
    return token.get_secret_value()


def test_each_layer_wins_over_the_ones_after_it(
    layers: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert slack_token() == "xoxp-from-environment"
    monkeypatch.delenv("ALIGNER_SLACK_TOKEN")
    assert slack_token() == "xoxp-from-dotenv"
    layers["dotenv"].unlink()
    assert slack_token() == "xoxp-from-secrets-dir"
    (layers["secrets"] / "ALIGNER_SLACK_TOKEN").unlink()
    assert slack_token() == "xoxp-from-auth-file"
    (layers["creds"] / "slack-token").unlink()
    assert Settings().part(SlackSettings).slack_token is None


def test_the_secrets_dir_may_come_from_dotenv_and_names_files_in_any_case(
    tmp_path: Path,
) -> None:
    secrets = tmp_path / "run-secrets"
    private(secrets / "aligner_slack_token", "xoxp-mounted")
    private(secrets / "aligner_google_credentials", '{"refresh_token": "r"}')
    private(tmp_path / ".env", f"ALIGNER_SECRETS_DIR={secrets}\n")
    settings = Settings()
    assert settings.part(SlackSettings).slack_token is not None
    assert settings.part(SlackSettings).slack_token.get_secret_value() == "xoxp-mounted"
    # a file-valued setting names the mounted file itself
    assert (
        settings.part(GoogleSettings).google_credentials == secrets / "aligner_google_credentials"
    )


def test_google_credentials_default_to_the_file_auth_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALIGNER_CREDENTIALS_DIR", str(tmp_path / "creds"))
    assert Settings().part(GoogleSettings).google_credentials is None
    path = private(tmp_path / "creds" / "google-credentials.json", '{"refresh_token": "1//r"}')
    settings = Settings()
    assert settings.part(GoogleSettings).google_credentials == path
    assert "1//r" in settings.secret_values()  # scrubbed from every output line


def test_files_aligner_writes_are_0600_from_the_start(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = private(tmp_path / "deep" / "token", "one")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        private(path, "two")  # replacing keeps it private
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == "two"
    assert [p.name for p in path.parent.iterdir()] == ["token"]  # no temp file left behind


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_token_file_others_can_read_is_refused_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: int
) -> None:
    path = exposed(tmp_path / "creds" / "slack-token", "xoxp-exposed", mode)
    monkeypatch.setenv("ALIGNER_CREDENTIALS_DIR", str(tmp_path / "creds"))
    settings = Settings()
    assert isinstance(settings.part(SlackSettings).slack_token, RefusedSecret)
    assert "xoxp-exposed" not in settings.secret_values()
    with pytest.raises(AuthError, match=f"chmod 600 {path}"):
        settings.part(SlackSettings).slack_token.get_secret_value()


def test_a_readable_dotenv_holding_a_secret_is_refused(tmp_path: Path) -> None:
    exposed(tmp_path / ".env", "ALIGNER_SLACK_TOKEN=xoxp-in-dotenv\nALIGNER_LOCK_WAIT=3\n", 0o644)
    settings = Settings()
    assert isinstance(settings.part(SlackSettings).slack_token, RefusedSecret)
    assert "chmod 600" in settings.part(SlackSettings).slack_token.problem
    assert settings.lock_wait == 3  # plain settings from it still count


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to hand a file to another user")
def test_a_file_owned_by_someone_else_is_not_ours_to_judge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ssh's rule: only your own files must be private (a root-owned mounted secret is fine)."""
    path = exposed(tmp_path / "secrets" / "ALIGNER_SLACK_TOKEN", "xoxp-mounted", 0o444)
    os.chown(path, 65534, 65534)
    monkeypatch.setenv("ALIGNER_SECRETS_DIR", str(tmp_path / "secrets"))
    token = Settings().part(SlackSettings).slack_token
    assert token is not None and token.get_secret_value() == "xoxp-mounted"


def test_a_group_readable_google_file_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = exposed(tmp_path / "google.json", json.dumps({"refresh_token": "1//x"}), 0o640)
    settings = GoogleSettings(google_credentials=path)
    with pytest.raises(AuthError, match=f"permissions 0640 for {path} are too open") as info:
        load_credentials(settings, "signature")
    assert f"chmod 600 {path}" in str(info.value)


def test_apply_with_a_refused_slack_token_fails_only_slack(
    aligner: Aligner, sandbox: Sandbox, tmp_path: Path
) -> None:
    path = exposed(tmp_path / "creds" / "slack-token", "xoxp-exposed-token")
    env = {"ALIGNER_SLACK_TOKEN": None, "ALIGNER_CREDENTIALS_DIR": str(tmp_path / "creds")}
    result = aligner("--debug", "apply", now=DURING, **env)  # type: ignore[arg-type]
    assert result.exit_code == 1
    assert f"chmod 600 {path}" in flat(result.output)
    assert "xoxp-exposed-token" not in result.output
    assert sandbox.service("slack").status(USER_ID)["status_text"] == "Working from home"


def test_service_account_acts_as_the_subject_with_the_surface_scope(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "client_email": "aligner@project.iam.gserviceaccount.com",
        "private_key": pem,
        "private_key_id": "k1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path = private(tmp_path / "sa.json", json.dumps(info))
    missing_subject = GoogleSettings(google_service_account=path)
    with pytest.raises(AuthError, match="ALIGNER_GOOGLE_SUBJECT"):
        load_credentials(missing_subject, "note")
    settings = GoogleSettings(google_service_account=path, google_subject="alex@example.com")
    creds = load_credentials(settings, "note", (GMAIL_COMPOSE,))
    assert creds._subject == "alex@example.com"  # type: ignore[attr-defined]
    assert creds.scopes == ["https://www.googleapis.com/auth/gmail.compose"]  # type: ignore[attr-defined]
    assert pem.splitlines()[1] in "\n".join(settings.secret_values())


def test_auth_says_when_an_environment_variable_shadows_what_it_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aligner.state.credentials import shadowed_by_environment
    from aligner.surfaces.github_status.settings import GitHubSettings

    monkeypatch.setenv("ALIGNER_CREDENTIALS_DIR", str(tmp_path))
    assert shadowed_by_environment(GitHubSettings(), "github_token", "stored token") is None
    monkeypatch.setenv("ALIGNER_GITHUB_TOKEN", "ghp_from_the_environment")
    note = shadowed_by_environment(GitHubSettings(), "github_token", "stored token")
    assert note == (
        "note: ALIGNER_GITHUB_TOKEN is set in the environment or .env and wins over the stored "
        "token; unset it to use this one"
    )


def test_a_part_none_of_whose_variables_is_set_is_read_without_the_field_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command reads every vendor's part; the environment and `.env` sources skip the
    field-by-field walk when no variable of the part is set (most of the cost of reading one)."""
    from pydantic_settings import EnvSettingsSource

    walks: list[str] = []
    walk = EnvSettingsSource.__call__

    def counted(self: EnvSettingsSource) -> dict[str, object]:
        walks.append(type(self).__name__)
        return walk(self)

    monkeypatch.setattr(EnvSettingsSource, "__call__", counted)
    for name in [k for k in os.environ if k.upper().startswith("ALIGNER_SLACK")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ALIGNER_RETRY_CAP", "5")  # a shared field the base part passes on
    base = Settings()
    walks.clear()
    assert base.part(SlackSettings).slack_token is None
    assert base.part(SlackSettings).retry_cap == 5
    assert walks == []

    monkeypatch.setenv("aligner_slack_token", "xoxp-lower-case")  # names are case-insensitive
    base = Settings()
    walks.clear()
    token = base.part(SlackSettings).slack_token
    assert token is not None and token.get_secret_value() == "xoxp-lower-case"
    assert walks == []  # every field is a plain value: the set variables are read directly

    monkeypatch.delenv("aligner_slack_token")
    private(tmp_path / ".env", "ALIGNER_SLACK_TOKEN=xoxp-from-dotenv\n")
    assert slack_token() == "xoxp-from-dotenv"


def _part_classes() -> list[type[SettingsPart]]:
    from aligner.surfaces import settings_parts

    return [Settings, *settings_parts()]


@settings(max_examples=60)
@given(data=st.data())
def test_reading_set_variables_directly_gives_what_the_field_walk_gives(
    data: st.DataObject,
) -> None:
    """The environment source reads plain fields without pydantic-settings' walk: for every
    part, any mix of set variables (any case, any text, unrelated ones too) reads the same."""
    from pydantic_settings import EnvSettingsSource

    part = data.draw(st.sampled_from(_part_classes()))
    names = [f"ALIGNER_{name}" for name in part.model_fields]
    chosen = data.draw(st.lists(st.sampled_from(names), unique=True))
    text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))
    environ = {
        data.draw(st.sampled_from([n, n.lower(), n.title()])): data.draw(text) for n in chosen
    }
    environ["ALIGNER_NOT_A_FIELD"] = "x"
    with mock.patch.dict(os.environ, environ, clear=True):
        source = EnvSource(part)
        direct = source()
        assert direct == EnvSettingsSource.__call__(source)
    assert len(direct) == len({n.lower() for n in environ} - {"aligner_not_a_field"})


def test_a_part_with_a_field_that_is_not_plain_is_read_by_the_field_walk() -> None:
    class Listed(SettingsPart):
        names: tuple[str, ...] = ()

    with mock.patch.dict(os.environ, {"ALIGNER_NAMES": '["a", "b"]'}):
        assert Listed().names == ("a", "b")
