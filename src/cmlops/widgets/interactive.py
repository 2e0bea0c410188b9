"""The live ipywidgets view of a result: verdict header, sortable table, figure of the selection.

Layout (top to bottom): the same header HTML as the static block (verdict, facts,
warnings); a :class:`SortableTable` — one button per column header (click to sort,
click again to reverse) above an HTML body whose ``<col>`` widths match the button
grid, paged at 50 rows so a 10,000-row table stays a handful of widgets; a Dropdown
selecting the column/metric/figure; and a plotly ``FigureWidget`` for the selection.

Everything user-provided reaches the frontend either as escaped HTML or as widget
``description``/``options`` text, which ipywidgets renders as text, not markup.
"""

from __future__ import annotations

import logging
from typing import Any

from cmlops.widgets import theme
from cmlops.widgets.escape import esc
from cmlops.widgets.model import ViewModel, build_model
from cmlops.widgets.table import Table, format_cell, plain, table_html

log = logging.getLogger(__name__)

PAGE_SIZE = 50
#: at most this many entries in the selection dropdown (the table still lists every row)
MAX_OPTIONS = 1000


def _widths(table: Table, cols: list[str]) -> list[int]:
    """Column widths in px from the longest header/cell text (sampled), clamped to 70..260."""
    out = []
    for c in cols:
        i = table.columns.index(c)
        longest = max([len(c) + 2] + [len(format_cell(r[i], c)) for r in table.rows[:200]])
        out.append(max(70, min(260, 7 * longest + 18)))
    return out


class SortableTable:
    """Header buttons that sort an HTML table body; ``.widget`` is the ipywidgets box."""

    def __init__(self, table: Table, *, page_size: int = PAGE_SIZE) -> None:
        import ipywidgets as w

        self._w = w
        self.table = table
        self.page_size = page_size
        self.page = 0
        self.selected: Any = None
        self.columns = [c for c in table.columns if c not in table.hidden]
        self.widths = _widths(table, self.columns)
        template = " ".join(f"{px}px" for px in self.widths)
        self.buttons: dict[str, Any] = {}
        for c in self.columns:
            b = w.Button(
                description=c,
                tooltip=f"sort by {c}",
                layout=w.Layout(
                    width=f"{self.widths[self.columns.index(c)]}px",
                    height="26px",
                    margin="0",
                    padding="0 4px",
                ),
            )
            b.style.button_color = theme.HEADER_BG
            b.style.font_weight = "600"
            b.on_click(lambda _b, col=c: self.sort_by(col))
            self.buttons[c] = b
        self.header = w.GridBox(
            list(self.buttons.values()),
            layout=w.Layout(grid_template_columns=template, grid_gap="0", width="max-content"),
        )
        self.body = w.HTML(layout=w.Layout(width="max-content"))
        self.prev = w.Button(description="◀ prev", layout=w.Layout(width="80px"))
        self.next = w.Button(description="next ▶", layout=w.Layout(width="80px"))
        self.page_label = w.HTML()
        self.prev.on_click(lambda _b: self.go_to(self.page - 1))
        self.next.on_click(lambda _b: self.go_to(self.page + 1))
        pager = w.HBox([self.prev, self.page_label, self.next])
        pager.layout.display = "" if len(table.rows) > page_size else "none"
        scroller = w.VBox(
            [self.header, self.body],
            layout=w.Layout(
                overflow="auto", max_height="440px", border=f"1px solid {theme.BORDER}"
            ),
        )
        self.widget = w.VBox([scroller, pager])
        self._render()

    @property
    def rows(self) -> list[list[Any]]:
        """All rows in the current sort order."""
        return self.table.rows

    @property
    def keys(self) -> list[Any]:
        return self.table.keys

    def sort_by(self, column: str, ascending: bool | None = None) -> None:
        """Sort by ``column``; without ``ascending``, a second click on a column reverses it."""
        if ascending is None:
            ascending = not (self.table.sort_column == column and self.table.ascending)
        self.table = self.table.sorted(column, ascending)
        self.page = 0
        self._render()

    def go_to(self, page: int) -> None:
        last = max(0, (len(self.table.rows) - 1) // self.page_size)
        self.page = min(max(0, page), last)
        self._render()

    def select(self, key: Any) -> None:
        self.selected = key
        self._render()

    def _render(self) -> None:
        for c, b in self.buttons.items():
            arrow = ""
            if c == self.table.sort_column:
                arrow = " ▲" if self.table.ascending else " ▼"
            b.description = c + arrow
        start = self.page * self.page_size
        page_table = Table(
            columns=self.table.columns,
            rows=self.table.rows[start : start + self.page_size],
            key_column=self.table.key_column,
            total_rows=0,
            hidden=self.table.hidden,
        )
        body = table_html(page_table, selected=self.selected, widths=self.widths, header=False)
        fixed = f'table class="cm-table" style="width:{sum(self.widths)}px;table-layout:fixed"'
        self.body.value = (
            f'<div class="cmlops-result" style="margin:0;max-width:none"><style>{theme.CSS}</style>'
            + body.replace('table class="cm-table"', fixed, 1)
            + "</div>"
        )
        n = len(self.table.rows)
        pages = max(1, (n + self.page_size - 1) // self.page_size)
        self.page_label.value = (
            f'<span style="padding:0 8px;line-height:28px">rows {start + 1 if n else 0}–'
            f"{min(n, start + self.page_size)} of {n:,} · page {self.page + 1}/{pages}</span>"
        )
        self.prev.disabled = self.page == 0
        self.next.disabled = self.page >= pages - 1


class ResultView:
    """The ipywidgets view of one result; ``.widget`` is what the notebook displays."""

    def __init__(self, model: ViewModel) -> None:
        import ipywidgets as w

        from cmlops.widgets.static import _header

        self.model = model
        parts = [f'<div class="cmlops-result" style="margin:0"><style>{theme.CSS}</style>']
        parts.append(_header(model))
        parts.append("</div>")
        self.header = w.HTML("".join(parts))
        children: list[Any] = [self.header]
        children.extend(_table_html_widget(t, x) for t, x in model.lead_tables)
        self.table: SortableTable | None = None
        if model.table.columns:
            if model.table_title:
                children.append(w.HTML(f"<b>{esc(model.table_title)}</b>"))
            self.table = SortableTable(model.table)
            children.append(self.table.widget)
        children.extend(_table_html_widget(t, x) for t, x in model.extra_tables)
        self.dropdown: Any = None
        self.figure: Any = None
        self.figure_box = w.VBox(layout=w.Layout(width="100%"))
        if model.items:
            options = model.items[:MAX_OPTIONS]
            self.dropdown = w.Dropdown(
                options=options,
                value=options[0],
                description=model.item_label,
                layout=w.Layout(width="420px"),
            )
            self.dropdown.observe(self._on_select, names="value")
            note = ""
            if len(model.items) > MAX_OPTIONS:
                note = (
                    f'<span class="cm-note">first {MAX_OPTIONS:,} of {len(model.items):,} '
                    "listed</span>"
                )
            children.append(w.HBox([self.dropdown, w.HTML(note)]))
            children.append(self.figure_box)
            self.select(options[0])
        self.widget = w.VBox(children, layout=w.Layout(width="100%"))

    def _on_select(self, change: dict[str, Any]) -> None:
        self.select(change["new"])

    def select(self, item: str) -> None:
        """Show the figure of ``item`` (a column, metric or figure name) and mark its row."""
        if (
            self.dropdown is not None
            and self.dropdown.value != item
            and item in self.dropdown.options
        ):
            self.dropdown.value = item  # the observer calls back into select()
            return
        fig = self.model.figure(item)
        self.figure = _figure_widget(fig)
        self.figure_box.children = (self.figure,)
        if self.table is not None:
            self.table.select(item)

    def sort_by(self, column: str, ascending: bool | None = None) -> None:
        if self.table is not None:
            self.table.sort_by(column, ascending)

    @property
    def table_keys(self) -> list[Any]:
        return [] if self.table is None else [plain(k) for k in self.table.keys]


def _table_html_widget(title: str, table: Table) -> Any:
    """A static (escaped) table with its title, for the secondary tables of a view."""
    import ipywidgets as w

    return w.HTML(
        f'<div class="cmlops-result" style="margin:0"><style>{theme.CSS}</style>'
        f'<h4>{esc(title)}</h4><div class="cm-table-wrap">{table_html(table)}</div></div>'
    )


def _figure_widget(fig: Any) -> Any:
    """A plotly FigureWidget of ``fig``; an Output showing the figure if that is unavailable."""
    try:
        import plotly.graph_objects as go

        return go.FigureWidget(fig)
    except (ImportError, ValueError, TypeError) as exc:
        import ipywidgets as w

        log.warning("cmlops: FigureWidget unavailable (%s); showing a static figure", exc)
        out = w.Output()
        with out:
            fig.show()
        out.data = fig.data  # type: ignore[attr-defined]
        return out


def build_view(result: Any) -> ResultView:
    """Build the ipywidgets view of ``result`` (works without a kernel, e.g. in tests)."""
    return ResultView(build_model(result))
