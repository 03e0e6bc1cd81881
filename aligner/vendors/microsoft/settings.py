"""The Microsoft account's settings (every name is an ALIGNER_ environment variable).

ALIGNER_MICROSOFT_CLIENT_ID     the app registration (a public client; see the README)
ALIGNER_MICROSOFT_TENANT        default `organizations` (work or school accounts)
ALIGNER_GRAPH_API_URL           default https://graph.microsoft.com/v1.0/ (national clouds,
                                the sandbox)
ALIGNER_MICROSOFT_ACCESS_TOKEN  a raw access token (tests); wins over the token cache
ALIGNER_MICROSOFT_TOKEN_CACHE   MSAL's token cache, written 0600 by `aligner auth microsoft`
                                (default: microsoft-token-cache.json in the credentials dir)
ALIGNER_MICROSOFT_AUTHORITY_HOST  default https://login.microsoftonline.com/
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from pydantic import SecretStr, field_validator

from aligner.state.settings import SettingsPart, http_url

TOKEN_CACHE_FILE = "microsoft-token-cache.json"  # in ALIGNER_CREDENTIALS_DIR
DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0/"
DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com/"
DEFAULT_TENANT = "organizations"


class MicrosoftSettings(SettingsPart):
    auth_files: ClassVar[Mapping[str, str]] = {"microsoft_token_cache": TOKEN_CACHE_FILE}
    secret_files: ClassVar[tuple[str, ...]] = ("microsoft_token_cache",)
    secret_file_fields: ClassVar[tuple[str, ...]] = (
        "microsoft_access_token",
        "microsoft_client_id",
        "microsoft_token_cache",
    )

    microsoft_client_id: str | None = None
    microsoft_tenant: str = DEFAULT_TENANT
    microsoft_authority_host: str = DEFAULT_AUTHORITY_HOST
    graph_api_url: str = DEFAULT_GRAPH_URL
    microsoft_access_token: SecretStr | None = None
    microsoft_token_cache: Path | None = None

    @field_validator("graph_api_url", "microsoft_authority_host")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = http_url(value)
        return value if value.endswith("/") else value + "/"

    @property
    def token_cache_target(self) -> Path:
        """Where `aligner auth microsoft` keeps MSAL's token cache."""
        return self.microsoft_token_cache or self.credentials_dir / TOKEN_CACHE_FILE

    @property
    def authority(self) -> str:
        return f"{self.microsoft_authority_host}{self.microsoft_tenant}"

    def secret_values(self) -> list[str]:
        """The raw token, and every token in MSAL's cache file (output is scrubbed of them)."""
        values = super().secret_values()
        try:
            data = json.loads(self.token_cache_target.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return values
        if isinstance(data, dict) and isinstance(data.get("cache"), str):
            from aligner.vendors.microsoft.signin import cache_secrets

            values += cache_secrets(data["cache"])
        return values
