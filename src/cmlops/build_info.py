"""What exactly is installed: version, source commit, Python, platform, dependency versions.

A validated installation is identified by more than a version number: QA needs
the commit the code came from (when it can be known) and the versions of every
library cmlops depends on, because a statistic or a signature check is only as
right as the SciPy or cryptography underneath it. ``cmlops --version --verbose``
prints this, and installation qualification compares it with the tested set.

The commit comes from pip's ``direct_url.json`` (installs from a VCS URL record
it) or, for a source checkout, from git; otherwise it is reported as unknown
rather than guessed.
"""

from __future__ import annotations

import json
import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from cmlops._version import __version__

__all__ = ["build_info", "format_build_info"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def _distribution() -> metadata.Distribution | None:
    try:
        return metadata.distribution("cmlops")
    except metadata.PackageNotFoundError:
        return None


def _commit_from_direct_url(dist: metadata.Distribution | None) -> str | None:
    text = dist.read_text("direct_url.json") if dist is not None else None
    if not text:
        return None
    try:
        commit = json.loads(text).get("vcs_info", {}).get("commit_id")
    except (ValueError, AttributeError):
        return None
    return commit if isinstance(commit, str) else None


def _commit_from_checkout() -> str | None:
    """The commit of the source checkout this module is imported from, if it is one."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists() or not (root / "pyproject.toml").is_file():
        return None
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else None


def _dependency_versions(dist: metadata.Distribution | None) -> dict[str, str]:
    """Installed version of each runtime requirement (extras excluded), by project name."""
    versions: dict[str, str] = {}
    for requirement in (dist.requires or []) if dist is not None else []:
        if "extra ==" in requirement.replace("extra==", "extra =="):
            continue
        match = _NAME.match(requirement.strip())
        if not match:
            continue
        name = match.group(0)
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return dict(sorted(versions.items(), key=lambda item: item[0].lower()))


def build_info() -> dict[str, Any]:
    """The installation's identity as plain JSON-ready data (see the module docstring)."""
    dist = _distribution()
    commit = _commit_from_direct_url(dist) or _commit_from_checkout()
    return {
        "cmlops": __version__,
        "commit": commit or "unknown",
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "executable": sys.executable,
        "dependencies": _dependency_versions(dist),
    }


def format_build_info(info: dict[str, Any]) -> str:
    """Plain text for the terminal, one fact per line."""
    lines = [
        f"cmlops {info['cmlops']}",
        f"commit: {info['commit']}",
        f"python: {info['python']} ({info['implementation']}, {info['executable']})",
        f"platform: {info['platform']}",
        "dependencies:",
    ]
    lines += [f"  {name} {version}" for name, version in info["dependencies"].items()]
    return "\n".join(lines)
