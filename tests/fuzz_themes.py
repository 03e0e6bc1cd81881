"""Generated and mutated theme files, and a fuzz run of them through `validate` and `plan`.

    python -m tests.fuzz_themes --count 2000 [--seed N] [--jobs N]

Each theme runs in a forked child (so a hang or a memory blow-up cannot take the run down) under
a 10 s timeout, against one sandbox. It prints how many runs were internal errors (exit 1 with
"internal error" or a traceback), hangs (over 10 s) and over 500 MB of memory; the target is
0/0/0. `tests/unit/test_theme_fuzz.py` draws from the same fragments with Hypothesis.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

Pick = Callable[[Sequence[str]], str]  # chooses one option; the first one is a sound value

NUMBERS = ["28", "0", "-5", "1e15", "1e16", "-1e300", "nan", "inf", "-inf", "0.000001", "3400"]
NUMBERS += ["99999999999999999999999", "1.5", '"12"', "true"]
TIMES = ["2026-12-03T10:00", "2026-12-03T18:00Z", "9999-12-31T23:30", "0001-01-01T00:00:00"]
TIMES += ["1970-01-01T00:00Z", "2200-12-31T23:59", "2026-03-08T02:30", "2026-12-03", "soon"]
TIMES += ["-24h", "+1h", "-99999999999d", "-2h30m", "+0s", "-366d", "-367d", "-9999999w", ""]
TIMES += ["2026-12-03T10:00+14:00", "2026-13-03T10:00", "-1d", "+99999999999999999999999h"]
DURATIONS = ["1h", "90m", "0m", "-1h", "99999999999d", "366d", "367d", "1w", "x", "", "2h30m"]
ZONES = ["America/Los_Angeles", "UTC", "America", "A" * 5000, "Europe/Berlin", "../../etc/passwd"]
ZONES += ["", "Etc/GMT+14", "\u00e9t\u00e9", "America/Los_Angeles/", "posixrules", "\u0000"]
TEMPLATES = ["{{ theme.name }}", "{{ metrics.latency | change }}", "{{ 1/0 }}"]
TEMPLATES += ["{% include 'x' %}", "{% import 'x' as y %}", "{{ theme.name|truncate(-5) }}"]
TEMPLATES += ["{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "{{ 'a' * 10**10 }}"]
TEMPLATES += ["{{ '{:999999999}'.format(1) }}", "{{ '%999999999d' % 1 }}", "{{ x }}", "{{"]
TEMPLATES += ["{{ interview.starts_at.tzinfo.from_file }}", "{{ interview.starts_at | local }}"]
TEMPLATES += ["{{ 'x'|center(10**9) }}", "{{ 10**10**10 }}", "{{ metrics }}", "{{ range(10) }}"]
TEMPLATES += ["{{ window.end | local('%') }}", "{{ interview.starts_at | local(5) }}", "\ud7ff"]
TEMPLATES += ["{{ metrics.latency.before // 0 }}", "{{ (2**4000) * (2**4000) }}", "{{ -1|pct }}"]
TEMPLATES += ["{{ metrics.latency | delta }} {{ metrics.throughput | pct }}", "\u202e\u0000"]
TEMPLATES += ["{{ ''.join }}", "{{ 'abc'[::-1] }}", "{{ [1,2]|sum(start=[]) }}", "{% set %}"]
TEMPLATES += ["{{ lipsum(5) }}", "{{ namespace() }}", "{{ 'x'|wordwrap(-1) }}", "{{ 1e308*10 }}"]
TEMPLATES += ["{{ 'x'|indent(999999999) }}", "{{ '%*d' % (999999999, 1) }}", "{{ {}.x }}"]
SLOW_TEMPLATES = [  # each stops at the 2 s deadline or the 64 KiB output cap
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
]
WORDS = ["x", "", "Example Corp", "interview", "a" * 300, "\U0001f680", '"', "\\", "\n"]


def quoted(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def theme_text(pick: Pick, templates: Sequence[str] = TEMPLATES) -> str:
    """One theme file built from the fragments above."""
    text = f"""
[theme]
name = {quoted(pick(["Optimizing inference", "", "x" * 5000]))}
emoji = ":rocket:"
timezone = {quoted(pick(ZONES))}
discretion = {quoted(pick(["off", "warn", "error"]))}

[interview]
company = {quoted(pick(WORDS))}
starts_at = {quoted(pick(TIMES))}
ends_at = {quoted(pick(["+1h", *TIMES]))}

[window]
start = {quoted(pick(["-24h", *TIMES]))}

[[metrics]]
id = {quoted(pick(["latency", "Latency", "x"]))}
label = "p50 latency"
before = {pick(NUMBERS)}
after = {pick(["19", *NUMBERS])}
unit = {quoted(pick(["ms", "%", "$", ""]))}
better = {quoted(pick(["lower", "higher", "more"]))}

[[metrics]]
id = "throughput"
label = "throughput"
before = {pick(["3400", *NUMBERS])}
after = 4700
better = "higher"

[slack]
enabled = {pick(["true", "false"])}
status_text = {quoted(pick(templates) + pick(WORDS))}
status_emoji = {quoted(pick([":rocket:", "{{ theme.emoji }}", "rocket", *templates]))}

[calendar]
enabled = {pick(["false", "true"])}
decline_message = {quoted(pick(templates))}

[[calendar.blocks]]
title = {quoted(pick(["Focus", *templates]))}
start = {quoted(pick(["-2h", *TIMES]))}
duration = {quoted(pick(DURATIONS))}
description = {quoted(pick(templates))}

[signature]
enabled = {pick(["false", "true"])}
html = {quoted("<div>" + pick(templates) + "</div>")}
"""
    return text


def mutated(text: str, rng: random.Random) -> str:
    """Some random bytes of damage: most of these are no longer TOML, which must be exit 2 too."""
    chars = list(text)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(chars))
        action = rng.choice(["delete", "insert", "swap"])
        if action == "delete":
            del chars[at]
        elif action == "insert":
            chars.insert(at, rng.choice(["{", "}", '"', "=", "[", "\n", "9", "-", "%", "\\"]))
        else:
            chars[at] = rng.choice("0123456789-+:dhmswT")
    return "".join(chars)


def generate(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)

    def pick(options: Sequence[str]) -> str:  # mostly sound, so that deep checks are reached
        return options[0] if rng.random() < 0.9 else rng.choice(options)

    themes = []
    for index in range(count):
        templates = TEMPLATES + SLOW_TEMPLATES if index % 50 == 0 else TEMPLATES
        text = theme_text(pick, templates)
        themes.append(mutated(text, rng) if index % 4 == 3 else text)
    return themes


# -- the run ----------------------------------------------------------------------------------

TIMEOUT_S = 10.0
MEMORY_LIMIT = 500 * 1024 * 1024
HARD_LIMIT = 2 * 1024 * 1024 * 1024  # the address-space cap that protects this machine


def _child(theme: Path, env: dict[str, str], out: Path) -> None:
    """Runs in the forked child: validate then plan, in-process; writes what happened."""
    from click.testing import CliRunner  # imported once by the parent, before forking

    from aligner.cli import cli

    resource.setrlimit(resource.RLIMIT_AS, (HARD_LIMIT, HARD_LIMIT))
    lines = []
    for args in (["validate"], ["plan", "--at", "-2h"]):
        result = CliRunner().invoke(cli, [*args, "--config", str(theme)], env=env)
        text = result.output + (result.stderr if result.stderr_bytes is not None else "")
        bad = "internal error" in text or "Traceback" in text or result.exit_code not in (0, 2)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            bad = True
        lines.append(f"{args[0]} {result.exit_code} {'BAD' if bad else 'ok'} {text[-300:]!r}")
    out.write_text("\n".join(lines), encoding="utf-8")


def _run_one(theme: Path, env: dict[str, str], folder: Path) -> tuple[str, str]:
    """('ok' | 'internal' | 'hang' | 'memory', detail), where an ok detail is the exit codes."""
    out = folder / "result.txt"
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            _child(theme, env, out)
        except BaseException:
            code = 3
        os._exit(code)
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.wait4(pid, 0)
            return "hang", theme.read_text(encoding="utf-8")[:300]
        time.sleep(0.01)
    if usage.ru_maxrss * 1024 > MEMORY_LIMIT:
        return "memory", f"{usage.ru_maxrss // 1024} MB"
    detail = out.read_text(encoding="utf-8") if out.exists() else f"child died: {status}"
    if " BAD " in detail or not out.exists():
        return "internal", detail
    return "ok", " ".join(line.split()[1] for line in detail.splitlines())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--show", type=int, default=5, help="Examples to print per kind.")
    args = parser.parse_args(argv)

    import click.testing  # noqa: F401  (so that every forked child starts with it)

    import aligner.cli  # noqa: F401
    from aligner.sandbox.seed import SANDBOX_ENV, seeded_sandbox

    counts: Counter[str] = Counter()
    exits: Counter[str] = Counter()  # validate's and plan's exit codes, e.g. "0 0" or "2 2"
    shown: Counter[str] = Counter()
    started = time.monotonic()
    with seeded_sandbox() as box, tempfile.TemporaryDirectory() as tmp:
        for index, text in enumerate(generate(args.count, args.seed)):
            folder = Path(tmp) / str(index)
            folder.mkdir()
            theme = folder / "theme.toml"
            theme.write_text(text, encoding="utf-8", errors="surrogatepass")
            env = {
                **SANDBOX_ENV(box.url),
                "ALIGNER_STATE_DIR": str(folder / "state"),
                "ALIGNER_CREDENTIALS_DIR": str(folder / "no-credentials"),
                "ALIGNER_NOW": "2026-12-02T20:00:00Z",
            }
            kind, detail = _run_one(theme, env, folder)
            counts[kind] += 1
            if kind == "ok":
                exits[detail] += 1
            elif shown[kind] < args.show:
                shown[kind] += 1
                print(f"--- {kind} #{index}: {detail}", file=sys.stderr)
    elapsed = time.monotonic() - started
    print(
        f"{args.count} themes (validate + plan) in {elapsed:.0f} s: "
        f"{counts['internal']} internal errors, {counts['hang']} hangs (>{TIMEOUT_S:g} s), "
        f"{counts['memory']} over {MEMORY_LIMIT // 2**20} MB"
    )
    codes = ", ".join(f"{n} × {code}" for code, n in exits.most_common())
    print(f"exit codes of (validate, plan) among the rest: {codes}")
    return 1 if counts["internal"] or counts["hang"] or counts["memory"] else 0


if __name__ == "__main__":
    sys.exit(main())
