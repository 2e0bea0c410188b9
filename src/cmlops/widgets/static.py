"""Self-contained static HTML of a result: works offline, plotly.js embedded once per document.

Structure of a block: a header with the verdict, the facts (thresholds, correction,
methods), warnings, the escaped table, then one figure per selected item (drifted
columns first, capped). Figure data travels as JSON in ``<script
type="application/json">`` elements made safe by :func:`script_safe_json`; a tiny
script draws them as soon as ``window.Plotly`` exists, so blocks work whether the
bundle comes before them (a report page) or not at all (then the table still reads).

``include_plotlyjs``:

- ``True``: the block carries the plotly.js bundle (a standalone file);
- ``False``: it does not (:func:`html_document` puts the bundle once in the page);
- ``"auto"``: outside a kernel, like ``True``; inside an IPython kernel, the bundle
  goes into the first block of the session (and again if that same cell is re-run),
  later blocks rely on it — so an executed report notebook carries it exactly once.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Iterable
from typing import Any

from cmlops.errors import InvalidInputError
from cmlops.widgets import theme
from cmlops.widgets.escape import esc, script_safe_json
from cmlops.widgets.model import ViewModel, build_model
from cmlops.widgets.table import status_badge, table_html

#: marker attribute of the one script element that carries plotly.js
BUNDLE_MARKER = "data-cmlops-plotlyjs"
#: figures drawn per result in static HTML (the table always lists every row)
MAX_STATIC_FIGURES = 12

_counter = itertools.count()
# kernel session id -> cell id (or "") of the output that carried the bundle
_bundle_sent: dict[str, str] = {}


def _kernel_context() -> tuple[str, str] | None:
    """(kernel session id, current cell id) inside an IPython kernel, else None."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is None:
        return None
    session = str(getattr(getattr(kernel, "session", None), "session", "") or id(kernel))
    cell = ""
    try:
        parent = kernel.get_parent() or {}
        cell = str((parent.get("metadata") or {}).get("cellId") or "")
    except (AttributeError, TypeError):
        cell = ""
    return session, cell


def _embed_bundle(include_plotlyjs: bool | str) -> bool:
    if include_plotlyjs is True or include_plotlyjs is False:
        return include_plotlyjs
    if include_plotlyjs != "auto":
        raise InvalidInputError(
            f"include_plotlyjs must be True, False or 'auto', not {include_plotlyjs!r}"
        )
    context = _kernel_context()
    if context is None:
        return True
    session, cell = context
    sent_in = _bundle_sent.get(session)
    if sent_in is None or (cell and sent_in == cell):
        _bundle_sent[session] = cell
        return True
    return False


def plotlyjs_script() -> str:
    """The plotly.js bundle as one inline ``<script>`` element (no network needed)."""
    import plotly
    from plotly.offline import get_plotlyjs

    bundle = get_plotlyjs()
    if "</script" in bundle.lower():  # never true for plotly.js builds; guard anyway
        bundle = bundle.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")
    return (
        f'<script type="text/javascript" {BUNDLE_MARKER}="{esc(plotly.__version__)}">'
        "window.PlotlyConfig = {MathJaxConfig: 'local'};\n"
        f"{bundle}\n</script>"
    )


def _new_id() -> str:
    return f"cmlops-{os.getpid():x}-{secrets.token_hex(3)}-{next(_counter)}"


def figure_json(fig: Any) -> str:
    """The figure as JSON safe inside a <script> element."""
    import plotly.io as pio

    return script_safe_json(pio.to_json(fig, validate=False, pretty=False))


def figure_block(fig: Any, title: str = "") -> tuple[str, str]:
    """(HTML of one figure container, its element id)."""
    fid = _new_id()
    height = 320
    try:
        height = int(fig.layout.height or 320)
    except (TypeError, ValueError, AttributeError):
        height = 320
    heading = f'<div class="cm-note"><b>{esc(title)}</b></div>' if title else ""
    html_text = (
        f'<div class="cm-figure">{heading}'
        f'<div class="cm-plot" id="{fid}" style="height:{height}px">'
        '<div class="cm-plot-placeholder">Interactive figure: shown where JavaScript runs '
        "(a browser, a trusted notebook).</div></div>"
        f'<script type="application/json" id="{fid}-data">{figure_json(fig)}</script></div>'
    )
    return html_text, fid


_DRAW = """<script type="text/javascript">(function () {
  var ids = %s;
  function draw(tries) {
    if (typeof window.Plotly === "undefined") {
      if (tries < 150) { setTimeout(function () { draw(tries + 1); }, 100); return; }
      ids.forEach(function (id) {
        var el = document.getElementById(id);
        if (el) { el.firstChild.textContent = "plotly.js is not loaded in this page, so " +
          "the figure cannot be drawn. Re-run the notebook, or export it with " +
          "cmlops.widgets.html_document."; }
      });
      return;
    }
    ids.forEach(function (id) {
      var el = document.getElementById(id), data = document.getElementById(id + "-data");
      if (!el || !data || el.getAttribute("data-drawn")) { return; }
      var spec = JSON.parse(data.textContent);
      el.innerHTML = "";
      el.setAttribute("data-drawn", "1");
      window.Plotly.newPlot(el, spec.data || [], spec.layout || {},
        {responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"]});
    });
  }
  draw(0);
})();</script>"""


# click a header of a static table to sort it (numbers by data-sort, text otherwise;
# missing values last both ways; a second click reverses). No user data inside.
_SORT = """<script type="text/javascript">(function () {
  var root = document.getElementById(%s[0]);
  if (!root) { return; }
  Array.prototype.forEach.call(root.querySelectorAll("table.cm-sortable"), function (table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    var ths = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(ths, function (th, i) {
      th.title = "click to sort";
      th.addEventListener("click", function () {
        var asc = !th.classList.contains("cm-asc");
        Array.prototype.forEach.call(ths, function (h) {
          h.classList.remove("cm-asc", "cm-desc");
        });
        th.classList.add(asc ? "cm-asc" : "cm-desc");
        var body = table.tBodies[0];
        var key = function (row) {
          var cell = row.cells[i];
          if (!cell) { return null; }
          var d = cell.getAttribute("data-sort");
          if (d !== null) { return parseFloat(d); }
          var t = cell.textContent.trim();
          return (t === "" || t === "\u2014") ? null : t.toLowerCase();
        };
        Array.prototype.map.call(body.rows, function (r, k) { return [key(r), k, r]; })
          .sort(function (a, b) {
            if (a[0] === null || b[0] === null) {
              return (a[0] === null) - (b[0] === null) || a[1] - b[1];
            }
            var na = typeof a[0] === "number", nb = typeof b[0] === "number", c;
            if (na && nb) { c = a[0] - b[0]; }
            else if (na !== nb) { c = na ? -1 : 1; }
            else { c = a[0] < b[0] ? -1 : (a[0] > b[0] ? 1 : 0); }
            return (asc ? c : -c) || a[1] - b[1];
          })
          .forEach(function (x) { body.appendChild(x[2]); });
      });
    });
  });
})();</script>"""


def _header(model: ViewModel) -> str:
    parts = [
        '<div class="cm-header">',
        f'<span class="cm-kind">{esc(model.kind)}</span>',
        f'<span class="cm-title">{esc(model.title)}</span>',
    ]
    if model.verdict:
        badge_word = model.badge or {"good": "ok", "bad": "fail", "warn": "warn"}.get(
            model.status, ""
        )
        if badge_word:
            parts.append(status_badge(badge_word))
        parts.append(f'<span class="cm-verdict">{esc(model.verdict)}</span>')
    parts.append("</div>")
    if model.facts:
        parts.append('<div class="cm-facts">')
        for label, value in model.facts:
            parts.append(f"<div>{esc(label)}: <b>{esc(value)}</b></div>")
        parts.append("</div>")
    if model.warnings:
        parts.append('<ul class="cm-warnings">')
        parts.extend(f"<li>{esc(w)}</li>" for w in model.warnings[:50])
        if len(model.warnings) > 50:
            parts.append(f"<li>… and {len(model.warnings) - 50:,} more warnings</li>")
        parts.append("</ul>")
    parts.extend(f'<p class="cm-note">{esc(n)}</p>' for n in model.notes)
    return "".join(parts)


def model_html(
    model: ViewModel, *, include_plotlyjs: bool | str = "auto", figures: bool = True
) -> str:
    """The static block of an already built :class:`ViewModel` (``figures=False``: no plots)."""
    block_id = _new_id()
    parts = [
        f'<div class="cmlops-result cm-kind-{esc(model.kind)}" id="{block_id}">'
        f"<style>{theme.CSS}</style>"
    ]
    parts.append(_header(model))
    table = model.table
    if model.default_sort and model.default_sort[0] in table.columns:
        table = table.sorted(*model.default_sort)
    for title, lead in model.lead_tables:
        parts.append(f"<h4>{esc(title)}</h4>")
        parts.append(f'<div class="cm-table-wrap">{table_html(lead, sortable=True)}</div>')
    if table.columns:
        if model.table_title:
            parts.append(f"<h4>{esc(model.table_title)}</h4>")
        parts.append(f'<div class="cm-table-wrap">{table_html(table, sortable=True)}</div>')
    for title, extra in model.extra_tables:
        parts.append(f"<h4>{esc(title)}</h4>")
        parts.append(f'<div class="cm-table-wrap">{table_html(extra, sortable=True)}</div>')
    blocks: list[str] = []
    ids: list[str] = []
    items = model.static_items[:MAX_STATIC_FIGURES] if figures else []
    for item in items:
        block, fid = figure_block(model.figure(item))
        blocks.append(block)
        ids.append(fid)
    if blocks:
        parts.append(f'<div class="cm-figures">{"".join(blocks)}</div>')
        left = len(model.static_items) - len(items)
        if left > 0:
            parts.append(
                f'<p class="cm-note">Figures are drawn for {len(items)} of '
                f"{len(model.static_items)} {esc(model.item_label.lower())}s "
                "(flagged first); the table lists all.</p>"
            )
        if _embed_bundle(include_plotlyjs):
            parts.append(plotlyjs_script())
        parts.append(_DRAW % script_safe_json(_json_list(ids)))
    elif not figures and model.static_items:
        parts.append(
            '<p class="cm-note">Figures are drawn in the live view. For a static copy with '
            "figures, use <code>cmlops.widgets.to_html(result)</code>.</p>"
        )
    parts.append(_SORT % script_safe_json(_json_list([block_id])))
    parts.append("</div>")
    return "".join(parts)


def _json_list(ids: list[str]) -> str:
    import json

    return json.dumps(ids)


def to_html(result: Any, *, include_plotlyjs: bool | str = "auto", figures: bool = True) -> str:
    """Self-contained, offline static HTML of a cmlops result (escaped, no CDN).

    ``figures=False`` leaves the plots out (the widget's lightweight fallback).
    """
    return model_html(build_model(result), include_plotlyjs=include_plotlyjs, figures=figures)


def html_document(blocks: Iterable[Any], *, title: str = "cmlops results") -> str:
    """A complete offline HTML page: plotly.js once in <head>, then each block in order.

    ``blocks`` may hold cmlops results (rendered without their own bundle) and HTML
    strings (trusted, inserted as they are — e.g. headings a report writes).
    """
    body: list[str] = []
    for block in blocks:
        if isinstance(block, str):
            body.append(block)
        else:
            body.append(to_html(block, include_plotlyjs=False))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>body {{ font-family: {theme.FONT}; color: {theme.TEXT}; margin: 24px; }}</style>"
        f"{plotlyjs_script()}</head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
