"""Settings from the environment (prefix ALIGNER_) and a `.env` file. Secrets are SecretStr."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from platformdirs import user_state_path
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from aligner.state.credentials import (
    GOOGLE_CREDENTIALS_FILE,
    PrivateDotEnvSource,
    RefusedSecret,
    SecretFilesSource,
    default_credentials_dir,
    secrets_in_file,
)

DEFAULT_CONFIG = Path("config/theme.toml")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ALIGNER_", env_file=".env", extra="ignore", frozen=True
    )

    config: Path = DEFAULT_CONFIG
    state_dir: Path = Field(default_factory=lambda: user_state_path("aligner"))
    now: str | None = None
    lock_wait: float = 10.0
    journal_keep_days: float = Field(default=90.0, ge=0)  # journal rows older than this go,
    journal_keep_rows: int = Field(default=100, ge=1)  # but each item keeps its last rows

    slack_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"

    google_access_token: SecretStr | None = None
    google_credentials: Path | None = None
    google_api_root: str = "https://www.googleapis.com/"

    # Where secrets come from besides the environment (see aligner.state.credentials).
    secrets_dir: Path | None = None
    credentials_dir: Path = Field(default_factory=default_credentials_dir)
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    google_client_secrets: Path | None = None
    google_service_account: Path | None = None
    google_subject: str | None = None

    @field_validator("slack_api_url", "google_api_root")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment, `.env`, ALIGNER_SECRETS_DIR, then the files `aligner auth` wrote."""
        return (
            init_settings,
            env_settings,
            PrivateDotEnvSource(settings_cls),
            SecretFilesSource(settings_cls, "secrets_dir"),
            SecretFilesSource(settings_cls, "auth_files"),
        )

    @property
    def google_credentials_target(self) -> Path:
        """Where `aligner auth google` stores the authorized-user JSON."""
        return self.google_credentials or self.credentials_dir / GOOGLE_CREDENTIALS_FILE

    @property
    def state_db(self) -> Path:
        return self.state_dir / "state.db"

    @property
    def lock_path(self) -> Path:
        return self.state_dir / "aligner.state.lock"

    def secret_values(self) -> list[str]:
        """Every secret value, so output can be checked or scrubbed for them."""
        values = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and not isinstance(value, RefusedSecret):
                values.append(value.get_secret_value())
        for path in (self.google_credentials, self.google_service_account):
            values.extend(secrets_in_file(path))
        return [v for v in values if v]


def is_loopback(url: str) -> bool:
    """True for a URL on this machine (the sandbox): such calls must never go via a proxy."""
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def exempt_loopback_from_proxies() -> None:
    """Make urllib skip any configured proxy for loopback hosts (the SDKs read these variables)."""
    for name in ("no_proxy", "NO_PROXY"):
        hosts = [h for h in os.environ.get(name, "").split(",") if h.strip()]
        missing = [h for h in ("127.0.0.1", "localhost", "::1") if h not in hosts]
        if missing:
            os.environ[name] = ",".join(hosts + missing)
