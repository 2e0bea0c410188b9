"""A table of the live view whose column headers sort it: one ipywidgets Button per column.

The header buttons sit in a grid whose column widths match the ``<col>`` widths of
the HTML body below them; the header never shrinks away, however long the table.
Rows are paged 50 at a time (every row of a page in view: the box scrolls only
sideways, when the table is wider than the panel), so a 10,000-row table stays a
handful of widgets. A header shows ``↕`` until the table is sorted by it, then
``▲`` or ``▼``.

Column names reach the frontend as button descriptions (rendered as text) and the
body as escaped HTML.
"""

from __future__ import annotations

from typing import Any

from cmlops.widgets import theme
from cmlops.widgets.escape import esc
from cmlops.widgets.live_css import (
    BODY_CLASS,
    BORDER,
    HEADER_CLASS,
    LIVE_CLASS,
    LIVE_CSS,
    SORT_CLASS,
    TABLE_CLASS,
)
from cmlops.widgets.table import Table, format_cell, table_html

PAGE_SIZE = 50
UNSORTED, ASCENDING, DESCENDING = " ↕", " ▲", " ▼"


def live_html(inner: str, *, style: str = "margin:0") -> str:
    """``inner`` inside a themed live-view block (static CSS + the live overrides)."""
    return (
        f'<div class="cmlops-result {LIVE_CLASS}" style="{style}">'
        f"<style>{theme.CSS}{LIVE_CSS}</style>{inner}</div>"
    )


def column_widths(table: Table, cols: list[str]) -> list[int]:
    """Column widths in px: the header with its sort mark, or the longest cell (sampled),
    clamped to 80..260 (a longer header is cut with "…"; its tooltip names it in full)."""
    out = []
    for c in cols:
        i = table.columns.index(c)
        cells = max([0] + [len(format_cell(r[i], c)) for r in table.rows[:200]])
        px = max(8 * (len(c) + 2) + 18, 7 * cells + 22)
        out.append(max(80, min(260, px)))
    return out


class SortableTable:
    """Header buttons that sort an HTML table body; ``.widget`` is the ipywidgets box.

    ``selectable``: the row whose key is :meth:`select`-ed is highlighted (the main
    table, whose rows the figure dropdown names).
    """

    def __init__(
        self,
        table: Table,
        *,
        title: str = "",
        page_size: int = PAGE_SIZE,
        default_sort: tuple[str, bool] | None = None,
    ) -> None:
        import ipywidgets as w

        if default_sort and default_sort[0] in table.columns:
            table = table.sorted(*default_sort)
        self.table = table
        self.title = title
        self.page_size = page_size
        self.page = 0
        self.selected: Any = None
        self.columns = [c for c in table.columns if c not in table.hidden]
        self.widths = column_widths(table, self.columns)
        self.buttons = {
            c: self._button(c, px) for c, px in zip(self.columns, self.widths, strict=True)
        }
        self.header = w.GridBox(
            list(self.buttons.values()),
            layout=w.Layout(
                grid_template_columns=" ".join(f"{px}px" for px in self.widths),
                grid_gap="0",
                width="max-content",
                flex="0 0 auto",
            ),
        )
        self.header.add_class(HEADER_CLASS)
        self.body = w.HTML(layout=w.Layout(width="max-content", flex="0 0 auto"))
        self.body.add_class(BODY_CLASS)
        self.prev = w.Button(description="◀ prev", layout=w.Layout(width="80px"))
        self.next = w.Button(description="next ▶", layout=w.Layout(width="80px"))
        self.page_label = w.HTML()
        self.prev.on_click(lambda _b: self.go_to(self.page - 1))
        self.next.on_click(lambda _b: self.go_to(self.page + 1))
        self.pager = w.HBox([self.prev, self.page_label, self.next])
        scroller = w.VBox(
            [self.header, self.body],
            layout=w.Layout(
                overflow="auto", width="fit-content", max_width="100%", border=f"1px solid {BORDER}"
            ),
        )
        parts = [w.HTML(live_html(f"<h4>{esc(title)}</h4>"))] if title else []
        self.widget = w.VBox([*parts, scroller, self.pager], layout=w.Layout(width="100%"))
        self.widget.add_class(TABLE_CLASS)
        self._render()

    def _button(self, column: str, px: int) -> Any:
        import ipywidgets as w

        button = w.Button(
            description=column + UNSORTED,
            tooltip=f"Sort by {column} (click again to reverse)",
            layout=w.Layout(width=f"{px}px", height="auto", min_height="28px", margin="0"),
        )
        button.add_class(SORT_CLASS)
        button.on_click(lambda _b, col=column: self.sort_by(col))
        return button

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
            arrow = UNSORTED
            if c == self.table.sort_column:
                arrow = ASCENDING if self.table.ascending else DESCENDING
            b.description = c + arrow
        start = self.page * self.page_size
        page_table = Table(
            columns=self.table.columns,
            rows=self.table.rows[start : start + self.page_size],
            key_column=self.table.key_column,
            total_rows=0,
            hidden=self.table.hidden,
        )
        body = table_html(
            page_table, selected=self.selected, widths=self.widths, header=False, sort_values=True
        )
        fixed = f'table class="cm-table" style="width:{sum(self.widths)}px;table-layout:fixed"'
        self.body.value = live_html(
            body.replace('table class="cm-table"', fixed, 1), style="margin:0;max-width:none"
        )
        self._render_pager(start)

    def _render_pager(self, start: int) -> None:
        n = len(self.table.rows)
        pages = max(1, (n + self.page_size - 1) // self.page_size)
        text = f"rows {start + 1 if n else 0}–{min(n, start + self.page_size)} of {n:,}"
        if pages > 1:
            text += f" · page {self.page + 1}/{pages}"
        capped = self.table.total_rows > n
        if capped:
            text += f" · {n:,} of {self.table.total_rows:,} shown (the result holds every row)"
        self.page_label.value = live_html(
            f'<span class="cm-note" style="padding:0 8px;line-height:28px">{text}</span>'
        )
        self.prev.layout.display = self.next.layout.display = "" if pages > 1 else "none"
        self.pager.layout.display = "" if pages > 1 or capped else "none"
        self.prev.disabled = self.page == 0
        self.next.disabled = self.page >= pages - 1
