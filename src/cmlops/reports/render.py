"""Offline HTML of an executed notebook that reads top-down for a reviewer.

The page starts with a cover built from the run's own records — the question,
the context of use, the data identity (file, SHA-256, rows), the verdict and the
criteria table (outcome, observed value with its interval, and why a criterion
was not evaluable) — then the parameters the run used and the package facts, then
the executed notebook as details with its code cells hidden (the executed
notebook in the package keeps them). Every value on the cover is HTML-escaped
and single-line; tables are never scroll boxes and paginate in print.

nbconvert's lab template loads require.js, MathJax and Mermaid from a CDN.
A package must open years later on an air-gapped machine, so those blocks are
emptied through a small derived template. Whatever a template's outputs still
reference on the network (an ``<img src="https://…">``) is neutralised by
:mod:`cmlops.reports.offline_html` and listed on the first page: the run is
kept, the page loads nothing, and the package says what was blocked. Plotly
figures come from the cmlops widgets' static HTML, which embeds plotly.js in
the output itself.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmlops.reports.offline_html import RemoteReference, neutralise

_TEMPLATE = (
    """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}<style type="text/css">
"""
    + "{{ resources.cmlops_css }}"
    + """
</style>{%- endblock extra_css -%}
"""
)

#: layout of the whole page: outputs never become scroll boxes; print paginates tables
PAGE_CSS = """
.jp-OutputArea-output, .jp-RenderedHTMLCommon { overflow: visible !important; }
.jp-RenderedHTMLCommon table { table-layout: auto; }
.jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { white-space: normal; }
.cmlops-cover { font-size: 14px; line-height: 1.45; max-width: 1100px; }
.cmlops-cover h1 { font-size: 24px; margin: 0 0 4px 0; }
.cmlops-cover h2 { font-size: 17px; margin: 18px 0 6px 0; border-bottom: 2px solid #1976d2; }
.cmlops-cover table { border-collapse: collapse; width: 100%; margin: 4px 0 8px 0; }
.cmlops-cover table th, .cmlops-cover table td { border: 1px solid #e0e0e0;
  padding: 3px 8px; text-align: left !important; vertical-align: top; white-space: normal;
  overflow-wrap: anywhere; }
.cmlops-cover table th { background: #f5f5f5; font-weight: 600; }
.cmlops-cover table.cmlops-keyvalue th { width: 28%; }
.cmlops-cover .cmlops-hash { font-family: monospace; font-size: 12px; overflow-wrap: anywhere; }
.cmlops-cover .cmlops-nowrap { white-space: nowrap; }
.cmlops-verdict-box { font-size: 20px; font-weight: 700; padding: 8px 12px; margin: 8px 0;
  border-left: 6px solid #9a6700; background: #fff8e1; }
.cmlops-verdict-box.cmlops-pass { border-color: #1a7f37; background: #e8f5e9; color: #1a7f37; }
.cmlops-verdict-box.cmlops-fail { border-color: #cf222e; background: #ffebee; color: #cf222e; }
.cmlops-verdict-box.cmlops-not-evaluated { color: #9a6700; }
.cmlops-outcome { font-weight: bold; white-space: nowrap; }
.cmlops-pass { color: #1a7f37; }
.cmlops-fail { color: #cf222e; }
.cmlops-not-evaluated { color: #9a6700; }
.cmlops-details-heading { margin-top: 28px; }
.cmlops-remote-notice { border-left: 6px solid #cf222e; background: #ffebee; padding: 6px 12px;
  margin: 8px 0; }
.cmlops-remote-notice li { overflow-wrap: anywhere; font-family: monospace; font-size: 12px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  .cmlops-cover { max-width: none; }
  .cmlops-details-heading { break-before: page; }
  thead { display: table-header-group; }
  tr, .cm-figure, .cmlops-verdict-box { break-inside: avoid; }
  .cmlops-result .cm-figures { display: block !important; }
  .cmlops-result .cm-figure { margin-bottom: 8px; }
  .jp-Cell { break-inside: auto; }
}
"""

_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


#: where the first page says which remote references were blocked (filled after export)
REMOTE_NOTICE = "<!--cmlops:remote-notice-->"


def remote_notice(blocked: Sequence[RemoteReference]) -> str:
    """The first page's warning about neutralised network references ('' when none)."""
    if not blocked:
        return ""
    items = "".join(
        f"<li>{esc(ref.tag)} {esc(ref.attribute)}: {esc(ref.url)}</li>" for ref in blocked[:50]
    )
    more = (
        f"<li>… and {len(blocked) - 50} more (see manifest.json)</li>" if len(blocked) > 50 else ""
    )
    return (
        '<div class="cmlops-remote-notice"><strong>⚠ Remote resources blocked.</strong> '
        f"The outputs of this run referenced {len(blocked)} resource(s) on the network. "
        "An audit package loads nothing from the network, so they are not shown; they are "
        "listed in manifest.json (<code>remote_resources</code>) and here:"
        f"<ul>{items}{more}</ul></div>"
    )


def one_line(value: object) -> str:
    """A value as one line of text: CR, LF, other control characters become one space."""
    return _LINE_BREAKS.sub(" ", "" if value is None else str(value)).strip()


def esc(value: object) -> str:
    """HTML-escaped single-line text."""
    return html.escape(one_line(value), quote=True)


@dataclass
class Cover:
    """What the first page of a report shows, from the run's own records."""

    title: str
    verdict: str
    criteria: list[dict[str, Any]] = field(default_factory=list)
    metrics: Mapping[str, Any] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)
    inputs: Sequence[Mapping[str, Any]] = field(default_factory=list)
    frames: Sequence[Mapping[str, Any]] = field(default_factory=list)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    facts: Sequence[tuple[str, object]] = field(default_factory=list)
    status: str = "EXECUTED"
    error: str = ""


OUTCOME_CLASS = {"PASS": "pass", "FAIL": "fail"}


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—" if value is None else esc(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4g}"


def _interval(metrics: Mapping[str, Any], crit: Mapping[str, Any]) -> str:
    sub = f"[{crit['subgroup']}]" if crit.get("subgroup") else ""
    low = metrics.get(f"{crit['metric']}_ci_low{sub}")
    high = metrics.get(f"{crit['metric']}_ci_high{sub}")
    if isinstance(low, (int, float)) and isinstance(high, (int, float)):
        return f"{low:.4g} – {high:.4g}"
    return "—"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    """Rows are already-escaped cell HTML."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _keyvalue(rows: Sequence[tuple[object, object]]) -> str:
    """A two-column table of label (header cell) and value."""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="cmlops-keyvalue"><tbody>{body}</tbody></table>'


#: context items shown first, in this order; the rest follow as given
CONTEXT_ORDER = ("question", "context_of_use", "model", "model_risk")


def _context_rows(context: Mapping[str, Any]) -> list[tuple[str, object]]:
    keys = [k for k in CONTEXT_ORDER if k in context]
    keys += [k for k in context if k not in keys]
    return [(k.replace("_", " "), context[k]) for k in keys if context[k] not in ("", None)]


def _criteria_html(cover: Cover) -> str:
    if not cover.criteria:
        return "<p>No acceptance criteria were judged.</p>"
    rows = []
    for crit in cover.criteria:
        outcome = str(crit.get("outcome", ""))
        cls = OUTCOME_CLASS.get(outcome, "not-evaluated")
        reason = crit.get("reason") or ""
        rows.append(
            [
                esc(crit.get("id")),
                esc(crit.get("metric"))
                + (f" [{esc(crit['subgroup'])}]" if crit.get("subgroup") else ""),
                '<span class="cmlops-nowrap">'
                f"{esc(crit.get('op'))} {_number(crit.get('threshold'))}</span>",
                _number(crit.get("value")),
                _interval(cover.metrics, crit),
                f'<span class="cmlops-outcome cmlops-{cls}">{esc(outcome)}</span>'
                + (f"<br>⚠ {esc(reason)}" if reason else ""),
            ]
        )
    return _table(
        ["criterion", "metric [subgroup]", "acceptance", "observed", "95% CI", "outcome"],
        rows,
        "cmlops-criteria",
    )


def _data_html(cover: Cover) -> str:
    parts = []
    if cover.inputs:
        rows = [
            [
                esc(i.get("parameter")),
                esc(Path(str(i.get("path", ""))).name),
                _number(i.get("size")),
                f'<span class="cmlops-hash">{esc(i.get("sha256"))}</span>',
            ]
            for i in cover.inputs
        ]
        parts.append(_table(["input", "file", "bytes", "SHA-256"], rows, "cmlops-inputs"))
    if cover.frames:
        rows = []
        for frame in cover.frames:
            schema = frame.get("schema") or {}
            columns = schema.get("columns") if isinstance(schema, Mapping) else None
            rows.append(
                [
                    esc(frame.get("name")),
                    _number(schema.get("rows") if isinstance(schema, Mapping) else None),
                    _number(len(columns) if isinstance(columns, (list, dict)) else None),
                    f'<span class="cmlops-hash">{esc(frame.get("fingerprint"))}</span>',
                ]
            )
        parts.append(
            _table(
                ["data analysed", "rows", "columns", "content fingerprint"], rows, "cmlops-frames"
            )
        )
    return "".join(parts) or "<p>No input files.</p>"


def _value_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(one_line(v) for v in value) or "(none)"
    if value is None:
        return "(not given)"
    return one_line(value)


def cover_html(cover: Cover) -> str:
    """The first page of the report (every value escaped, one line each)."""
    verdict = one_line(cover.verdict) or "NONE"
    cls = OUTCOME_CLASS.get(verdict, "not-evaluated")
    status = "" if cover.status == "EXECUTED" else f" — run {esc(cover.status)}: {esc(cover.error)}"
    params = [(k, _value_text(v)) for k, v in cover.parameters.items()]
    return (
        '<div class="cmlops-cover">'
        f"<h1>{esc(cover.title)}</h1>"
        + REMOTE_NOTICE
        + _keyvalue(_context_rows(cover.context))
        + f'<div class="cmlops-verdict-box cmlops-{cls}">Verdict: {esc(verdict)}{status}</div>'
        + "<h2>Acceptance criteria</h2>"
        + _criteria_html(cover)
        + "<h2>Data</h2>"
        + _data_html(cover)
        + "<h2>Parameters of this run</h2>"
        + _keyvalue(params)
        + "<h2>Audit package</h2>"
        + _keyvalue(list(cover.facts))
        + "<p>Electronic signatures, when present, are listed in <code>signatures.html</code> "
        "beside this file. Check every file, the audit trail and the signatures offline with "
        "<code>cmlops package verify</code> on this folder or its zip. The executed notebook "
        "(<code>notebook.ipynb</code>) keeps the code of every cell.</p>"
        '<h2 class="cmlops-details-heading">Details</h2></div>'
    )


def _html_cell(markup: str) -> Any:
    import nbformat

    cell = nbformat.v4.new_code_cell(source="")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": markup}, metadata={})]
    return cell


def notebook_page(
    notebook: Path,
    *,
    title: str,
    cover: Cover | None = None,
    show_code: bool = False,
) -> tuple[str, list[RemoteReference]]:
    """A self-contained, offline HTML page of ``notebook`` and the network references
    its outputs made (neutralised in the page; see :mod:`cmlops.reports.offline_html`).

    ``show_code``: keep the code cells (a reviewer's view of the executed notebook);
    a report hides them and starts with its ``cover`` instead.
    """
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        extra_loaders=[DictLoader({"cmlops_offline.html.j2": _TEMPLATE})],
        template_file="cmlops_offline.html.j2",
        embed_images=True,
        exclude_input=not show_code,
        exclude_input_prompt=not show_code,
        exclude_output_prompt=not show_code,
    )
    nb = nbformat.read(str(notebook), as_version=4)
    nb.metadata["title"] = one_line(title)
    nb.metadata.pop("widgets", None)
    if cover is not None:
        nb.cells.insert(0, _html_cell(cover_html(cover)))
    body, _resources = exporter.from_notebook_node(nb, resources={"cmlops_css": PAGE_CSS})
    body, blocked = neutralise(body)
    return body.replace(REMOTE_NOTICE, remote_notice(blocked), 1), blocked


def notebook_to_html(
    notebook: Path, target: Path, *, title: str, cover: Cover | None = None
) -> list[RemoteReference]:
    """Write the offline HTML report of ``notebook`` to ``target``.

    The ``cover`` is shown first; the executed notebook follows with its code
    hidden (``exclude_input``), so the injected parameters cell and the defaults
    cell never show two sets of values — the cover lists the values used. The
    executed notebook itself is unchanged. Returns the network references that
    were neutralised.
    """
    page, blocked = notebook_page(notebook, title=title, cover=cover)
    target.write_text(page, encoding="utf-8")
    return blocked
