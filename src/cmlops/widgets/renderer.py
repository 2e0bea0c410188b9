"""The renderer every result's display methods use (installed by ``cmlops/__init__.py``).

It implements :class:`cmlops.stats.rendering.ResultRenderer` with the existing
parts of this package — :func:`~cmlops.widgets.static.to_html`,
:func:`~cmlops.widgets.display.mimebundle`,
:func:`~cmlops.widgets.static.html_document` and the figure builders of the
:class:`~cmlops.widgets.model.ViewModel` — so ``result._repr_mimebundle_()``,
``result._repr_html_()``, ``result.save_html(path)`` and ``result.plot(name)`` show
exactly what the widget and the static report show.
"""

from __future__ import annotations

from typing import Any

from cmlops.errors import InvalidInputError
from cmlops.widgets.display import mimebundle
from cmlops.widgets.model import build_model
from cmlops.widgets.static import html_document, to_html

__all__ = ["WidgetRenderer"]

#: choices named in the error for an unknown figure name
MAX_CHOICES_SHOWN = 8


class WidgetRenderer:
    """ipywidgets view, static HTML and plotly figures of any cmlops result."""

    def html(self, result: Any) -> str:
        return to_html(result)

    def mimebundle(self, result: Any) -> dict[str, Any]:
        return mimebundle(result)

    def document(self, result: Any, title: str) -> str:
        return html_document([result], title=title)

    def figure(self, result: Any, item: str | None) -> Any:
        """The figure the view draws for ``item``; its failure is raised, not drawn as a note."""
        model = build_model(result)
        choices = model.items or model.static_items
        if not choices or model.figure_builder is None:
            raise InvalidInputError(f"this {model.kind} result has nothing to plot")
        if item is None:
            item = choices[0]
        elif item not in choices:
            shown = ", ".join(repr(c)[:60] for c in choices[:MAX_CHOICES_SHOWN])
            more = f" and {len(choices) - MAX_CHOICES_SHOWN} more" if len(choices) > 8 else ""
            raise InvalidInputError(
                f"no figure for {str(item)[:60]!r} in this {model.kind} result: "
                f"choose one of {shown}{more}"
            )
        return model.figure_builder(item)
