"""Display mode: explicit setting, environment variable, bad values."""

from __future__ import annotations

import pytest

from cmlops.errors import InvalidInputError
from cmlops.widgets import get_display_mode, set_display_mode


@pytest.fixture(autouse=True)
def _reset():
    yield
    set_display_mode(None)


def test_environment_variable_and_explicit_setting(monkeypatch):
    monkeypatch.delenv("CMLOPS_DISPLAY", raising=False)
    assert get_display_mode() == "auto"
    monkeypatch.setenv("CMLOPS_DISPLAY", "Static")
    assert get_display_mode() == "static"
    set_display_mode("widget")
    assert get_display_mode() == "widget"
    set_display_mode(None)
    assert get_display_mode() == "static"
    monkeypatch.setenv("CMLOPS_DISPLAY", "bogus")
    assert get_display_mode() == "auto"


def test_unknown_mode_is_a_clear_error():
    with pytest.raises(InvalidInputError, match="unknown display mode 'html'"):
        set_display_mode("html")


def test_importing_widgets_does_not_import_plotly_or_ipywidgets():
    import subprocess
    import sys

    code = (
        "import sys, cmlops.widgets, cmlops.widgets.display;"
        "print(sorted(m for m in ('plotly', 'ipywidgets') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
