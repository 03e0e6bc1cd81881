"""The GitHub account: its settings, `aligner auth github`, and what `aligner doctor` checks.

`aligner auth github` reads a personal access token from standard input (or a hidden prompt),
checks it with `query { viewer { login } }`
(https://docs.github.com/en/graphql/reference/queries#viewer) and stores it with mode 0600.
A classic token must carry the `user` scope, which GitHub lists in the X-OAuth-Scopes header
(https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps); a
fine-grained token lists no scopes, so aligner cannot check its permissions ahead of a write.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aligner.core.doctor import Check, fail, ok, token_check
from aligner.errors import AuthError, SurfaceError
from aligner.state.credentials import (
    chosen_store,
    keep_credential,
    shadowed_by_environment,
    write_private,
)
from aligner.state.settings import Settings
from aligner.surfaces.base import STORE_OPTION, Account, AccountNeeds, AuthFlow, AuthTalk
from aligner.surfaces.github_status.settings import TOKEN_FILE, GitHubSettings
from aligner.theme.schema import ThemeConfig

if TYPE_CHECKING:
    from aligner.sandbox.seed import SandboxSeed

NAME = "github"
VIEWER = "query { viewer { login } }"
FINE_GRAINED_NOTE = (
    "GitHub lists no scopes for this token (a fine-grained token?): it needs the account "
    "permission Profile (read and write)"
)


@dataclass(frozen=True)
class GitHubIdentity:
    login: str
    scopes: tuple[str, ...] | None  # None: GitHub listed none (a fine-grained token)


def inspect_token(settings: GitHubSettings, token: str) -> GitHubIdentity:
    """`viewer { login }`: who the token is, and its scopes (from X-OAuth-Scopes)."""
    from aligner.surfaces.github_status.client import GraphQL

    answer = GraphQL(settings.github_api_url, token, NAME)(VIEWER)
    viewer = answer.data.get("viewer") or {}
    return GitHubIdentity(str(viewer.get("login") or "?"), answer.scopes)


def missing_scopes(identity: GitHubIdentity, needed: Sequence[str]) -> list[str]:
    if identity.scopes is None:
        return []
    return [s for s in needed if s not in identity.scopes]


def require_usable(identity: GitHubIdentity, needed: Sequence[str]) -> None:
    missing = missing_scopes(identity, needed)
    if missing:
        raise AuthError(
            f"the GitHub token lacks the {', '.join(missing)} scope: create a classic token with "
            "it (or a fine-grained one with Profile: read and write) and run `aligner auth "
            "github` again",
            NAME,
        )


def store_token(settings: GitHubSettings, token: str) -> Path:
    path = settings.credentials_dir / TOKEN_FILE
    write_private(path, token + "\n")
    return path


class GitHubAuth(AuthFlow):
    help = (
        "Store a GitHub personal access token (read from standard input or a hidden prompt), "
        "checked with viewer { login }."
    )
    options = (STORE_OPTION,)

    def run(
        self,
        talk: AuthTalk,
        settings: Settings,
        config: ThemeConfig | None,
        scopes: Sequence[str],
        options: Mapping[str, Any],
    ) -> bool:
        github = settings.part(GitHubSettings)
        store = chosen_store(options.get("store"))
        token = talk.secret("GitHub personal access token (classic, with the user scope)")
        talk.keep_secret(token)
        if not token:
            raise AuthError("no token given: paste a GitHub personal access token", NAME)
        identity = inspect_token(github, token)
        require_usable(identity, list(scopes) or ["user"])
        where = keep_credential(
            github.credentials_dir,
            "github_token",
            TOKEN_FILE,
            token,
            store,
        )
        talk.say(f"Stored the GitHub token for {identity.login} at {where}.")
        if identity.scopes is None:
            talk.warn(f"note: {FINE_GRAINED_NOTE}")
        shadowed = shadowed_by_environment(github, "github_token", "stored token")
        if shadowed:
            talk.warn(shadowed)
        return True


class GitHubAccount(Account):
    name = NAME
    title = "GitHub"
    settings = GitHubSettings

    def auth(self) -> AuthFlow:
        return GitHubAuth()

    def doctor(
        self, settings: Settings, scopes: Mapping[str, Sequence[str]], needs: AccountNeeds
    ) -> Iterator[Check]:
        github = settings.part(GitHubSettings)
        credentials = token_check(NAME, "GitHub", github, "github_token")
        yield credentials
        token = github.github_token
        if credentials.failed or token is None:
            return
        try:
            identity = inspect_token(github, token.get_secret_value())
        except SurfaceError as exc:
            yield fail(
                f"{NAME}.works", f"viewer query failed: {exc}", "run `aligner auth github` again"
            )
            return
        yield ok(f"{NAME}.works", f"signed in to GitHub as {identity.login}")
        needed = list(dict.fromkeys(s for group in scopes.values() for s in group)) or ["user"]
        yield scope_check(identity, needed)

    def seed(self, box: SandboxSeed) -> None:
        from aligner.sandbox.github.service import seed_account

        seed_account(box)

    def sandbox_env(self, url: str) -> dict[str, str]:
        from aligner.sandbox.github.service import sandbox_env

        return sandbox_env(url)


def scope_check(identity: GitHubIdentity, needed: list[str]) -> Check:
    try:
        require_usable(identity, needed)
    except SurfaceError as exc:
        return fail(f"{NAME}.scopes", str(exc))
    if identity.scopes is None:
        return Check(f"{NAME}.scopes", "unknown", FINE_GRAINED_NOTE)
    return ok(f"{NAME}.scopes", f"token has {', '.join(needed)}")


GITHUB = GitHubAccount()
