"""The themed Gmail signature as HTML: render, sanitise, compose, find again, show as text.

Pure functions only (no I/O). The theme part is the `[signature] html` template rendered,
cleaned of byte-order marks and control characters, and sanitised with nh3 to what a signature
may contain. In `append` mode it is wrapped in a recognisable block
(`<div class="s…">…</div>`, see below) and added after the
original signature; any such block already in the original is dropped first, so re-applying never
stacks blocks.

The block is recognised by an opaque class (`marker_class`): "s", six hex digits keyed from the
theme key, and four hex digits checking them, so it names neither the tool, the theme nor the
company, yet any block aligner wrote is found again whatever theme wrote it. Blocks marked by
earlier releases (`class="aligner-theme"`, `data-aligner-theme="<theme id>"`) are still found
and removed, so originals stored by them restore cleanly.

In `replace` mode the template alone is the signature (it may use `{{ original }}`).
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from html.parser import HTMLParser

import nh3

from aligner.surfaces.signature.section import SignatureSection
from aligner.theme.schema import ThemeConfig
from aligner.theme.templates import render

NAME = "signature"  # the surface, and its theme-file section
SIGNATURE_LIMIT = 10_000
FIELD = "signature.html"
OLD_MARKER_CLASS = "aligner-theme"  # how releases before the opaque marker marked the block
OLD_MARKER_ATTR = "data-aligner-theme"
_MARKER_KEY = b"signature block"
_MARKER = re.compile(r"^s([0-9a-f]{6})([0-9a-f]{4})$")

ALLOWED_TAGS = frozenset(
    """a abbr b big blockquote br center code div em font h1 h2 h3 h4 h5 h6 hr i img li ol p
    pre s small span strike strong sub sup table tbody td tfoot th thead tr tt u ul""".split()
)
_CELL = {"colspan", "rowspan", "width", "height", "valign", "bgcolor"}
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"style", "dir", "align", "title"},
    "a": {"href", "target"},
    "img": {"src", "alt", "width", "height"},
    "font": {"color", "face", "size"},
    "table": {"cellpadding", "cellspacing", "border", "width", "bgcolor"},
    "td": _CELL,
    "th": _CELL,
}
ALLOWED_STYLE = frozenset(
    """color background background-color font font-family font-size font-style font-weight
    text-decoration text-align text-transform letter-spacing line-height vertical-align
    white-space width max-width height max-height margin margin-top margin-right margin-bottom
    margin-left padding padding-top padding-right padding-bottom padding-left border
    border-top border-right border-bottom border-left border-color border-style border-width
    border-radius border-collapse display""".split()
)
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_KEEP_CONTROLS = {"\n", "\t"}


def signature_section(config: ThemeConfig) -> SignatureSection:
    return config.section(NAME, SignatureSection)


def strip_controls(text: str) -> str:
    """Drop byte-order marks and control characters (tabs and newlines stay; CRLF -> LF)."""
    text = text.replace("\r\n", "\n").replace("\ufeff", "")
    return "".join(
        c for c in text if c in _KEEP_CONTROLS or unicodedata.category(c) not in ("Cc", "Cs")
    )


def sanitize(fragment: str) -> str:
    """What a signature may contain: formatting, links, images, tables; no scripts or comments."""
    return nh3.clean(
        strip_controls(fragment),
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        filter_style_properties=set(ALLOWED_STYLE),
        link_rel=None,
        strip_comments=True,
    ).strip()


def rendered_template(config: ThemeConfig, original: str = "") -> str:
    """The `[signature] html` template rendered (with `original`) and sanitised."""
    source = render(config, FIELD, signature_section(config).html, original=original)
    return sanitize(source)


def _keyed(text: str, size: int) -> str:
    return hashlib.blake2b(text.encode(), key=_MARKER_KEY, digest_size=size).hexdigest()


def marker_class(theme_key: str) -> str:
    """The opaque class marking the theme block: no word of the theme, company or tool."""
    body = _keyed(theme_key, 3)
    return f"s{body}{_keyed(body, 2)}"


def is_marker_class(name: str) -> bool:
    match = _MARKER.match(name)
    return match is not None and _keyed(match.group(1), 2) == match.group(2)


def marked(fragment: str, theme_key: str) -> str:
    """Wrap the theme part so it can be recognised in a signature later."""
    return f'<div class="{marker_class(theme_key)}">{fragment}</div>'


def themed_block(config: ThemeConfig) -> str:
    """The theme part alone, as aligner adds it: sanitised, with original="".

    `append` mode: the recognisable block appended to the original signature.
    `replace` mode: the rendered template (rendered with an empty `original`).
    """
    fragment = rendered_template(config, original="")
    if signature_section(config).mode == "replace":
        return fragment
    return marked(fragment, config.theme.key)


def themed_signature(config: ThemeConfig, original: str) -> str:
    """The whole signature during the window, given the person's original signature."""
    base = without_theme_blocks(original)
    if signature_section(config).mode == "replace":
        return rendered_template(config, original=base)
    return base + themed_block(config)


# -- finding the theme block again -------------------------------------------------------------


class _BlockFinder(HTMLParser):
    """Finds the span of the first element marked as aligner's theme block."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.start: int | None = None
        self.end: int | None = None
        self.tag = ""
        self.depth = 0

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.end is not None:
            return
        if self.start is None:
            if _is_marker(attrs):
                self.start, self.tag, self.depth = self._offset(), tag, 1
        elif tag == self.tag:
            self.depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.start is None and self.end is None and _is_marker(attrs):
            start = self._offset()
            self.start, self.end = start, self.text.index(">", start) + 1

    def handle_endtag(self, tag: str) -> None:
        if self.start is None or self.end is not None or tag != self.tag:
            return
        self.depth -= 1
        if self.depth == 0:
            self.end = self.text.index(">", self._offset()) + 1


def _is_marker(attrs: list[tuple[str, str | None]]) -> bool:
    for name, value in attrs:
        if name == OLD_MARKER_ATTR:
            return True
        if name == "class":
            classes = (value or "").split()
            if OLD_MARKER_CLASS in classes or any(is_marker_class(c) for c in classes):
                return True
    return False


def find_theme_block(signature: str) -> tuple[int, int] | None:
    """(start, end) offsets of aligner's theme block in `signature`, or None."""
    finder = _BlockFinder(signature)
    finder.feed(signature)
    finder.close()
    if finder.start is None:
        return None
    return finder.start, finder.end if finder.end is not None else len(signature)


def without_theme_blocks(signature: str) -> str:
    """`signature` with every aligner theme block removed (unchanged when there is none)."""
    for _ in range(100):
        span = find_theme_block(signature)
        if span is None:
            break
        signature = signature[: span[0]] + signature[span[1] :]
    return signature


# -- text rendering ------------------------------------------------------------------------------

_BREAKS = frozenset(
    "address blockquote br center div dl dt dd h1 h2 h3 h4 h5 h6 hr li ol p pre table tr ul".split()
)
_CELLS = frozenset({"td", "th"})
_HIDDEN = frozenset({"script", "style", "head", "title"})


class _TextRenderer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BREAKS:
            self.parts.append("\n")
        elif tag in _CELLS:
            self.parts.append(" ")
        elif tag == "img":
            alt = dict(attrs).get("alt") or "image"
            self.parts.append(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(signature: str) -> str:
    """What a reader sees: one line per block, no markup, entities decoded, no blank lines."""
    renderer = _TextRenderer()
    renderer.feed(signature)
    renderer.close()
    lines = (" ".join(line.split()) for line in "".join(renderer.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def one_line(signature: str, limit: int = 80) -> str:
    text = html_to_text(signature).replace("\n", " / ") or "(empty)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def preview_lines(before: str, after: str) -> list[str]:
    """A readable diff for `plan`: the text people will see, line by line, then the HTML."""
    old, new = html_to_text(before).splitlines(), html_to_text(after).splitlines()
    lines = ["text:"]
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            lines += [f"    {line}" for line in old[a1:a2]]
            continue
        lines += [f"  - {line}" for line in old[a1:a2]]
        lines += [f"  + {line}" for line in new[b1:b2]]
    if len(lines) == 1:
        lines.append("    (empty)")
    lines.append(f"html: {after}" if after else "html: (empty signature)")
    return lines
