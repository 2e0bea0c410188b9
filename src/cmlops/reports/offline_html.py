"""An HTML page that loads nothing from the network, and the list of what it would have.

A package must open years later on an air-gapped machine and must not call
home when a reviewer opens it. A template output may still reference a remote
resource — an ``<img src="https://…">`` in a markdown cell, a stylesheet link in
an HTML output. Such a reference must neither break the offline report nor
discard the executed run, so :func:`neutralise`:

1. renames every loading attribute (``src``, ``href`` of ``link``, ``srcset``,
   ``data``, ``poster``, ``background``, ``action``, ``formaction``,
   ``xlink:href``…) whose value points to the network into an inert
   ``data-cmlops-blocked-*`` attribute, and replaces remote CSS ``url(…)`` and
   ``@import`` targets with ``about:blank`` — in the markup and in ``<style>``
   blocks, never inside scripts (plotly.js mentions URLs in its code);
2. returns each neutralised reference (tag, attribute, URL), so the package
   can flag them in its manifest and on the report's first page;
3. puts a Content-Security-Policy ``<meta>`` first in ``<head>`` that allows
   inline scripts and styles and ``data:``/``blob:`` images and fonts only, so a
   reference no rule above recognised (a URL built by a script) is still never
   fetched by a browser.

Hyperlinks (``<a href>``) are left alone: following a link is the reader's act,
not a load.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

#: what an offline page may load: inline code and styles, data: and blob: media — no network
CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; media-src data: blob:; "
    "worker-src blob:; connect-src 'none'; frame-src 'none'; form-action 'none'; "
    "base-uri 'none'"
)
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'

#: attributes that make a browser fetch their value (``href`` only on these tags)
_LOADING = frozenset(
    {"src", "srcset", "data", "poster", "background", "action", "formaction", "xlink:href"}
)
_HREF_LOADS = frozenset({"link", "image", "use", "feimage", "base", "script"})

_SCRIPT = re.compile(r"(<script\b[^>]*>)(.*?)(</script\s*>)", re.IGNORECASE | re.DOTALL)
_STYLE = re.compile(r"(<style\b[^>]*>)(.*?)(</style\s*>)", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<([a-zA-Z][\w:-]*)(\s[^>]*)?>", re.DOTALL)
_ATTR = re.compile(r"(\s)([^\s=>/\"']+)(\s*=\s*)(\"[^\"]*\"|'[^']*'|[^\s>\"']+)", re.DOTALL)
_CSS_URL = re.compile(
    r"(url\(\s*)(\"[^\"]*\"|'[^']*'|[^)\s]*)(\s*\))|(@import\s+)(\"[^\"]*\"|'[^']*')",
    re.IGNORECASE,
)
_REMOTE_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//|^(?:https?|ftp|wss?):", re.IGNORECASE)
_REFRESH = re.compile(r"http-equiv\s*=\s*[\"']?\s*refresh", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")


@dataclass(frozen=True)
class RemoteReference:
    """One reference to the network that was neutralised."""

    tag: str
    attribute: str
    url: str

    def to_dict(self) -> dict[str, str]:
        return {"tag": self.tag, "attribute": self.attribute, "url": self.url}


def is_remote(value: str) -> bool:
    """True for a URL a browser would fetch from the network (any scheme-relative or
    network scheme, after entity decoding and with the blanks browsers ignore removed)."""
    text = _INVISIBLE.sub("", html.unescape(value))
    if _REMOTE_URL.match(text):
        return True
    return any(_REMOTE_URL.match(part.strip().split(" ")[0]) for part in text.split(","))


def _unquote(value: str) -> str:
    return value[1:-1] if value[:1] in "\"'" and value[-1:] == value[:1] else value


def _css(text: str, tag: str, found: list[RemoteReference]) -> str:
    def swap(match: re.Match[str]) -> str:
        if match.group(4):  # @import "…"
            url = _unquote(match.group(5))
            if not is_remote(url):
                return match.group(0)
            found.append(RemoteReference(tag, "@import", url))
            return f'{match.group(4)}"about:blank"'
        url = _unquote(match.group(2).strip())
        if not is_remote(url):
            return match.group(0)
        found.append(RemoteReference(tag, "url()", url))
        return f"{match.group(1)}about:blank{match.group(3)}"

    return _CSS_URL.sub(swap, text)


def _tag(match: re.Match[str], found: list[RemoteReference]) -> str:
    name, attrs = match.group(1).lower(), match.group(2) or ""
    if not attrs or name == "a":
        return match.group(0)

    def swap(attr: re.Match[str]) -> str:
        key = attr.group(2).lower()
        value = _unquote(attr.group(4))
        if key == "style":
            inner = _css(html.unescape(value), name, found)
            if inner == html.unescape(value):
                return attr.group(0)
            return f'{attr.group(1)}style="{html.escape(inner, quote=True)}"'
        loads = key in _LOADING or (key == "href" and name in _HREF_LOADS)
        if name == "meta" and key == "content" and _REFRESH.search(attrs):
            loads, value = True, value.partition("=")[2] or value  # "0; url=https://…"
        if not (loads and is_remote(value)):
            return attr.group(0)
        found.append(RemoteReference(name, key, html.unescape(value)))
        blocked = "data-cmlops-blocked-" + re.sub(r"[^a-z0-9-]", "-", key)
        return f"{attr.group(1)}{blocked}{attr.group(3)}{attr.group(4)}"

    return f"<{match.group(1)}{_ATTR.sub(swap, attrs)}>"


def _markup(text: str, found: list[RemoteReference]) -> str:
    """Neutralise tags and style blocks in markup that holds no script content."""
    out, last = [], 0
    for style in _STYLE.finditer(text):
        out.append(_TAG.sub(lambda m: _tag(m, found), text[last : style.start()]))
        out.append(_TAG.sub(lambda m: _tag(m, found), style.group(1)))
        out.append(_css(style.group(2), "style", found) + style.group(3))
        last = style.end()
    out.append(_TAG.sub(lambda m: _tag(m, found), text[last:]))
    return "".join(out)


def neutralise(page: str) -> tuple[str, list[RemoteReference]]:
    """The page with every network reference made inert, and those references (in order)."""
    found: list[RemoteReference] = []
    out, last = [], 0
    for script in _SCRIPT.finditer(page):
        out.append(_markup(page[last : script.start()], found))
        out.append(_markup(script.group(1), found) + script.group(2) + script.group(3))
        last = script.end()
    out.append(_markup(page[last:], found))
    text = "".join(out)
    head = re.search(r"<head\b[^>]*>", text, re.IGNORECASE)
    if head:
        text = text[: head.end()] + CSP_META + text[head.end() :]
    else:
        text = CSP_META + text
    unique = list(dict.fromkeys(found))
    return text, unique
