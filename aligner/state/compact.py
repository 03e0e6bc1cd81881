"""One journal row holds a value once: `before` is kept as the edits that turn `after` into it.

A signature's HTML appears in both columns of its rows (appending a block keeps the original
inside the new value; giving back keeps it inside the old one), so storing both in full would
hold it twice per row. A compact text starts with "@", which no JSON text does.
"""

from __future__ import annotations

import json
from difflib import SequenceMatcher

_WORTH_IT = 256  # shorter texts are stored as they are
_TOO_LONG = 200_000  # beyond this, finding the edits costs more than the bytes saved


def compact(text: str, base: str) -> str:
    """`text` as copies out of `base` plus the pieces that differ, when that is shorter."""
    if len(text) < _WORTH_IT or len(text) + len(base) > _TOO_LONG:
        return text
    ops: list[str | list[int]] = []
    matcher = SequenceMatcher(None, base, text, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            ops.append([i1, i2])
        elif j2 > j1:
            ops.append(text[j1:j2])
    packed = "@" + json.dumps(ops, ensure_ascii=False, separators=(",", ":"))
    return packed if len(packed) < len(text) else text


def expand(text: str, base: str | None) -> str:
    """The text `compact` was given back (raise ValueError if it does not fit `base`)."""
    if not text.startswith("@"):
        return text
    if base is None:
        raise ValueError("a compacted value without the value it refers to")
    parts = []
    for op in json.loads(text[1:]):
        if isinstance(op, str):
            parts.append(op)
        elif isinstance(op, list) and len(op) == 2 and 0 <= op[0] <= op[1] <= len(base):
            parts.append(base[op[0] : op[1]])
        else:
            raise ValueError(f"a damaged compacted value ({op!r})")
    return "".join(parts)
