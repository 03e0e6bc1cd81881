"""A real run acting as the Microsoft account: `aligner plan` renews the signed-in cache's
access token (through `responses`) and reads Graph (a loopback server) with the new token."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from aligner import surfaces
from aligner.core import session
from aligner.core.model import Json, Record
from aligner.sandbox.microsoft.common import GraphDirectory
from aligner.sandbox.server import Sandbox
from aligner.state.settings import Settings
from aligner.surfaces.base import Surface
from aligner.theme import validation
from aligner.theme.schema import ThemeConfig
from aligner.vendors.microsoft.scopes import PRESENCE
from aligner.vendors.microsoft.settings import MicrosoftSettings
from aligner.vendors.microsoft.token import graph_for
from tests.conftest import DURING
from tests.vendors.microsoft.conftest import Entra, GraphProbe, Run
from tests.vendors.microsoft.test_graph_client import GET, PresenceGraph


class ReadingProbe(GraphProbe):
    """The stand-in surface, reading /me/presence as a Microsoft surface would."""

    graph: Any = None

    @classmethod
    def desired(cls, config: ThemeConfig, now: datetime) -> dict[str, Json]:
        return {"presence": "Available"}  # something is due: the run reads

    @classmethod
    def connect(cls, settings: Settings, config: ThemeConfig) -> Surface:
        probe = cls()
        ms = settings.part(MicrosoftSettings)
        probe.graph = graph_for(ms, cls.needed_scopes(config), cls.name)
        return probe

    def read(self, config: ThemeConfig, records: Mapping[str, Record]) -> dict[str, Json]:
        try:
            return {"presence": self.graph.get("me/presence").json().get("availability")}
        finally:
            self.graph.close()


@pytest.fixture
def graph_server() -> Iterator[tuple[Sandbox, GraphDirectory]]:
    service = PresenceGraph()
    with Sandbox([service]) as box:
        yield box, service.directory


def test_a_run_renews_the_cached_sign_in_and_reads_graph_with_the_new_token(
    run: Run,
    entra: Entra,
    graph_server: tuple[Sandbox, GraphDirectory],
    monkeypatch: pytest.MonkeyPatch,
    cache_path: Path,
) -> None:
    box, directory = graph_server
    entra.expires_in = 60  # the signed-in access token is about to expire
    assert run("auth", "microsoft").exit_code == 0
    registry = (*surfaces.REGISTRY[:-1], ReadingProbe)
    for module in (surfaces, validation, session):
        monkeypatch.setattr(module, "REGISTRY", registry)
    entra.on_access = lambda token: directory.grant(token, PRESENCE)  # Graph knows new ones

    result = run("plan", ALIGNER_GRAPH_API_URL=f"{box.url}graph/v1.0/", ALIGNER_NOW=DURING)

    assert result.exit_code == 0, result.output
    assert entra.grant_types() == ["device_code", "refresh_token"]
    assert len(box.requests("graph", GET)) == 1
    assert box.requests("graph", GET)[0].status == 200
    assert list(directory.tokens) == [entra.issued[3]]  # the renewed token, the only one known
    assert entra.issued[4] in cache_path.read_text()  # the renewed refresh token was kept
    for token in entra.issued:
        assert token not in result.output
