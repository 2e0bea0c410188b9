"""A small, display-neutral table: built from ``result.to_frame()``, sorted, formatted, rendered.

The same :class:`Table` feeds the static HTML and the sortable widget, so both show
the same numbers with the same formatting. Cells are plain Python values (numpy
scalars converted, NaN as ``None``) so that sorting and formatting never meet a type
they do not know; missing values sort last in both directions, as a reviewer expects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from cmlops.widgets.escape import esc

#: columns whose boolean cells show as a coloured status badge
#: (word for True, word for False): one vocabulary across every view — acceptance
#: outcomes PASS / FAIL / NOT EVALUATED, drift drifted / stable, alerts alert / no alert
STATUS_COLUMNS = {
    "drifted": ("drifted", "stable"),
    "passed": ("PASS", "FAIL"),
    "fired": ("alert", "no alert"),
    "alert": ("alert", "no alert"),
    "triggered": ("alert", "no alert"),
}
STATUS_CLASS = {
    "drifted": "bad",
    "fail": "bad",
    "alert": "bad",
    "stable": "good",
    "no alert": "good",
    "ok": "good",
    "pass": "good",
    "warn": "warn",
    "warning": "warn",
    "failed": "bad",
    "passed": "good",
    "error": "bad",
    "not evaluated": "warn",
    "dataset drift": "bad",
    "columns drifted": "warn",
}
#: status words shown in capitals (acceptance outcomes)
UPPER_WORDS = frozenset({"pass", "fail", "warn", "not evaluated"})
#: columns that identify a row, in order of preference
KEY_COLUMNS = ("column", "metric", "check", "name", "feature", "subgroup", "window")


def plain(value: Any) -> Any:
    """A numpy/pandas scalar as a plain Python value; NaN, NaT and NA as ``None``."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict, str, bytes)):
        try:
            value = value.item()
        except (ValueError, TypeError):
            pass
    if isinstance(value, float) and math.isnan(value):
        return None
    if value.__class__.__name__ in {"NAType", "NaTType"}:
        return None
    return value


def format_cell(value: Any, column: str = "") -> str:
    """Human formatting: 4 significant digits, scientific for tiny p-values, '—' for missing."""
    value = plain(value)
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        if value != 0 and abs(value) < 1e-3:
            return f"{value:.2e}"
        if abs(value) >= 1e6:
            return f"{value:.3e}"
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        text = ", ".join(str(plain(v)) for v in value[:8])
        return text + (f", … (+{len(value) - 8})" if len(value) > 8 else "")
    if isinstance(value, dict):
        return ", ".join(f"{k}={plain(v)}" for k, v in list(value.items())[:6])
    return str(value)


def _sort_key(value: Any) -> tuple[int, Any]:
    value = plain(value)
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, (int, float)):
        return (0, value)
    return (1, str(value).lower())


@dataclass(frozen=True)
class Table:
    """Rows of plain values under named columns; ``total_rows`` counts rows before a cap."""

    columns: list[str]
    rows: list[list[Any]]
    key_column: str | None = None
    total_rows: int = 0
    sort_column: str | None = None
    ascending: bool = True
    hidden: list[str] = field(default_factory=list)

    @property
    def keys(self) -> list[Any]:
        """The identifying value of each row (its column/metric/check name)."""
        if self.key_column is None:
            return list(range(len(self.rows)))
        i = self.columns.index(self.key_column)
        return [row[i] for row in self.rows]

    def column_values(self, column: str) -> list[Any]:
        i = self.columns.index(column)
        return [row[i] for row in self.rows]

    def sorted(self, column: str, ascending: bool = True) -> Table:
        """Rows ordered by ``column``; missing values last whatever the direction; stable."""
        i = self.columns.index(column)
        present = [r for r in self.rows if plain(r[i]) is not None]
        missing = [r for r in self.rows if plain(r[i]) is None]
        groups: dict[int, list[list[Any]]] = {0: [], 1: []}
        for row in present:
            groups[_sort_key(row[i])[0]].append(row)
        ordered: list[list[Any]] = []
        for group in (0, 1):
            ordered += sorted(
                groups[group], key=lambda r: _sort_key(r[i])[1], reverse=not ascending
            )
        return replace(self, rows=ordered + missing, sort_column=column, ascending=ascending)


def table_from_frame(frame: Any, *, max_rows: int | None = None) -> Table:
    """Convert a pandas DataFrame (``result.to_frame()``) into a :class:`Table`."""
    columns = [str(c) for c in frame.columns]
    records = frame.itertuples(index=False, name=None)
    rows: list[list[Any]] = []
    total = len(frame)
    for n, record in enumerate(records):
        if max_rows is not None and n >= max_rows:
            break
        rows.append([plain(v) for v in record])
    key = next((c for c in KEY_COLUMNS if c in columns), None)
    return Table(columns=columns, rows=rows, key_column=key, total_rows=total)


def status_badge(text: str) -> str:
    """A coloured pill for a status word (pass / fail / drifted / ok / warn)."""
    cls = STATUS_CLASS.get(text.lower(), "neutral")
    shown = text.upper() if text.lower() in UPPER_WORDS else text
    return f'<span class="cm-badge cm-{cls}">{esc(shown)}</span>'


def cell_html(value: Any, column: str) -> str:
    """One escaped cell; booleans of status columns and status words become badges."""
    value = plain(value)
    lowered = column.lower()
    if isinstance(value, bool) and lowered in STATUS_COLUMNS:
        yes, no = STATUS_COLUMNS[lowered]
        return status_badge(yes if value else no)
    if isinstance(value, str) and lowered in {"status", "verdict", "result"}:
        return status_badge(value)
    return esc(format_cell(value, column))


def table_html(
    table: Table,
    *,
    max_rows: int = 500,
    selected: Any = None,
    widths: list[int] | None = None,
    header: bool = True,
    sortable: bool = False,
    sort_values: bool = False,
) -> str:
    """An escaped HTML table; numeric columns right-aligned; at most ``max_rows`` rows shown.

    ``sortable`` makes a static table sort itself on a header click; it and ``sort_values``
    put each number's raw value on its cell (``data-sort``), the value it sorts by, which
    the formatted text (rounded, with separators) does not always say.
    """
    cols = [c for c in table.columns if c not in table.hidden]
    idx = [table.columns.index(c) for c in cols]
    numeric = {c: _numeric_column(table, i) for c, i in zip(cols, idx, strict=True)}
    parts = ['<table class="cm-table' + (" cm-sortable" if sortable else "") + '">']
    if widths:
        parts.append("<colgroup>" + "".join(f'<col style="width:{w}px">' for w in widths))
        parts.append("</colgroup>")
    if header:
        parts.append(_header_html(table, cols, numeric))
    parts.append("<tbody>")
    key_i = table.columns.index(table.key_column) if table.key_column in table.columns else None
    for row in table.rows[:max_rows]:
        is_sel = selected is not None and key_i is not None and row[key_i] == selected
        parts.append('<tr class="cm-selected">' if is_sel else "<tr>")
        for c, i in zip(cols, idx, strict=True):
            cls = ' class="cm-num"' if numeric[c] else ""
            sort_attr = _sort_attr(row[i]) if sortable or sort_values else ""
            parts.append(f"<td{cls}{sort_attr}>")
            parts.append(f"{cell_html(row[i], c)}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table>")
    shown = min(len(table.rows), max_rows)
    if table.total_rows > shown:
        parts.append(
            f'<p class="cm-note">Showing {shown:,} of {table.total_rows:,} rows '
            "(the full table is in <code>result.to_frame()</code>).</p>"
        )
    return "".join(parts)


def _numeric_column(table: Table, i: int) -> bool:
    """Every present value of column ``i`` is a number (not a bool), and one is present."""
    values = [plain(r[i]) for r in table.rows]
    present = [v for v in values if v is not None]
    return bool(present) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in present
    )


def _header_html(table: Table, cols: list[str], numeric: dict[str, bool]) -> str:
    """The header row: the sort arrow on the sorted column; long names may break after "_"."""
    cells = []
    for c in cols:
        cls = ' class="cm-num"' if numeric[c] else ""
        arrow = ""
        if c == table.sort_column:
            arrow = " ▲" if table.ascending else " ▼"
        # a line may break after "_" in long names (innerText is unchanged)
        cells.append(f"<th{cls}>{esc(c).replace('_', '_<wbr>')}{arrow}</th>")
    return "<thead><tr>" + "".join(cells) + "</tr></thead>"


def _sort_attr(value: Any) -> str:
    """``data-sort`` of a number (its exact float text; infinities by name), else nothing."""
    raw = plain(value)
    if not isinstance(raw, (int, float)) or isinstance(raw, bool):
        return ""
    number = float(raw)
    text = repr(number) if math.isfinite(number) else ("Infinity" if number > 0 else "-Infinity")
    return f' data-sort="{text}"'
