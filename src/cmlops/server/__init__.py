"""Jupyter server extension of cmlops: an authenticated REST API under ``/cmlops/api/``.

The JupyterLab sidebar reads lineage, the audit trail and report runs through
this API, so the browser never touches the store or the filesystem directly.
The discovery functions below are re-exported by ``cmlops/__init__.py`` so that
``jupyter server extension list`` and ``jupyter labextension develop`` find the
package under its own name.
"""

from __future__ import annotations

from typing import Any


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where the prebuilt frontend lives, relative to the ``cmlops`` package folder."""
    return [{"src": "labextension", "dest": "cmlops"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """The module whose ``_load_jupyter_server_extension`` registers the handlers."""
    return [{"module": "cmlops.server"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Called once by Jupyter server at start: registers the cmlops API handlers."""
    from cmlops.server.extension import load

    load(serverapp)
