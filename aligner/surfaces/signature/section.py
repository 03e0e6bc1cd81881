"""The `[signature]` section of the theme file."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from aligner.theme.schema import Section


class SignatureSection(Section):
    enabled: bool = False
    send_as: str | None = None
    mode: Literal["append", "replace"] = "append"
    html: str = "<div>{{ theme.name }}</div>"
    # Where the signature lives. "outlook" is accepted by the schema only so that `validate`
    # can say why it cannot be themed (see surface.py `check`); added in schema 2.
    provider: Literal["gmail", "outlook"] = Field(default="gmail", json_schema_extra={"since": 2})
