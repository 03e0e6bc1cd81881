"""Discretion: surfaces your current workplace can see must not give the interview away."""

from __future__ import annotations

import re

from aligner.theme.findings import Finding
from aligner.theme.schema import ThemeConfig


def leaks(config: ThemeConfig, text: str) -> list[str]:
    """The giveaway words `text` contains: the interview company, or 'interview'.

    Spacing and punctuation inside the company name do not hide it: "Example Corp" is also
    found as "ExampleCorp", "Example-Corp" or "example  corp".
    """
    found = []
    words = ["interview"]
    if config.interview.company.strip():
        words.append(config.interview.company.strip())
    for word in words:
        parts = [re.escape(part) for part in re.split(r"[\W_]+", word) if part]
        pattern = r"(?<![^\W_])" + r"[\W_]*".join(parts)
        if parts and re.search(pattern, text, flags=re.IGNORECASE):
            found.append(word)
    return found


def discretion_findings(
    config: ThemeConfig, field: str, text: str, why: str, *, markup: str = ""
) -> list[Finding]:
    """Findings for what the person wrote in `field`: the `text` a viewer sees and, for HTML,
    the raw `markup` that is sent (links, alt texts and attributes are read too). Pass only what
    the person's own template produced: what aligner adds around it is aligner's to keep clean."""
    mode = config.theme.discretion
    if mode == "off":
        return []
    words = leaks(config, text)
    words += [word for word in leaks(config, markup) if word not in words]
    if not words:
        return []
    quoted = " and ".join(f"“{w}”" for w in words)
    allow = (
        'allowed by [theme] discretion = "warn"'
        if mode == "warn"
        else 'set [theme] discretion = "warn" or "off" to allow it'
    )
    message = f"mentions {quoted}: {why}, usually including your current employer ({allow})"
    return [Finding(field, message, "warning" if mode == "warn" else "error")]
