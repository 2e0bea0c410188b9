"""Which form a result takes when IPython displays it: the live widget or static HTML.

A batch run (papermill, nbclient, nbconvert ``--execute``) has no widget manager:
a widget output there is a dead ``Loading widget...`` box in the saved notebook and
in its HTML export. Report templates therefore switch to the static form. There is
no robust way for a kernel to know that it is driven by papermill (papermill sets no
environment variable in the kernel and the kernel cannot see its client), so the
mode is explicit:

- ``set_display_mode("static")`` in the notebook (report templates do this), or
- ``CMLOPS_DISPLAY=static`` in the kernel's environment (a runner sets it), or
- ``"auto"`` (the default): the widget view with a static ``text/html`` fallback when
  running inside an IPython kernel, static HTML otherwise.

The chosen mode is one documented module-level setting, like ``pandas.set_option``.
"""

from __future__ import annotations

import os

from cmlops.errors import InvalidInputError

ENV_DISPLAY = "CMLOPS_DISPLAY"
MODES = ("auto", "widget", "static")

_mode: str | None = None  # None: follow the environment variable


def set_display_mode(mode: str | None) -> None:
    """Choose how results display: ``"auto"``, ``"widget"`` or ``"static"``.

    ``None`` goes back to following the ``CMLOPS_DISPLAY`` environment variable.
    """
    global _mode
    if mode is not None and mode not in MODES:
        raise InvalidInputError(
            f"unknown display mode {mode!r}: use one of {', '.join(MODES)} (or None to reset)"
        )
    _mode = mode


def get_display_mode() -> str:
    """The display mode in force: the one set in this session, else ``CMLOPS_DISPLAY``.

    An unknown value in the environment variable falls back to ``"auto"`` rather than
    breaking every display of the session.
    """
    if _mode is not None:
        return _mode
    env = os.environ.get(ENV_DISPLAY, "").strip().lower()
    return env if env in MODES else "auto"
