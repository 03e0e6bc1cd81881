"""The `[calendar]` section of the theme file and its `[[calendar.blocks]]`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from aligner.theme.schema import Section, TimeText, provider_named, slugify


class CalendarBlock(Section):
    id: str | None = None
    title: str
    start: TimeText
    duration: str = "1h"
    description: str = ""
    visibility: Literal["default", "public", "private", "confidential"] | None = None

    @property
    def key(self) -> str:
        return slugify(self.id or self.title)


class CalendarSection(Section):
    enabled: bool = False
    # where the blocks go: Google Calendar, or Outlook through Microsoft Graph (schema 2)
    provider: Literal["google", "microsoft"] = Field(
        default="google", json_schema_extra={"since": 2}
    )
    calendar_id: str = "primary"
    event_type: Literal["focusTime", "default"] = "focusTime"
    auto_decline: Literal[
        "declineNone", "declineAllConflictingInvitations", "declineOnlyNewConflictingInvitations"
    ] = "declineOnlyNewConflictingInvitations"
    decline_message: str = "Heads-down on {{ theme.name }}"
    chat_status: Literal["doNotDisturb", "available"] = "doNotDisturb"
    visibility: Literal["default", "public", "private", "confidential"] = "private"
    blocks: tuple[CalendarBlock, ...] = ()

    @field_validator("provider", mode="before")
    @classmethod
    def _provider(cls, value: object) -> object:
        return provider_named(
            value,
            {
                "outlook": "microsoft",
                "office365": "microsoft",
                "gmail": "google",
                "google": "google",
            },
            "calendar",
        )
