"""Escaping of user strings for the two places they land: HTML text and JSON inside <script>.

Column names, category values, subgroup and check names come from user data. A
column named ``</script><img src=x onerror=alert(1)>`` must show as text, never run.
HTML text and attributes go through :func:`html.escape` (quotes included); JSON
embedded in a ``<script>`` element additionally has ``<``, ``>``, ``&`` and the JS
line separators written as ``\\uXXXX`` escapes, so no string can close the element
or start a comment, whatever the JSON encoder did before.
"""

from __future__ import annotations

import html
import math
from typing import Any

_SCRIPT_UNSAFE = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def esc(value: Any) -> str:
    """HTML-escape any value as text (quotes too, so it is safe in attributes)."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return html.escape(str(value), quote=True)


def script_safe_json(text: str) -> str:
    """Make a JSON text safe to embed inside ``<script>...</script>``.

    Valid JSON has these characters only inside strings, where the ``\\u`` form means
    the same thing, so the data is unchanged for the JavaScript that parses it.
    """
    for char, replacement in _SCRIPT_UNSAFE.items():
        text = text.replace(char, replacement)
    return text
