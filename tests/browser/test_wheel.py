"""The wheel alone gives a working extension: installed into a fresh environment, with no
node on PATH, JupyterLab lists both extensions and the sidebar talks to the server."""

from __future__ import annotations

import shutil

import pytest

from cmlops._version import __version__
from tests.browser.conftest import open_lab, start_lab, stop_lab
from tests.wheel_env import clean_env, run

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Only the venv: no node, npm or jupyter scripts from elsewhere (tests/wheel_env.py).


def test_wheel_lists_both_extensions_without_node(wheel_env, tmp_path):
    env = clean_env(wheel_env)
    python = str(wheel_env / "bin" / "python")
    assert shutil.which("node", path=env["PATH"]) is None
    labext = run(
        [
            python,
            "-c",
            "import sys; sys.argv=['x', 'list'];from jupyterlab.labextensions import main; main()",
        ],
        env=env,
        cwd=tmp_path,
    )
    assert f"cmlops v{__version__}" in labext and "enabled" in labext and "OK" in labext
    server = run(
        [
            python,
            "-c",
            "import sys; sys.argv=['x', 'list'];"
            "from jupyter_server.extension.serverextension import main; main()",
        ],
        env=env,
        cwd=tmp_path,
    )
    assert "cmlops enabled" in server.replace("\x1b[32m", "").replace("\x1b[0m", "")
    assert f"cmlops {__version__} OK" in server.replace("\x1b[32m", "").replace("\x1b[0m", "")


def test_wheel_sidebar_works_in_browser(wheel_env, browser, tmp_path):
    lab = start_lab(
        tmp_path,
        python=str(wheel_env / "bin" / "python"),
        env=clean_env(wheel_env),
        from_wheel=True,
    )
    try:
        page = open_lab(browser, lab)
        page.evaluate("window.jupyterapp.commands.execute('cmlops:open-sidebar')")
        page.wait_for_selector("#cmlops-sidebar .cmlops-header h2", state="visible")
        page.wait_for_function(
            "document.querySelector('.cmlops-statusbar').dataset.chain === 'ok'",
            timeout=30_000,
        )
        assert page.locator("#cmlops-sidebar .cmlops-error").count() == 0
        page.context.close()
    finally:
        stop_lab(lab.process)
