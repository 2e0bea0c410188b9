"""Styles of the live (ipywidgets) view that follow JupyterLab's light and dark themes.

The static block's CSS (:data:`cmlops.widgets.theme.CSS`) uses fixed colours, right
for a report on paper but unreadable in JupyterLab's dark theme (dark text on a dark
output area). The live view adds these rules, scoped under :data:`LIVE_CLASS`, which
take JupyterLab's theme variables (with the light colours as fallbacks, for front
ends without them) and use translucent fills that read on either background.
The sort buttons are ipywidgets ``Button``s: left unstyled inline, they take the
theme's button colours, and :data:`SORT_CLASS` only aligns them like table headers.
"""

from __future__ import annotations

from cmlops.widgets import theme

LIVE_CLASS = "cmlops-live"
#: class of each sortable column header (an ipywidgets Button)
SORT_CLASS = "cm-sort"
#: class of the row of sort buttons (never shrinks in the flex box)
HEADER_CLASS = "cm-sort-header"
#: class of a table's HTML body, and of the whole table widget (title, header, body, pager)
BODY_CLASS = "cm-sort-body"
TABLE_CLASS = "cm-live-table"
#: class of a whole result view; with ``cm-kind-<kind>`` beside it
VIEW_CLASS = "cmlops-live-view"

_TEXT = f"var(--jp-content-font-color1, {theme.TEXT})"
_MUTED = f"var(--jp-content-font-color2, {theme.MUTED})"
BORDER = f"var(--jp-border-color2, {theme.BORDER})"
_BORDER = BORDER
_LIVE = f".cmlops-result.{LIVE_CLASS}"

LIVE_CSS = f"""
{_LIVE} {{ color: {_TEXT}; max-width: none; }}
{_LIVE} .cm-facts, {_LIVE} .cm-note {{ color: {_MUTED}; }}
{_LIVE} .cm-facts b {{ color: {_TEXT}; }}
{_LIVE} .cm-warnings {{ color: #3e2723; }}
{_LIVE} .cm-table-wrap {{ border-color: {_BORDER}; }}
{_LIVE} .cm-table th {{ background: var(--jp-layout-color2, {theme.HEADER_BG}); color: {_TEXT};
  border-bottom-color: {_BORDER}; }}
{_LIVE} .cm-table td {{ border-bottom-color: {_BORDER}; }}
{_LIVE} .cm-table tbody tr:nth-child(even) {{ background: rgba(128, 128, 128, 0.08); }}
{_LIVE} .cm-table tbody tr:hover {{ background: rgba(25, 118, 210, 0.14); }}
{_LIVE} .cm-table tr.cm-selected {{ background: rgba(25, 118, 210, 0.30) !important; }}
{_LIVE} h4 {{ color: {_TEXT}; }}
.{HEADER_CLASS} {{ flex: 0 0 auto; background: var(--jp-layout-color2, {theme.HEADER_BG}); }}
.widget-button.{SORT_CLASS} {{ font-weight: 600; text-align: left; border-radius: 0;
  border-right: 1px solid {_BORDER}; box-shadow: none; cursor: pointer;
  font-size: 12px; }}
.widget-button.{SORT_CLASS}:hover {{ background: var(--jp-layout-color3, #e0e0e0); }}
.widget-button.{SORT_CLASS}:focus-visible {{
  outline: 2px solid var(--jp-brand-color1, {theme.ACCENT}); outline-offset: -2px; }}
"""
