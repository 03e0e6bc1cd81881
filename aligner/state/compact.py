"""One journal row holds a value once: `before` is kept as the edits that turn `after` into it.

A signature's HTML appears in both columns of its rows (appending a block keeps the original
inside the new value; giving back keeps it inside the old one), so storing both in full would
hold it twice per row. A compact text starts with "@", which no JSON text does.
"""

from __future__ import annotations

import json

_WORTH_IT = 256  # shorter texts are stored as they are


def compact(text: str, base: str) -> str:
    """`text` as copies out of `base` plus the pieces that differ, when that is shorter.

    Linear time: `text` is found as `base` wrapped (the inside of a JSON string counts), inside
    `base`, or sharing a head and a tail with it. Appending a block to a signature, wrapping it
    and giving it back are all one of these.
    """
    if len(text) < _WORTH_IT:
        return text
    packed = "@" + json.dumps(_ops(text, base), ensure_ascii=False, separators=(",", ":"))
    return packed if len(packed) < len(text) else text


def _ops(text: str, base: str) -> list[str | list[int]]:
    spans = [(0, len(base))]
    if len(base) > 2 and base[0] == base[-1] == '"':
        spans.append((1, len(base) - 1))  # a JSON string's text, without its quotes
    for start, end in spans:
        at = text.find(base[start:end])
        if at >= 0:
            return _clean([text[:at], [start, end], text[at + end - start :]])
    at = base.find(text)
    if at >= 0:
        return [[at, at + len(text)]]
    if len(text) > 2 and text[0] == text[-1] == '"':
        at = base.find(text[1:-1])
        if at >= 0:
            return ['"', [at, at + len(text) - 2], '"']
    head = _common_head(text, base)
    rest = min(len(text), len(base)) - head
    tail = _common_head(text[::-1][:rest], base[::-1][:rest])
    return _clean([[0, head], text[head : len(text) - tail], [len(base) - tail, len(base)]])


def _clean(ops: list[str | list[int]]) -> list[str | list[int]]:
    return [op for op in ops if (op[0] < op[1] if isinstance(op, list) else op)]


def _common_head(a: str, b: str) -> int:
    """How many leading characters `a` and `b` share (binary search on C-speed slices)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


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
