"""Nothing aligner writes names the company (or aligner): not even the markup around the theme,
whatever the theme's ids say, across the whole timeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aligner.sandbox.google.common import EMAIL
from aligner.sandbox.server import Sandbox
from aligner.surfaces.signature.html import find_theme_block, without_theme_blocks
from tests.conftest import AFTER, BASE_THEME, BEFORE, DURING, Aligner

COMPANY_THEME = (
    BASE_THEME.replace('id = "inference"', 'id = "acme-staff"')
    .replace('company = "Example Corp"', 'company = "Acme"')
    .replace('id = "latency"', 'id = "acme_latency"')
    .replace('id = "throughput"', 'id = "acme_throughput"')
    + """
[slack]
enabled = true
status_text = "{{ theme.name }}: {{ metrics.acme_latency | change }}"
status_emoji = ":rocket:"

[signature]
enabled = true
html = "<div>{{ theme.name }} · {{ metrics.acme_latency | change }}</div>"

[calendar]
enabled = true

[[calendar.blocks]]
id = "acme-prep"
title = "Focus: pipeline review"
start = "-20h"
duration = "1h"
"""
)


@pytest.fixture
def company(env: dict[str, str], tmp_path: Path, sandbox: Sandbox) -> Aligner:
    path = tmp_path / "theme.toml"
    path.write_text(COMPANY_THEME, encoding="utf-8")
    return Aligner(env, path, sandbox)


def test_ids_naming_the_company_validate_and_no_written_byte_names_it(
    company: Aligner, sandbox: Sandbox
) -> None:
    checked = company("validate")
    assert checked.exit_code == 0, checked.output
    assert "Acme" not in checked.output
    for now in (BEFORE, DURING, DURING, AFTER):
        result = company("apply", now=now)
        assert result.exit_code == 0, result.output
    writes = [
        r for service in ("slack", "gmail.settings") for r in sandbox.requests(service, writes=True)
    ]
    assert len(writes) >= 4
    for request in writes:
        body = request.body.decode().lower()
        assert "acme" not in body, request
        assert "aligner" not in body, request


def test_the_user_s_own_markup_is_read_too_and_named_by_its_field(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    path = tmp_path / "theme.toml"
    html = '<a href="https://acme.example/careers">{{ theme.name }}</a>'
    path.write_text(
        COMPANY_THEME.replace(
            'html = "<div>{{ theme.name }} · {{ metrics.acme_latency | change }}</div>"',
            f"html = {json.dumps(html)}",
        ),
        encoding="utf-8",
    )
    result = Aligner(env, path, sandbox)("validate")
    assert result.exit_code == 2
    assert "signature.html: mentions “Acme”" in result.output


def test_blocks_marked_by_earlier_releases_are_still_found_and_removed(
    company: Aligner, sandbox: Sandbox
) -> None:
    gmail = sandbox.service("gmail.settings")
    original = gmail.signature(EMAIL)
    old = original + '<div class="aligner-theme" data-aligner-theme="acme-staff">old</div>'
    assert find_theme_block(old) is not None
    assert without_theme_blocks(old) == original
    gmail.set_signature(EMAIL, old)
    assert company("apply", now=DURING).exit_code == 0
    assert "old" not in gmail.signature(EMAIL).replace(original, "")
