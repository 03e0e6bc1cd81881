"""The Slack account's settings: ALIGNER_SLACK_TOKEN, ALIGNER_SLACK_API_URL and the app's client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from pydantic import SecretStr, field_validator

from aligner.state.settings import SettingsPart, http_url

TOKEN_FILE = "slack-token"  # in ALIGNER_CREDENTIALS_DIR, written by `aligner auth slack`


class SlackSettings(SettingsPart):
    auth_files: ClassVar[Mapping[str, str]] = {"slack_token": TOKEN_FILE}
    secret_file_fields: ClassVar[tuple[str, ...]] = (
        "slack_token",
        "slack_client_id",
        "slack_client_secret",
    )

    slack_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None

    @field_validator("slack_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_url(value)
