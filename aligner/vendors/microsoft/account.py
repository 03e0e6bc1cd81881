"""The Microsoft 365 account the Microsoft surfaces act as: `aligner auth microsoft`, doctor.

Presence (the Teams status message) needs a work or school account; the calendar and mail work
with any Microsoft 365 mailbox. Outlook signatures cannot be themed: Microsoft Graph exposes no
API for them (they live in Outlook's own roaming settings), so aligner does not pretend to.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from aligner.core.doctor import Check
from aligner.state.settings import Settings
from aligner.surfaces.base import Account, AccountNeeds, AuthFlow
from aligner.vendors.microsoft.settings import MicrosoftSettings

if TYPE_CHECKING:
    from aligner.sandbox.seed import SandboxSeed

NAME = "microsoft"


class MicrosoftAccount(Account):
    name = NAME
    title = "Microsoft 365"
    settings = MicrosoftSettings

    def auth(self) -> AuthFlow | None:
        return None  # TODO(issue 16): device code and --browser

    def doctor(
        self, settings: Settings, scopes: Mapping[str, Sequence[str]], needs: AccountNeeds
    ) -> Iterator[Check]:
        return iter(())  # TODO(issue 16)

    def seed(self, box: SandboxSeed) -> None:
        from aligner.sandbox.microsoft.common import seed_account

        seed_account(box)

    def sandbox_env(self, url: str) -> dict[str, str]:
        from aligner.sandbox.microsoft.common import sandbox_env

        return sandbox_env(url)


MICROSOFT = MicrosoftAccount()
