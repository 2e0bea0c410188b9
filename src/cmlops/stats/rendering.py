"""The one slot through which a result finds its renderer, without ``stats`` importing ``widgets``.

Results display themselves (:class:`cmlops.stats.result.Result` has ``_repr_html_``,
``_repr_mimebundle_``, ``save_html`` and ``plot``), yet ``stats`` sits left of
``widgets`` in the one-way flow of docs/architecture.md and may not import it — not
even lazily by module name, which the architecture test could not see. So ``stats``
owns this slot and states what it needs (:class:`ResultRenderer`); the package root
``cmlops/__init__.py``, the composition root that is allowed to know every layer,
puts a factory of the widgets renderer into it. Python imports the package root
before any ``cmlops.stats`` module, so the slot is filled whenever a result exists.

Why a factory and not the renderer: ``import cmlops`` must stay cheap (no plotly,
no ipywidgets), so the renderer is built on the first display and then kept.
Why not IPython formatter registration: VS Code, marimo, Quarto and nbconvert call
``_repr_mimebundle_``/``_repr_html_`` on the object; a registration reaches only the
IPython shell it was made in.

This module imports nothing heavy on purpose: the package root imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from cmlops.errors import CmlopsError

__all__ = ["ResultRenderer", "get_renderer", "set_renderer"]


class ResultRenderer(Protocol):
    """What a result needs from a renderer (implemented by ``cmlops.widgets.renderer``)."""

    def html(self, result: Any) -> str:
        """The self-contained static HTML block of ``result`` (figures included)."""

    def mimebundle(self, result: Any) -> dict[str, Any]:
        """The output bundle a notebook front end shows (widget view + fallback, or static)."""

    def document(self, result: Any, title: str) -> str:
        """A complete offline HTML page showing ``result`` (plotly.js embedded once)."""

    def figure(self, result: Any, item: str | None) -> Any:
        """The plotly figure of ``item`` (a column, metric or figure name; None: the first)."""


_factory: Callable[[], ResultRenderer] | None = None
_renderer: ResultRenderer | None = None


def set_renderer(factory: Callable[[], ResultRenderer] | None) -> None:
    """Install the factory of the renderer every result uses (None removes it).

    The factory is called once, on the first display, and its renderer kept.
    """
    global _factory, _renderer
    _factory, _renderer = factory, None


def get_renderer() -> ResultRenderer:
    """The installed renderer, built on first use; a one-line error when none is installed."""
    global _renderer
    if _renderer is None:
        if _factory is None:
            raise CmlopsError(
                "no result renderer is installed: results render after `import cmlops`, "
                "which installs the widgets renderer"
            )
        _renderer = _factory()
    return _renderer
