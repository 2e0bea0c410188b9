"""Renderers of cmlops results: an ipywidgets view in a live kernel, static HTML elsewhere.

Why a separate package: ``cmlops.stats`` stays pure (dataclasses, no display), and
this package is the only place that knows about plotly and ipywidgets. Importing
``cmlops.widgets`` is cheap: plotly and ipywidgets load only when something is rendered.

Public names::

    to_html(result, include_plotlyjs="auto") -> str   # self-contained static HTML block
    html_document(blocks, title=...) -> str            # a full offline page, plotly.js once
    ipython_display(result)                            # what IPython calls to show a result
    build_view(result) -> ResultView                   # the ipywidgets view itself
    set_display_mode("auto" | "widget" | "static")     # static for papermill / nbconvert runs
    get_display_mode() -> str
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "to_html": "cmlops.widgets.static:to_html",
    "html_document": "cmlops.widgets.static:html_document",
    "plotlyjs_script": "cmlops.widgets.static:plotlyjs_script",
    "ipython_display": "cmlops.widgets.display:ipython_display",
    "build_view": "cmlops.widgets.interactive:build_view",
    "ResultView": "cmlops.widgets.interactive:ResultView",
    "set_display_mode": "cmlops.widgets.mode:set_display_mode",
    "get_display_mode": "cmlops.widgets.mode:get_display_mode",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'cmlops.widgets' has no attribute {name!r}")
    module_name, _, attribute = target.partition(":")
    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
