"""The Google account's settings: a raw token, an authorized-user file or a service account."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from pydantic import SecretStr, field_validator

from aligner.state.settings import SettingsPart, http_url

CREDENTIALS_FILE = "google-credentials.json"  # in ALIGNER_CREDENTIALS_DIR (`aligner auth google`)


class GoogleSettings(SettingsPart):
    auth_files: ClassVar[Mapping[str, str]] = {"google_credentials": CREDENTIALS_FILE}
    secret_files: ClassVar[tuple[str, ...]] = ("google_credentials", "google_service_account")
    secret_file_fields: ClassVar[tuple[str, ...]] = (
        "google_access_token",
        "google_credentials",
        "google_service_account",
        "google_subject",
        "google_client_secrets",
    )

    google_access_token: SecretStr | None = None
    google_credentials: Path | None = None
    google_api_root: str = "https://www.googleapis.com/"
    google_client_secrets: Path | None = None
    google_service_account: Path | None = None
    google_subject: str | None = None

    @field_validator("google_api_root")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_url(value)

    @property
    def google_credentials_target(self) -> Path:
        """Where `aligner auth google` stores the authorized-user JSON."""
        return self.google_credentials or self.credentials_dir / CREDENTIALS_FILE
