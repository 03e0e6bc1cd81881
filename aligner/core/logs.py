"""Logging for `aligner run`: one line per event on stderr, text or JSON, never a secret.

Every record names an `event` (a short word such as ``changed`` or ``reconciled``) and may carry
`fields` for log collectors. Known secret values are replaced by ``****`` in every line, and a
record can never span lines (an exception becomes ``Type: message`` on the same line).

    log = setup_logging("json", settings.secret_values())
    emit(log, "changed", "slack set status: …", surface="slack")
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from aligner.core.model import ApplyResult

LOGGER_NAME = "aligner.run"
LogFormat = Literal["text", "json"]
MASK = "****"


class Scrubber:
    """Replaces every known secret value; values shorter than 4 characters are not secrets."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


class EventFormatter(logging.Formatter):
    """Base: gathers event, message and fields, scrubbed and on one line."""

    def __init__(self, scrub: Scrubber) -> None:
        super().__init__()
        self.scrub = scrub

    def parts(self, record: logging.LogRecord) -> tuple[str, str, dict[str, Any]]:
        event = getattr(record, "event", None) or record.name.rsplit(".", 1)[-1]
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            message = f"{message} ({type(error).__name__}: {error})"
        fields = dict(getattr(record, "fields", None) or {})
        clean = {k: self._clean(v) for k, v in fields.items()}
        return event, self.scrub(_one_line(message)), clean

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub(_one_line(value))
        if isinstance(value, list | tuple):
            return [self._clean(v) for v in value]
        if isinstance(value, dict):
            return {str(k): self._clean(v) for k, v in value.items()}
        if value is None or isinstance(value, bool | int | float):
            return value
        return self.scrub(_one_line(str(value)))

    @staticmethod
    def timestamp(record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(EventFormatter):
    """`2026-12-02T20:00:00.012Z info  changed: slack set status: …`"""

    def format(self, record: logging.LogRecord) -> str:
        event, message, _ = self.parts(record)
        level = record.levelname.lower()
        return self.scrub(f"{self.timestamp(record)} {level:<5} {event}: {message}")


class JsonFormatter(EventFormatter):
    """`{"ts": "…", "level": "info", "event": "changed", "message": "…", …fields}`"""

    def format(self, record: logging.LogRecord) -> str:
        event, message, fields = self.parts(record)
        body = {
            "ts": self.timestamp(record),
            "level": record.levelname.lower(),
            "event": event,
            "message": message,
            **{k: v for k, v in fields.items() if k not in ("ts", "level", "event", "message")},
        }
        return self.scrub(json.dumps(body, ensure_ascii=False))


def setup_logging(
    log_format: LogFormat, secrets: Iterable[str], stream: TextIO | None = None
) -> logging.Logger:
    """The daemon's logger; APScheduler's own warnings go to the same stream, same format."""
    scrub = Scrubber(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(scrub) if log_format == "json" else TextFormatter(scrub))
    log = logging.getLogger(LOGGER_NAME)
    for name, level in ((LOGGER_NAME, logging.INFO), ("apscheduler", logging.WARNING)):
        target = logging.getLogger(name)
        target.handlers[:] = [handler]
        target.setLevel(level)
        target.propagate = False
    return log


def emit(
    log: logging.Logger, event: str, message: str, level: int = logging.INFO, /, **fields: Any
) -> None:
    """Log one event line."""
    log.log(level, "%s", message, extra={"event": event, "fields": fields})


def log_apply(
    log: logging.Logger, result: ApplyResult, why: str, already_said: frozenset[str] = frozenset()
) -> frozenset[str]:
    """One line per failure, change and notice of an apply, then a summary line.

    Notices and conflicts in `already_said` (the last reconcile's) are not repeated; returns
    this reconcile's, to pass next time.
    """
    said = set()
    for name, error in result.plan.errors.items():
        emit(log, "failed", f"{name}: {error}", logging.ERROR, surface=name)
    for outcome in result.outcomes:
        change = outcome.change
        what = f"{change.surface} {change.action} {change.key}"
        fields = {"surface": change.surface, "action": change.action, "key": change.key}
        if not outcome.ok:
            emit(log, "failed", f"{what}: {outcome.detail}", logging.ERROR, **fields)
        elif change.writes:
            emit(log, "changed", f"{what}: {change.summary}", **fields)
        elif f"{what}: {change.summary}" in already_said:
            said.add(f"{what}: {change.summary}")
        elif change.is_conflict:
            said.add(f"{what}: {change.summary}")
            emit(log, "conflict", f"{what}: {change.summary}", logging.WARNING, **fields)
        else:
            said.add(f"{what}: {change.summary}")
            emit(log, "notice", f"{what}: {change.summary}", **fields)
    written, failed = len(result.written), sorted(result.failed)
    message = f"{why}: phase {result.plan.phase}, {written} change{'s' if written != 1 else ''}"
    message += f" applied, failed: {', '.join(failed)}" if failed else " applied"
    if result.plan.reverted_at:
        message += f"; reverted since {result.plan.reverted_at} (`aligner resume` lifts it)"
    emit(
        log,
        "reconciled",
        message,
        reason=why,
        phase=result.plan.phase,
        written=written,
        failed=failed,
        reverted_at=result.plan.reverted_at,
    )
    return frozenset(said)
