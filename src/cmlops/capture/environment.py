"""Who, where and with what: the environment snapshot and the run context.

The environment (Python, OS, installed package versions) is captured once per
process and named by the SHA-256 of its canonical JSON, so a thousand cells
that ran in the same kernel reference one stored environment.
"""

from __future__ import annotations

import hashlib
import os
import platform
import sys
from functools import lru_cache
from importlib import metadata
from typing import Any

from cmlops.config import session_id
from cmlops.store.chain import canonical_json


@lru_cache(maxsize=1)
def environment_snapshot() -> tuple[str, dict[str, Any]]:
    """Return ``(environment_id, snapshot)``; computed once per process."""
    packages: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name:
            packages[name.lower()] = dist.version
    snapshot = {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "os": platform.system(),
        "os_release": platform.release(),
        "machine": platform.machine(),
        "packages": dict(sorted(packages.items())),
    }
    digest = hashlib.sha256(canonical_json(snapshot)).hexdigest()
    return f"env:{digest}", snapshot


def notebook_path(user_ns: dict[str, Any] | None = None) -> str:
    """The notebook running this code, best effort.

    Order: ``CMLOPS_NOTEBOOK`` (set by cmlops report runs and papermill users),
    ``__session__`` in the namespace (JupyterLab / Notebook 7 set it to the
    notebook path), ``JPY_SESSION_NAME`` (set in the kernel's environment by
    jupyter_server), then ``__vsc_ipynb_file__`` (VS Code); empty when unknown.
    """
    explicit = os.environ.get("CMLOPS_NOTEBOOK")
    if explicit:
        return explicit
    ns = user_ns or {}
    for key in ("__session__", "__vsc_ipynb_file__"):
        value = ns.get(key)
        if isinstance(value, str) and value:
            return value
    return os.environ.get("JPY_SESSION_NAME", "")


def kernel_session(shell: Any = None) -> str:
    """The Jupyter kernel session id, or a per-process id outside Jupyter."""
    return session_id(shell)
