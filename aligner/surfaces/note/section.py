"""The `[note]` section of the theme file."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from aligner.theme.schema import Section, TimeText, provider_named


class NoteSection(Section):
    enabled: bool = False
    delivery: Literal["draft", "send"] = "draft"
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    subject: str = "Tomorrow: {{ theme.name }}"
    body: str = ""
    send_at: TimeText = "-16h"
    include_signature: bool = True
    # deliver again after the interview's company or time changed (added in schema 2)
    resend: bool = Field(default=False, json_schema_extra={"since": 2})
    # where the note is drafted and sent from: Gmail, or Outlook through Microsoft Graph
    provider: Literal["gmail", "outlook"] = Field(default="gmail", json_schema_extra={"since": 2})

    @field_validator("provider", mode="before")
    @classmethod
    def _provider(cls, value: object) -> object:
        return provider_named(
            value,
            {
                "microsoft": "outlook",
                "office365": "outlook",
                "google": "gmail",
                "outlook": "outlook",
            },
            "note",
        )
