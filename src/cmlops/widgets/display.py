"""The output bundle of a result: what every result's ``_repr_mimebundle_`` returns.

Results display themselves through the result protocol
(:class:`cmlops.stats.result.Result`, via :mod:`cmlops.widgets.renderer`), in any
front end and without registration. :func:`register_formatters` remains for code
that registered the IPython formatters explicitly; it changes nothing for results.

:func:`mimebundle` (and :func:`ipython_display`, which publishes it) holds the widget view
(``application/vnd.jupyter.widget-view+json``) *and* a ``text/html`` static
fallback and a ``text/plain`` line: JupyterLab with the widget manager shows the
live view, GitHub / nbviewer / a reloaded notebook without widget state show the
static block (header and tables; plots live in the widget). In static mode
(papermill, nbconvert; see :mod:`cmlops.widgets.mode`) only ``text/html`` (with
figures) and ``text/plain`` are published, so the saved notebook holds no dead
widget. Any failure while building the widget falls back to the static form, and a
failure of that to a plain-text line: displaying must never raise.
"""

from __future__ import annotations

import logging
from typing import Any

from cmlops.widgets.mode import get_display_mode
from cmlops.widgets.static import to_html

log = logging.getLogger(__name__)

WIDGET_MIMETYPE = "application/vnd.jupyter.widget-view+json"

__all__ = [
    "RESULT_TYPES",
    "WIDGET_MIMETYPE",
    "ipython_display",
    "mimebundle",
    "register_formatters",
    "to_html",
    "unregister_formatters",
]

#: (module, class name) of every cmlops result, as ``type.__module__`` spells it — the
#: key IPython's ``for_type_by_name`` matches, without importing the (heavy) modules.
RESULT_TYPES: tuple[tuple[str, str], ...] = (
    ("cmlops.stats._drift_result", "DriftResult"),
    ("cmlops.stats.evaluation_result", "EvaluationResult"),
    ("cmlops.stats.validation_result", "ValidationResult"),
    ("cmlops.stats.monitoring", "MonitorResult"),
    ("cmlops.stats.independence_result", "IndependenceResult"),
)


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def _plain(result: Any) -> str:
    try:
        return repr(result)
    except Exception as exc:  # noqa: BLE001 - a broken __repr__ must not break display
        return f"<{type(result).__name__} (repr failed: {exc})>"


def mimebundle(result: Any, *, mode: str | None = None) -> dict[str, Any]:
    """The output bundle :func:`ipython_display` publishes, for the given or current mode.

    With the widget, the ``text/html`` fallback holds the header and tables but no
    plots: the live page shows the widget, never the fallback, so a plotly.js bundle
    there would neither load nor be needed, and would add megabytes to every saved
    notebook. In static mode the block carries its figures (and plotly.js per the
    ``"auto"`` rule of :mod:`cmlops.widgets.static`).
    """
    mode = mode or get_display_mode()
    bundle: dict[str, Any] = {}
    if mode == "widget" or (mode == "auto" and _in_kernel()):
        try:
            from cmlops.widgets.interactive import build_view

            bundle.update(build_view(result).widget._repr_mimebundle_())
        except Exception as exc:  # noqa: BLE001 - the static form below is shown instead
            log.warning("cmlops: widget view of %s failed: %s", type(result).__name__, exc)
            bundle = {}
    try:
        bundle["text/html"] = to_html(result, figures=WIDGET_MIMETYPE not in bundle)
    except Exception as exc:  # noqa: BLE001 - fall back to text rather than raise
        log.warning("cmlops: static HTML of %s failed: %s", type(result).__name__, exc)
    bundle["text/plain"] = _plain(result)
    return bundle


def ipython_display(result: Any) -> None:
    """Display ``result`` in the running IPython: widget view + static fallback, or static only."""
    from IPython.display import display

    display(mimebundle(result), raw=True)


def register_formatters(ipython: Any) -> None:
    """Register the four original result types with ``ipython``'s formatters (by type name).

    Not needed: every result displays itself through ``_repr_mimebundle_``. Kept so
    that code which called it keeps working; the output is the same bundle.
    Registers :func:`ipython_display` with the ``_ipython_display_`` formatter (the
    live view plus fallback) and :func:`to_html` with the ``text/html`` formatter.
    """
    formatters = ipython.display_formatter
    html = formatters.formatters["text/html"]
    for module, name in RESULT_TYPES:
        formatters.ipython_display_formatter.for_type_by_name(module, name, ipython_display)
        html.for_type_by_name(module, name, to_html)


def unregister_formatters(ipython: Any) -> None:
    """Undo :func:`register_formatters` (``%unload_ext cmlops``)."""
    formatters = ipython.display_formatter
    for formatter in (formatters.ipython_display_formatter, formatters.formatters["text/html"]):
        for module, name in RESULT_TYPES:
            formatter.deferred_printers.pop((module, name), None)
            for cls in list(formatter.type_printers):
                if (cls.__module__, cls.__name__) == (module, name):
                    formatter.type_printers.pop(cls, None)
