"""User-supplied text made inert before it reaches a terminal or a plain-text listing.

Evidence holds whatever people typed or their files contained: a reason with a
newline forges an extra line in a reviewer's listing, a carriage return
overwrites one, an ESC sequence recolours or clears the screen, a bidi
override (U+202E) shows "fdp.exe" as "exe.pdf". Every listing that prints a
field from the store goes through :func:`terminal_safe` (the CLI, the
``%cmlops_lineage --text`` view), which writes each such character as a visible
escape: C0 controls and DEL as ``\\xNN`` (newline is ``\\x0a``), C1 controls as
``\\xNN``, and the invisible format characters that reorder or hide text
(bidi embeddings, overrides and isolates, marks, zero-width characters, line
and paragraph separators, BOM) as ``\\uNNNN``. Backslashes are kept (Windows
paths stay readable); an escape can therefore be imitated, but never a line,
a colour or a reordering.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)


_UNSAFE_IN_JSON = re.compile(
    "[\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: object) -> str:
    """``text`` (any value, as ``str``) with control and invisible format characters escaped."""
    value = text if isinstance(text, str) else str(text)
    if value.isascii() and value.isprintable():
        return value
    return _UNSAFE.sub(_escape, value)


def json_terminal_safe(text: str) -> str:
    """JSON text with the same characters written as JSON ``\\uNNNN`` escapes (still valid JSON).

    ``json.dumps(ensure_ascii=False)`` escapes C0 controls inside strings (the
    newlines left raw are the document's own layout) but leaves DEL, C1
    controls and bidi/format characters raw; they can only occur inside JSON
    strings, where ``\\uNNNN`` means the same character.
    """
    return _UNSAFE_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
