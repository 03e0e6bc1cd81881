"""The GitHub account's settings: ALIGNER_GITHUB_TOKEN and ALIGNER_GITHUB_API_URL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from pydantic import SecretStr, field_validator

from aligner.state.settings import SettingsPart, http_url

TOKEN_FILE = "github-token"  # in ALIGNER_CREDENTIALS_DIR, written by `aligner auth github`
DEFAULT_API_URL = (
    "https://api.github.com/graphql"  # GitHub Enterprise Server: https://HOST/api/graphql
)


class GitHubSettings(SettingsPart):
    auth_files: ClassVar[Mapping[str, str]] = {"github_token": TOKEN_FILE}
    secret_file_fields: ClassVar[tuple[str, ...]] = ("github_token",)

    github_token: SecretStr | None = None
    github_api_url: str = DEFAULT_API_URL

    @field_validator("github_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_url(value)
