"""Where secrets come from, and keeping credential files private.

Order (first wins): environment variables, a `.env` file in the current directory, the secrets
directory ALIGNER_SECRETS_DIR (one file per secret, named like the variable — `ALIGNER_SLACK_TOKEN`
or `aligner_slack_token` — as Docker and Kubernetes mount them), then the files `aligner auth`
wrote into ALIGNER_CREDENTIALS_DIR (default: the platform's user config dir), then the OS keychain
for the secrets `aligner auth … --store keyring` put there (through the optional `keyring`
package; a small `keyring.json` in the credentials dir lists which, so the keychain is asked
only for those and never on a machine that did not opt in).

Like ssh, aligner will not use a credential file that is yours and that group or others can
read. Such a secret becomes a `RefusedSecret`: it carries the fix instead of the value, and
reading it raises AuthError, so the surface that needs it fails with that message while the
others run. A source aligner cannot read at all (a folder it may not enter) is skipped and
remembered (`take_unreadable`, which the CLI prints as warnings): it is an error only for a
command that then lacks the credential. Path-valued credentials (a Google JSON file) are
checked where they are opened.
Files aligner writes are created with mode 0600 from the start.
"""

from __future__ import annotations

import importlib
import json
import os
import stat
import threading
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

from dotenv import dotenv_values
from platformdirs import user_config_path
from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
)

from aligner.errors import AuthError, ConfigError

ENV_PREFIX = "ALIGNER_"


def default_credentials_dir() -> Path:
    return user_config_path("aligner")


class RefusedSecret(SecretStr):
    """A secret found in a file others can read: it holds the fix, never the value."""

    def __init__(self, problem: str) -> None:
        super().__init__("")
        self.problem = problem

    def get_secret_value(self) -> str:
        raise AuthError(self.problem)


# -- sources that cannot be read ------------------------------------------------------------------

_unreadable: dict[str, None] = {}  # what was skipped, in order, once each
_unreadable_lock = threading.Lock()


def skipped(path: Path, exc: OSError) -> None:
    """Remember that a credential source could not be read (the CLI warns about it)."""
    why = exc.strerror or type(exc).__name__
    message = f"cannot read {path} ({why}); the credentials there are skipped"
    with _unreadable_lock:
        _unreadable[message] = None


def take_unreadable() -> list[str]:
    """The credential sources skipped so far, each once (and forget them)."""
    with _unreadable_lock:
        found = list(_unreadable)
        _unreadable.clear()
    return found


def is_readable_file(path: Path) -> bool:
    """`path.is_file()`, except that a folder aligner may not enter is skipped, not a crash."""
    try:
        return path.is_file()
    except OSError as exc:
        skipped(path.parent, exc)
        return False


# -- permissions --------------------------------------------------------------------------------


def exposure(path: Path) -> str | None:
    """Why `path` is not private (ssh's rule: yours and readable by group/others), else None."""
    try:
        info = path.stat()
    except OSError:
        return None
    mode = stat.S_IMODE(info.st_mode)
    if info.st_uid != os.getuid() or not mode & 0o077:
        return None
    return (
        f"permissions {mode:04o} for {path} are too open: aligner will not use a credential "
        f"file that group or others can read. Fix: chmod 600 {path}"
    )


def require_private(path: Path, surface: str = "") -> None:
    problem = exposure(path)
    if problem:
        raise AuthError(problem, surface)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, created with mode 0600 (never widened, never chmod-ed after)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def secrets_in_file(path: Path | None) -> list[str]:
    """The secret values inside a Google credentials JSON, so output can be scrubbed of them."""
    if path is None:
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict):
        return []
    keys = ("token", "refresh_token", "client_secret", "private_key", "private_key_id")
    return [str(data[k]) for k in keys if data.get(k)]


# -- the OS keychain (optional) -------------------------------------------------------------------

KEYRING_SERVICE = "aligner"
KEYRING_INDEX = "keyring.json"  # which settings live in the keychain (names only, no secrets)


def _keyring() -> Any:
    """The `keyring` package, imported only when the keychain is used."""
    try:
        return importlib.import_module("keyring")
    except ImportError:
        raise AuthError(
            "--store keyring needs the keyring package (pip install keyring); "
            "or leave --store out to keep the credential in a private file"
        ) from None


def keyring_names(folder: Path) -> list[str]:
    try:
        names = json.loads((folder / KEYRING_INDEX).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        skipped(folder / KEYRING_INDEX, exc if isinstance(exc, OSError) else OSError(0, "damaged"))
        return []
    return [str(n) for n in names] if isinstance(names, list) else []


def store_in_keyring(folder: Path, name: str, value: str) -> str:
    """Keep setting `name` in the OS keychain; returns where, for the person."""
    keyring = _keyring()
    try:
        keyring.set_password(KEYRING_SERVICE, ENV_PREFIX + name.upper(), value)
    except Exception as exc:  # keyring.errors.KeyringError, NoKeyringError, a backend's own
        raise AuthError(
            f"the OS keychain refused the credential ({type(exc).__name__}: {exc}); on a "
            "machine without a keychain leave --store out to keep it in a private file"
        ) from None
    names = keyring_names(folder)
    if name not in names:
        write_private(folder / KEYRING_INDEX, json.dumps([*names, name]) + "\n")
    return f"the OS keychain (service {KEYRING_SERVICE!r}, {ENV_PREFIX + name.upper()})"


STORES = ("file", "keyring")


def chosen_store(value: object) -> str:
    """`--store` as given (checked before any sign-in starts): "file" or "keyring"."""
    store = str(value or "file")
    if store not in STORES:
        raise ConfigError(f"--store: {store!r} is not one of {', '.join(STORES)}")
    return store


def keep_credential(folder: Path, name: str, filename: str, value: str, store: str) -> str:
    """Store a credential `aligner auth` got where the person asked (`--store`): a private file
    (the default) or the OS keychain. Returns where, for the message. A token file an earlier
    `aligner auth` wrote would win over the keychain, so storing in the keychain removes it."""
    if store == "keyring":
        where = store_in_keyring(folder, name, value)
        (folder / filename).unlink(missing_ok=True)
        return where
    path = folder / filename
    write_private(path, value + "\n")
    return f"{path} (mode 0600)"


def read_keyring(folder: Path, name: str) -> str | None:
    """A secret `aligner auth --store keyring` kept, or None (a missing keychain is skipped)."""
    try:
        value = _keyring().get_password(KEYRING_SERVICE, ENV_PREFIX + name.upper())
    except Exception as exc:
        skipped(folder / KEYRING_INDEX, OSError(0, f"the OS keychain: {exc}"))
        return None
    return str(value) if value else None


# -- settings sources ---------------------------------------------------------------------------


def _types(field: FieldInfo) -> tuple[Any, ...]:
    return get_args(field.annotation) or (field.annotation,)


def _is_secret(field: FieldInfo) -> bool:
    return SecretStr in _types(field)


def _is_path(field: FieldInfo) -> bool:
    return Path in _types(field)


def find_secret_file(folder: Path, name: str) -> Path | None:
    """The file for setting `name` in a secrets folder: `ALIGNER_NAME`, any letter case."""
    wanted = (ENV_PREFIX + name).lower()
    try:
        entries = sorted(folder.iterdir())
    except FileNotFoundError:
        return None
    except OSError as exc:
        skipped(folder, exc)
        return None
    return next((p for p in entries if p.name.lower() == wanted and is_readable_file(p)), None)


def _file_value(path: Path, field: FieldInfo) -> Any:
    """A path setting names the file itself; a secret is the file's text, unless exposed."""
    if _is_path(field):
        return path
    if _is_secret(field):
        problem = exposure(path)
        if problem:
            return RefusedSecret(problem)
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        skipped(path, exc if isinstance(exc, OSError) else OSError(0, "not UTF-8 text"))
        return None


class SecretFilesSource(PydanticBaseSettingsSource):
    """Secrets from files: the ALIGNER_SECRETS_DIR folder, or the files `aligner auth` wrote."""

    def __init__(self, settings_cls: type[BaseSettings], kind: str) -> None:
        super().__init__(settings_cls)
        self.kind = kind  # "secrets_dir" | "auth_files" | "keyring"

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads every file at once

    def __call__(self) -> dict[str, Any]:
        fields = self.settings_cls.model_fields
        found: dict[str, Any] = {}
        if self.kind == "keyring":
            folder = Path(self.current_state.get("credentials_dir") or default_credentials_dir())
            for name in keyring_names(folder):
                if name in getattr(self.settings_cls, "auth_files", {}) and name in fields:
                    value = read_keyring(folder, name)
                    if value:
                        found[name] = value
            return found
        for name, path in self._files():
            if name in fields and path is not None:
                value = _file_value(path, fields[name])
                if value is not None:
                    found[name] = value
        return found

    def _files(self) -> Iterator[tuple[str, Path | None]]:
        if self.kind == "secrets_dir":
            folder = self.current_state.get("secrets_dir")
            if folder:
                for name in getattr(self.settings_cls, "secret_file_fields", ()):
                    yield name, find_secret_file(Path(folder), name)
            return
        folder = Path(self.current_state.get("credentials_dir") or default_credentials_dir())
        for name, filename in getattr(self.settings_cls, "auth_files", {}).items():
            path = folder / filename
            yield name, path if is_readable_file(path) else None


@lru_cache(maxsize=64)
def _variables(
    settings_cls: type[BaseSettings], prefix: str, case_sensitive: bool
) -> dict[str, str] | None:
    """Each field of `settings_cls` by the variable that sets it (None: a field has an alias)."""
    names = {}
    for name, field in settings_cls.model_fields.items():
        if field.alias or field.validation_alias:
            return None
        names[prefix + name if case_sensitive else (prefix + name).lower()] = name
    return names


def _field_variables(source: EnvSettingsSource) -> dict[str, str] | None:
    """Each field by its variable, when those variables are all `source` can give (variables
    that are no field are ignored, the prefix is on field names, no field has an alias)."""
    if source.config.get("extra") != "ignore":
        return None
    if getattr(source, "env_prefix_target", "variable") != "variable":
        return None
    return _variables(source.settings_cls, source.env_prefix, bool(source.case_sensitive))


def _none_set(source: EnvSettingsSource) -> bool:
    """True when no variable of `source` can set a field that an earlier source left unset.

    pydantic-settings then returns nothing that counts, but only after analysing every field's
    type, which is most of what reading a settings part costs (every command reads every
    vendor's part). An earlier source wins anyway."""
    fields = _field_variables(source)
    if fields is None:
        return False
    given = source.current_state
    return not any(fields.get(variable) not in (None, *given) for variable in source.env_vars)


PLAIN_TYPES = (str, int, float, bool, Path, SecretStr, type(None))


def _is_plain(annotation: Any) -> bool:
    """One plain value (text, number, path, secret), or a union of them (`str | None`)."""
    if get_origin(annotation) in (Union, UnionType):
        return all(_is_plain(a) for a in get_args(annotation))
    return annotation in PLAIN_TYPES


@lru_cache(maxsize=64)
def _all_plain(settings_cls: type[BaseSettings]) -> bool:
    return all(_is_plain(f.annotation) for f in settings_cls.model_fields.values())


def _plain_values(source: EnvSettingsSource) -> dict[str, Any] | None:
    """What the environment gives `source`'s fields when every field is plain: pydantic-settings
    then hands a set variable's text to validation as it is, after analysing every field's type
    (which is most of what reading a settings part costs). None when a setting of the source
    or a field's type needs that analysis."""
    fields = _field_variables(source)
    if (
        not fields
        or source.env_parse_none_str is not None
        or source.env_ignore_empty
        or not _all_plain(source.settings_cls)
    ):
        return None
    return {fields[k]: v for k, v in source.env_vars.items() if k in fields}


class EnvSource(EnvSettingsSource):
    """The environment (ALIGNER_*), as pydantic-settings reads it."""

    def __call__(self) -> dict[str, Any]:
        if _none_set(self):
            return {}
        plain = _plain_values(self)
        return plain if plain is not None else super().__call__()


class PrivateDotEnvSource(DotEnvSettingsSource):
    """The `.env` source, refusing the secrets of a `.env` file others can read."""

    def __call__(self) -> dict[str, Any]:
        if _none_set(self):
            return {}
        try:
            data = super().__call__()
        except OSError as exc:  # a `.env` aligner may not read: skipped, like any other source
            skipped(Path(".env"), exc)
            return {}
        problem = next(filter(None, (exposure(p) for p in self._env_paths())), None)
        if problem:
            fields = self.settings_cls.model_fields
            for name in list(data):
                if name in fields and _is_secret(fields[name]):
                    data[name] = RefusedSecret(problem)
        return data

    def _env_paths(self) -> list[Path]:
        files = self.env_file
        if files is None:
            return []
        items = [files] if isinstance(files, str | os.PathLike) else list(files)
        return [Path(f).expanduser() for f in items if is_readable_file(Path(f).expanduser())]


# -- provenance ---------------------------------------------------------------------------------


def origin(settings: Any, name: str) -> str:
    """Where setting `name` of a settings part came from, in the order it was read (`doctor`)."""
    variable = ENV_PREFIX + name.upper()
    if any(key.upper() == variable for key in os.environ):
        return f"${variable}"
    env_file = Path(".env")
    if is_readable_file(env_file) and any(
        (k or "").upper() == variable for k in dotenv_values(env_file)
    ):
        return f".env ({variable})"
    if settings.secrets_dir:
        path = find_secret_file(Path(settings.secrets_dir), name)
        if path is not None:
            return str(path)
    auth_files = getattr(settings, "auth_files", {})
    if name in auth_files:
        path = Path(settings.credentials_dir) / auth_files[name]
        if is_readable_file(path):
            return f"{path} (from `aligner auth`)"
        if name in keyring_names(Path(settings.credentials_dir)):
            return "the OS keychain (from `aligner auth --store keyring`)"
    return "default"


def shadowed_by_environment(settings: Any, name: str, stored: str) -> str | None:
    """The note `aligner auth` prints when setting `name` comes from the environment or `.env`,
    which wins over the `stored` credential it just saved; None when nothing shadows it."""
    if not origin(settings, name).startswith(("$", ".env")):
        return None
    variable = ENV_PREFIX + name.upper()
    return (
        f"note: {variable} is set in the environment or .env and wins over the {stored}; "
        "unset it to use this one"
    )
