"""Look and feel shared by the static HTML and the widget: JupyterLab-like fonts and colours.

Kept in one place so a report, a notebook output and the live widget read as one
product. The CSS is scoped under ``.cmlops-result`` so it cannot restyle the host page.
"""

from __future__ import annotations

FONT = (
    'system-ui, -apple-system, blinkmacsystemfont, "Segoe UI", helvetica, arial, sans-serif, '
    '"Apple Color Emoji", "Segoe UI Emoji"'
)
TEXT = "#212121"
MUTED = "#616161"
BORDER = "#e0e0e0"
HEADER_BG = "#f5f5f5"
ACCENT = "#1976d2"  # JupyterLab brand blue
GOOD = "#2e7d32"
BAD = "#c62828"
WARN = "#ef6c00"
REFERENCE = "#1976d2"
CURRENT = "#ef6c00"
PALETTE = ["#1976d2", "#ef6c00", "#2e7d32", "#8e24aa", "#c62828", "#00838f", "#6d4c41", "#546e7a"]

CSS = f"""
.cmlops-result {{ font-family: {FONT}; font-size: 13px; color: {TEXT}; line-height: 1.45;
  max-width: 1100px; margin: 4px 0 12px 0; }}
.cmlops-result .cm-header {{ display: flex; align-items: center; gap: 10px; flex-wrap: wrap;
  border-bottom: 2px solid {ACCENT}; padding-bottom: 6px; margin-bottom: 8px; }}
.cmlops-result .cm-kind {{ text-transform: uppercase; letter-spacing: .06em; font-size: 11px;
  font-weight: 600; color: {ACCENT}; }}
.cmlops-result .cm-title {{ font-size: 16px; font-weight: 600; }}
.cmlops-result .cm-verdict {{ font-weight: 600; }}
.cmlops-result .cm-facts {{ display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 6px 0 8px 0;
  padding: 0; color: {MUTED}; }}
.cmlops-result .cm-facts div {{ white-space: nowrap; }}
.cmlops-result .cm-facts b {{ color: {TEXT}; font-weight: 600; }}
.cmlops-result .cm-warnings {{ background: #fff8e1; border-left: 3px solid {WARN};
  margin: 6px 0; padding: 6px 10px 6px 26px; }}
.cmlops-result .cm-note {{ color: {MUTED}; font-size: 12px; margin: 4px 0; }}
.cmlops-result .cm-error {{ color: {BAD}; font-size: 12px; margin: 4px 0; }}
.cmlops-result .cm-badge {{ display: inline-block; padding: 0 7px; border-radius: 9px;
  font-size: 11px; font-weight: 600; line-height: 18px; color: #fff; background: #9e9e9e;
  white-space: nowrap; }}
.cmlops-result .cm-badge.cm-good {{ background: {GOOD}; }}
.cmlops-result .cm-badge.cm-bad {{ background: {BAD}; }}
.cmlops-result .cm-badge.cm-warn {{ background: {WARN}; }}
.cmlops-result .cm-table-wrap {{ border: 1px solid {BORDER}; }}
.cmlops-result table.cm-table {{ border-collapse: collapse; width: 100%; font-size: 12px;
  font-variant-numeric: tabular-nums; table-layout: auto; }}
.cmlops-result .cm-table th {{ background: {HEADER_BG}; text-align: left; vertical-align: bottom;
  font-weight: 600; padding: 4px 6px; border-bottom: 1px solid {BORDER}; white-space: normal; }}
.cmlops-result .cm-table td {{ padding: 3px 6px; border-bottom: 1px solid #eeeeee;
  text-align: left; vertical-align: top; white-space: normal; overflow-wrap: anywhere; }}
.cmlops-result .cm-table tbody tr:nth-child(even) {{ background: #fafafa; }}
.cmlops-result .cm-table tbody tr:hover {{ background: #e3f2fd; }}
.cmlops-result .cm-table tr.cm-selected {{ background: #bbdefb !important; }}
.cmlops-result .cm-table .cm-num {{ text-align: right; }}
.cmlops-result .cm-table td.cm-num {{ white-space: nowrap; overflow-wrap: normal; }}
.cmlops-result .cm-sortable th {{ cursor: pointer; user-select: none; }}
.cmlops-result .cm-sortable th.cm-asc::after {{ content: " \\25B2"; }}
.cmlops-result .cm-sortable th.cm-desc::after {{ content: " \\25BC"; }}
.cmlops-result .cm-figures {{ display: grid; grid-template-columns: repeat(auto-fill,
  minmax(520px, 1fr)); gap: 10px; margin-top: 10px; }}
.cmlops-result .cm-figure {{ border: 1px solid {BORDER}; padding: 4px; min-width: 0; }}
.cmlops-result .cm-plot {{ width: 100%; height: 320px; }}
.cmlops-result .cm-plot-placeholder {{ color: {MUTED}; font-size: 12px; padding: 8px; }}
.cmlops-result h4 {{ font-size: 13px; margin: 12px 0 4px 0; }}
@media print {{
  .cmlops-result {{ max-width: none; }}
  .cmlops-result .cm-figures {{ display: block; }}
  .cmlops-result .cm-figure {{ break-inside: avoid; margin-bottom: 8px; }}
  .cmlops-result .cm-table thead {{ display: table-header-group; }}
  .cmlops-result .cm-table tr {{ break-inside: avoid; }}
}}
/* narrow panels and paper: denser tables, so every column stays on the page */
@media print, (max-width: 900px) {{
  .cmlops-result table.cm-table {{ font-size: 10px; }}
  .cmlops-result .cm-table td, .cmlops-result .cm-table th {{ padding: 2px 3px; }}
  .cmlops-result .cm-table th {{ overflow-wrap: anywhere; }}
  .cmlops-result .cm-table .cm-badge {{ font-size: 9px; padding: 0 3px; line-height: 14px; }}
}}
"""
