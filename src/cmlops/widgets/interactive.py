"""The live ipywidgets view of a result: verdict header, sortable tables, figure of the selection.

Layout (top to bottom): the same header HTML as the static block (verdict, facts,
warnings); every table of the result as a :class:`~cmlops.widgets.sortable.SortableTable`
(a header button per column: click to sort, click again to reverse) — the lead tables
(failed criteria, failing checks, alerts, shared subjects), the main table, the extra
tables (methods, strata); a Dropdown selecting the column/metric/figure; and the
figure of the selection, which follows the panel's width
(:mod:`cmlops.widgets.live_figure`). Colours follow JupyterLab's light and dark themes
(:mod:`cmlops.widgets.live_css`).

Everything user-provided reaches the frontend either as escaped HTML or as widget
``description``/``options`` text, which ipywidgets renders as text, not markup.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from cmlops.widgets.live_css import VIEW_CLASS
from cmlops.widgets.live_figure import figure_output, show_figure
from cmlops.widgets.model import ViewModel, build_model
from cmlops.widgets.sortable import PAGE_SIZE, SortableTable, live_html
from cmlops.widgets.table import plain

log = logging.getLogger(__name__)

__all__ = ["MAX_OPTIONS", "PAGE_SIZE", "ResultView", "SortableTable", "build_view"]

#: at most this many entries in the selection dropdown (the table still lists every row)
MAX_OPTIONS = 1000


class ResultView:
    """The ipywidgets view of one result; ``.widget`` is what the notebook displays.

    ``tables`` holds every table of the view in display order; ``table`` is the
    main one (the rows the dropdown selects), or None when the result has none.
    """

    def __init__(self, model: ViewModel) -> None:
        import ipywidgets as w

        from cmlops.widgets.static import _header

        self.model = model
        self.header = w.HTML(live_html(_header(model)))
        self.tables: list[SortableTable] = [
            SortableTable(t, title=title) for title, t in model.lead_tables
        ]
        self.table: SortableTable | None = None
        if model.table.columns:
            self.table = SortableTable(
                model.table, title=model.table_title, default_sort=model.default_sort
            )
            self.tables.append(self.table)
        self.tables.extend(SortableTable(t, title=title) for title, t in model.extra_tables)
        children: list[Any] = [self.header, *(t.widget for t in self.tables)]
        self.dropdown: Any = None
        self.figure: Any = None
        self.figure_box: Any = None
        if model.items:
            children.extend(self._selection(w))
        self.widget = w.VBox(children, layout=w.Layout(width="100%"))
        self.widget.add_class(VIEW_CLASS)
        self.widget.add_class("cm-kind-" + re.sub(r"[^a-z0-9_-]", "", model.kind.lower()))

    def _selection(self, w: Any) -> list[Any]:
        """The dropdown of items and the figure of the first one."""
        model = self.model
        options = model.items[:MAX_OPTIONS]
        self.dropdown = w.Dropdown(
            options=options,
            value=options[0],
            description=model.item_label,
            layout=w.Layout(width="420px", max_width="100%"),
        )
        self.dropdown.observe(self._on_select, names="value")
        note = ""
        if len(model.items) > MAX_OPTIONS:
            note = live_html(
                f'<span class="cm-note">first {MAX_OPTIONS:,} of {len(model.items):,} listed</span>'
            )
        self.figure = model.figure(options[0])
        self.figure_box = figure_output(self.figure)
        if self.table is not None:
            self.table.select(options[0])
        return [w.HBox([self.dropdown, w.HTML(note)]), self.figure_box]

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
        self.figure = self.model.figure(item)
        if self.figure_box is not None:
            show_figure(self.figure_box, self.figure)
        if self.table is not None:
            self.table.select(item)

    def sort_by(self, column: str, ascending: bool | None = None) -> None:
        if self.table is not None:
            self.table.sort_by(column, ascending)

    @property
    def table_keys(self) -> list[Any]:
        return [] if self.table is None else [plain(k) for k in self.table.keys]


def build_view(result: Any) -> ResultView:
    """Build the ipywidgets view of ``result`` (works without a kernel, e.g. in tests)."""
    return ResultView(build_model(result))
