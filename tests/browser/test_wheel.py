"""The wheel alone gives a working extension: installed into a fresh environment, with no
node on PATH, JupyterLab lists both extensions and the sidebar talks to the server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.browser.conftest import REPO, open_lab, start_lab, stop_lab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Only the venv: no node, npm or jupyter scripts from elsewhere.


def run(args: list[str], **kwargs) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, **kwargs)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory) -> Path:
    """A venv with only the cmlops wheel installed (dependencies from the test venv)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    files = run(["git", "ls-files", "-z"], cwd=REPO).split("\0")
    for name in filter(None, files):
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (REPO / name).is_file():
            shutil.copy2(REPO / name, target)
    (source / "node_modules").symlink_to(REPO / "node_modules", target_is_directory=True)
    # Building needs node and jupyter-builder (from this venv); running the wheel does not.
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(source),
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(base / "dist"),
        ],
        cwd=base,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )
    wheel = next((base / "dist").glob("cmlops-*.whl"))
    venv = base / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    # Install first: with the test venv already on the path, pip would find the cmlops
    # installed there (CI installs it non-editable) and install nothing.
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", str(wheel)])
    site = next(venv.glob("lib/python3*/site-packages"))
    deps = Path(sysconfig.get_paths()["purelib"])
    (site / "zz_test_dependencies.pth").write_text(str(deps) + "\n")
    return venv


def clean_env(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "JUPYTER_PATH"}}
    env["PATH"] = str(venv / "bin")
    return env


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
    assert "cmlops v0.1.0" in labext and "enabled" in labext and "OK" in labext
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
    assert "cmlops 0.1.0 OK" in server.replace("\x1b[32m", "").replace("\x1b[0m", "")


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
