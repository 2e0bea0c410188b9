"""`cmlops --version [--verbose]`: the build QA records for a validated installation."""

from __future__ import annotations

import platform
import re
import subprocess
import sys
from importlib import metadata

import pytest

import cmlops

CLI = [sys.executable, "-c", "from cmlops.cli import main; main()"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.req("REQ-DOC-001")
def test_version_is_one_line() -> None:
    done = _run("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"cmlops, version {cmlops.__version__}"


@pytest.mark.req("REQ-DOC-001")
def test_verbose_version_names_the_build_and_every_runtime_dependency() -> None:
    done = _run("--version", "--verbose")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"cmlops {cmlops.__version__}"
    commit = lines[1].removeprefix("commit: ")
    assert commit == "unknown" or re.fullmatch(r"[0-9a-f]{40}", commit)
    assert lines[2].startswith(f"python: {platform.python_version()} ")
    listed = dict(line.split() for line in lines[lines.index("dependencies:") + 1 :])
    for requirement in metadata.requires("cmlops") or []:
        if "extra ==" in requirement:
            continue
        name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement).group(0)
        assert listed[name] == metadata.version(name)
    assert "scipy" in {name.lower() for name in listed}


def test_verbose_before_version_works_too() -> None:
    done = _run("-v", "--version")
    assert done.returncode == 0 and done.stdout.startswith(f"cmlops {cmlops.__version__}\n")
