"""Settings from the environment (prefix ALIGNER_), a `.env` file and secret files.

`Settings` holds what every command needs (theme file, state dir, clock, lock wait). Each vendor
account declares its own settings as a `SettingsPart` (its tokens, API URL, …) in its own package;
`Settings.part(Model)` reads one from the same sources, in the same order, and caches it:

    google = settings.part(GoogleSettings)      # ALIGNER_GOOGLE_* as typed fields

Secrets are SecretStr and never printed: `secret_values()` lists every one read so far, so output
and logs can be scrubbed of them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

from platformdirs import user_state_path
from pydantic import Field, PrivateAttr, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from aligner.state.credentials import (
    EnvSource,
    PrivateDotEnvSource,
    RefusedSecret,
    SecretFilesSource,
    default_credentials_dir,
    secrets_in_file,
)

DEFAULT_CONFIG = Path("config/theme.toml")
P = TypeVar("P", bound="SettingsPart")


class SettingsPart(BaseSettings):
    """Settings read like every ALIGNER_ variable: environment, `.env`, then secret files."""

    model_config = SettingsConfigDict(
        env_prefix="ALIGNER_", env_file=".env", extra="ignore", frozen=True
    )
    # The files `aligner auth` writes into ALIGNER_CREDENTIALS_DIR, by setting name.
    auth_files: ClassVar[Mapping[str, str]] = {}
    # Path settings naming a JSON file whose secrets must be scrubbed from output too.
    secret_files: ClassVar[tuple[str, ...]] = ()
    # Settings a secrets directory (ALIGNER_SECRETS_DIR) may hold, one file each.
    secret_file_fields: ClassVar[tuple[str, ...]] = ()

    # Seconds one run may wait in total on a vendor's Retry-After or backoff (ALIGNER_RETRY_CAP).
    # Declared here so every vendor part reads it from the same sources as core settings.
    retry_cap: float = Field(default=30.0, ge=0, le=3600)

    # Where secrets come from besides the environment (see aligner.state.credentials).
    secrets_dir: Path | None = None
    credentials_dir: Path = Field(default_factory=default_credentials_dir)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment, `.env`, ALIGNER_SECRETS_DIR, the files `aligner auth` wrote, then the
        OS keychain (only for what `aligner auth --store keyring` put there)."""
        return (
            init_settings,
            EnvSource(settings_cls),
            PrivateDotEnvSource(settings_cls),
            SecretFilesSource(settings_cls, "secrets_dir"),
            SecretFilesSource(settings_cls, "auth_files"),
            SecretFilesSource(settings_cls, "keyring"),
        )

    def secret_values(self) -> list[str]:
        """Every secret value of this part, so output can be checked or scrubbed for them."""
        values = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and not isinstance(value, RefusedSecret):
                values.append(value.get_secret_value())
        for name in self.secret_files:
            values.extend(secrets_in_file(getattr(self, name)))
        return [v for v in values if v]


class Settings(SettingsPart):
    config: Path = DEFAULT_CONFIG
    state_dir: Path = Field(default_factory=lambda: user_state_path("aligner"))
    now: str | None = None
    lock_wait: float = 10.0
    journal_keep_days: float = Field(default=90.0, ge=0)  # journal rows older than this go,
    journal_keep_rows: int = Field(default=100, ge=1)  # but each item keeps its last rows

    _given: dict[str, Any] = PrivateAttr(default_factory=dict)
    _isolated: bool = PrivateAttr(default=False)
    _parts: dict[type[SettingsPart], SettingsPart] = PrivateAttr(default_factory=dict)

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        self._given = dict(values)

    @classmethod
    def isolated(cls, values: Mapping[str, Any]) -> Settings:
        """Settings from `values` alone: no environment, `.env` or secret file is read (the
        rehearsal uses this, so a real token can never reach the sandbox)."""
        settings = cls.model_validate(dict(values))
        settings._given, settings._isolated = dict(values), True
        return settings

    def part(self, model: type[P]) -> P:
        """A vendor's own settings, read from the same sources (cached)."""
        found = self._parts.get(model)
        if found is None:
            given = {k: v for k, v in self._given.items() if k in model.model_fields}
            given.setdefault("secrets_dir", self.secrets_dir)
            given.setdefault("credentials_dir", self.credentials_dir)
            given.setdefault("retry_cap", self.retry_cap)
            found = model.model_validate(given) if self._isolated else model(**given)
            self._parts[model] = found
        assert isinstance(found, model)
        return found

    def with_config(self, config: Path) -> Settings:
        """The same settings for another theme file (`--config`)."""
        copy = self.model_copy(update={"config": config})
        copy._given, copy._isolated = {**self._given, "config": config}, self._isolated
        copy._parts = dict(self._parts)
        return copy

    def read_parts(self, models: Iterable[type[SettingsPart]]) -> None:
        """Read (and so validate) every part now: a bad variable is reported before any work."""
        for model in models:
            self.part(model)

    @property
    def state_db(self) -> Path:
        return self.state_dir / "state.db"

    @property
    def lock_path(self) -> Path:
        return self.state_dir / "aligner.lock"

    def secret_values(self) -> list[str]:
        """Every secret value read so far (this part and every vendor part)."""
        values = super().secret_values()
        for part in self._parts.values():
            values.extend(part.secret_values())
        return values


def http_url(value: str) -> str:
    """A pydantic validator body for API URL settings."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


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
