"""Fixtures for the Microsoft account: Microsoft Entra played by `responses`, and a stand-in
surface that acts as the Microsoft account (the real Microsoft surfaces live in their own
packages; these tests need only "some enabled surface asks for these permissions")."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses
from click.testing import CliRunner, Result

from aligner import surfaces
from aligner.cli import cli
from aligner.core.model import Change, Json, Record
from aligner.surfaces.base import DiffContext, Ledger, Surface
from aligner.theme import validation
from aligner.theme.schema import Section, ThemeConfig
from aligner.vendors.microsoft.account import MICROSOFT
from aligner.vendors.microsoft.scopes import CALENDARS, PRESENCE
from tests.conftest import BASE_THEME

HOST = "https://login.microsoftonline.com"
CLIENT_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
WORK_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
PERSONAL_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
USERNAME = "alex@contoso.com"
OBJECT_ID = "6e7b768e-07e2-4810-8459-485f84f8f204"
PROBE = "msprobe"
NO_SLACK = "\n[slack]\nenabled = false\n"  # the base theme's default surface
RESERVED = ("openid", "profile", "offline_access")


class ProbeSection(Section):
    enabled: bool = False
    scopes: tuple[str, ...] = (PRESENCE, CALENDARS)


class GraphProbe(Surface):
    """A surface acting as the Microsoft account; it never has anything to do."""

    name = PROBE
    title = "Graph probe"
    section = ProbeSection
    accounts = (MICROSOFT,)

    @classmethod
    def needed_scopes(cls, config: ThemeConfig) -> tuple[str, ...]:
        return tuple(config.section(cls.name, ProbeSection).scopes)

    @classmethod
    def desired(cls, config: ThemeConfig, now: datetime) -> dict[str, Json]:
        return {}

    @classmethod
    def connect(cls, settings: Any, config: ThemeConfig) -> Surface:
        return cls()

    def read(self, config: ThemeConfig, records: Mapping[str, Record]) -> dict[str, Json]:
        return {}

    def diff(
        self, ctx: DiffContext, desired: Mapping[str, Json], current: Mapping[str, Json]
    ) -> list[Change]:
        return []

    def apply(self, config: ThemeConfig, change: Change, ledger: Ledger) -> Json:
        return None


@pytest.fixture
def probe_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry with the stand-in surface added (as a Microsoft surface's line would)."""
    registry = (*surfaces.REGISTRY, GraphProbe)
    monkeypatch.setattr(surfaces, "REGISTRY", registry)
    monkeypatch.setattr(validation, "REGISTRY", registry)


def probe_theme(path: Path, scopes: Sequence[str] = (PRESENCE, CALENDARS)) -> Path:
    listed = ", ".join(json.dumps(s) for s in scopes)
    path.write_text(
        BASE_THEME + f"\n[{PROBE}]\nenabled = true\nscopes = [{listed}]\n" + NO_SLACK,
        encoding="utf-8",
    )
    return path


def b64(data: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def jwt(claims: Mapping[str, Any]) -> str:
    return f"{b64({'alg': 'RS256', 'typ': 'JWT'})}.{b64(claims)}.c2lnbmF0dXJl"


@dataclass
class Entra:
    """Microsoft Entra's endpoints as MSAL calls them (tenant discovery, device code, token).

    Every token it issues is recorded in `issued`, so a test can check none reaches output."""

    mock: responses.RequestsMock
    tenant: str = "organizations"
    home_tenant: str = WORK_TENANT
    username: str = USERNAME
    granted: Sequence[str] | None = None  # None: whatever was asked for
    pending: int = 0  # device-code polls answered authorization_pending first
    refuse_refresh: dict[str, Any] | None = None  # the error body for a refresh-token grant
    expires_in: int = 3600
    nonce: str | None = None  # echoed in the id token (the browser flow's authorize request)
    on_access: Callable[[str], object] | None = None  # told each access token issued
    issued: list[str] = field(default_factory=list)
    grants: list[dict[str, list[str]]] = field(default_factory=list)  # token requests' forms
    device_requests: list[dict[str, list[str]]] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"{HOST}/{self.tenant}"

    def install(self) -> Entra:
        self.mock.add(
            responses.GET,
            f"{self.base}/v2.0/.well-known/openid-configuration",
            json={
                "issuer": f"{HOST}/{{tenantid}}/v2.0",
                "authorization_endpoint": f"{self.base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{self.base}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{self.base}/oauth2/v2.0/devicecode",
            },
        )
        self.mock.add(  # MSAL looks up the authority's aliases after a refused refresh
            responses.GET,
            f"{HOST}/common/discovery/instance",
            json={
                "tenant_discovery_endpoint": f"{HOST}/common/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [
                    {
                        "preferred_network": "login.microsoftonline.com",
                        "preferred_cache": "login.windows.net",
                        "aliases": [
                            "login.microsoftonline.com",
                            "login.windows.net",
                            "login.microsoft.com",
                            "sts.windows.net",
                        ],
                    }
                ],
            },
        )
        self.mock.add_callback(
            responses.POST, f"{self.base}/oauth2/v2.0/devicecode", callback=self._device
        )
        self.mock.add_callback(
            responses.POST, f"{self.base}/oauth2/v2.0/token", callback=self._token
        )
        return self

    def _device(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.device_requests.append(parse_qs(request.body))
        return (
            200,
            {},
            json.dumps(
                {
                    "user_code": "FGHJ4K7LM",
                    "device_code": "DAQABAAEAAAD--device-code",
                    "verification_uri": "https://microsoft.com/devicelogin",
                    "expires_in": 900,
                    "interval": 0,  # tests never sleep between polls
                    "message": "To sign in, use a web browser to open the page https://"
                    "microsoft.com/devicelogin and enter the code FGHJ4K7LM to authenticate.",
                }
            ),
        )

    def _token(self, request: Any) -> tuple[int, dict[str, str], str]:
        form = parse_qs(request.body)
        self.grants.append(form)
        grant = form["grant_type"][0]
        if grant.endswith("device_code") and self.pending > 0:
            self.pending -= 1
            return 400, {}, json.dumps({"error": "authorization_pending"})
        if grant == "refresh_token" and self.refuse_refresh is not None:
            return 400, {}, json.dumps(self.refuse_refresh)
        if grant.endswith("device_code"):  # the scopes asked for when the code was issued
            form = {**form, "scope": self.device_requests[-1]["scope"]}
        asked = [s for s in form.get("scope", [""])[0].split() if s not in RESERVED]
        scopes = list(self.granted) if self.granted is not None else asked
        return 200, {}, json.dumps(self.tokens(scopes))

    def tokens(self, scopes: Sequence[str]) -> dict[str, Any]:
        n = len(self.issued) // 3 + 1
        now = int(time.time())
        id_token = jwt(
            {
                "aud": CLIENT_ID,
                "iss": f"{HOST}/{self.home_tenant}/v2.0",
                "tid": self.home_tenant,
                "oid": OBJECT_ID,
                "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
                "preferred_username": self.username,
                "name": "Alex Rivera",
                "iat": now,
                "exp": now + 3600,
                **({"nonce": self.nonce} if self.nonce else {}),
            }
        )
        access, refresh = f"eyJ0eXAiOiJKV1Qi.access-{n}.sig", f"0.AXEA-refresh-token-{n}"
        self.issued += [access, refresh, id_token]
        if self.on_access is not None:
            self.on_access(access)
        return {
            "token_type": "Bearer",
            "scope": " ".join([*scopes, *RESERVED]),
            "expires_in": self.expires_in,
            "ext_expires_in": self.expires_in,
            "access_token": access,
            "refresh_token": refresh,
            "id_token": id_token,
            "client_info": b64({"uid": OBJECT_ID, "utid": self.home_tenant}),
        }

    def grant_types(self) -> list[str]:
        return [g["grant_type"][0].rsplit(":", 1)[-1] for g in self.grants]


@pytest.fixture
def entra() -> Iterator[Entra]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield Entra(mock).install()


@pytest.fixture
def ms_env(tmp_path: Path) -> dict[str, str]:
    return {
        "ALIGNER_MICROSOFT_CLIENT_ID": CLIENT_ID,
        "ALIGNER_CREDENTIALS_DIR": str(tmp_path / "creds"),
        "ALIGNER_STATE_DIR": str(tmp_path / "state"),
        "ALIGNER_CONFIG": str(tmp_path / "theme.toml"),
    }


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "creds" / "microsoft-token-cache.json"


class Run:
    """The real CLI, in-process, with the Microsoft test environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, *args: str, **env: str) -> Result:
        return CliRunner().invoke(cli, list(args), env={**self.env, **env}, catch_exceptions=False)


@pytest.fixture
def ms_theme(probe_registered: None, tmp_path: Path) -> Path:
    """A theme whose one enabled Microsoft surface needs Presence and Calendars."""
    return probe_theme(tmp_path / "theme.toml")


@pytest.fixture
def run(ms_env: dict[str, str], ms_theme: Path) -> Run:
    return Run(ms_env)
