"""The cmlops wheel, built once per test session and installed alone in a fresh venv.

A pytest plugin (listed in ``tests/conftest.py``): ``wheel_env`` is shared by the
browser test of the wheel and the selftest run on the installed wheel, so CI
builds the wheel once. Dependencies come from the test venv through a ``.pth``
file; cmlops itself only from the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run(args: list[str], **kwargs) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, **kwargs)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


@pytest.fixture(scope="session")
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
