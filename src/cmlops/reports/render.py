"""Offline HTML of an executed notebook (nbconvert's lab template, no network at all).

nbconvert's lab template loads require.js, MathJax and Mermaid from a CDN.
A package must open years later on an air-gapped machine, so those blocks are
emptied through a small derived template, and the result is checked: any
``<script src=...>`` or stylesheet link pointing to the network is an error,
never a silently broken report. Plotly figures come from the cmlops widgets'
static HTML, which embeds plotly.js in the output itself.
"""

from __future__ import annotations

import re
from pathlib import Path

from cmlops.reports.errors import PackageError

_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""

_REMOTE = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//",
    re.IGNORECASE,
)


def remote_references(text: str) -> list[str]:
    """Tags that would load something from the network (empty for an offline page)."""
    return [m.group(0)[:120] for m in _REMOTE.finditer(text)]


_MD_ESCAPES = {ord(c): f"&#{ord(c)};" for c in "&<>\"'\\`*_[]{}#|!~"}


def _md_text(value: object) -> str:
    """A value safe inside markdown: HTML and markdown specials as character references."""
    return str(value).replace("\n", " ").translate(_MD_ESCAPES)


def cover_markdown(facts: list[tuple[str, object]]) -> str:
    """The package cover shown at the top of the HTML (every value escaped)."""
    rows = "\n".join(f"| {_md_text(k)} | {_md_text(v)} |" for k, v in facts)
    return (
        "## Audit package\n\n| | |\n|---|---|\n" + rows + "\n\n"
        "Electronic signatures, when present, are listed in `signatures.html` beside this file. "
        "Check every file, the audit trail and the signatures offline with "
        "`cmlops package verify` on this folder or its zip."
    )


def notebook_to_html(
    notebook: Path, target: Path, *, title: str, cover: list[tuple[str, object]] | None = None
) -> None:
    """Write a self-contained HTML rendering of ``notebook`` to ``target``.

    ``cover`` facts (package id, status, hashes ...) are shown in a first
    markdown cell of the HTML only; the executed notebook itself is unchanged.
    """
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        extra_loaders=[DictLoader({"cmlops_offline.html.j2": _TEMPLATE})],
        template_file="cmlops_offline.html.j2",
        embed_images=True,
    )
    nb = nbformat.read(str(notebook), as_version=4)
    nb.metadata["title"] = title
    nb.metadata.pop("widgets", None)
    if cover:
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(cover_markdown(cover)))
    body, _resources = exporter.from_notebook_node(nb)
    remote = remote_references(body)
    if remote:
        raise PackageError(f"the HTML report would load from the network: {remote[0]}")
    target.write_text(body, encoding="utf-8")
