"""Settings from the environment (prefix ALIGNER_) and a `.env` file. Secrets are SecretStr."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_state_path
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CONFIG = Path("config/theme.toml")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ALIGNER_", env_file=".env", extra="ignore", frozen=True
    )

    config: Path = DEFAULT_CONFIG
    state_dir: Path = Field(default_factory=lambda: user_state_path("aligner"))
    now: str | None = None
    lock_wait: float = 10.0

    slack_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"

    google_access_token: SecretStr | None = None
    google_credentials: Path | None = None
    google_api_root: str = "https://www.googleapis.com/"

    @property
    def state_db(self) -> Path:
        return self.state_dir / "state.db"

    @property
    def lock_path(self) -> Path:
        return self.state_dir / "aligner.lock"

    def secret_values(self) -> list[str]:
        """Every secret value, so output can be checked or scrubbed for them."""
        values = []
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if field.annotation is not None and isinstance(value, SecretStr):
                values.append(value.get_secret_value())
        return [v for v in values if v]
