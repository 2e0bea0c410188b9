"""Where the store lives and who is acting: resolved from the environment.

Resolution order for the store (the way git finds ``.git``):

1. ``CMLOPS_STORE_URL`` — any SQLAlchemy URL (PostgreSQL is the team store);
2. ``CMLOPS_HOME`` — a folder used as the ``.cmlops`` folder itself;
3. the nearest ``.cmlops/`` folder in the working directory or its parents;
4. ``./.cmlops/`` in the working directory, created on first write.

Artifacts (write-once blobs) always live in ``<home>/artifacts``; with a URL
store, ``<home>`` is resolved by steps 2–4.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

STORE_DIRNAME = ".cmlops"
SQLITE_FILENAME = "store.sqlite"
ENV_STORE_URL = "CMLOPS_STORE_URL"
ENV_HOME = "CMLOPS_HOME"
ENV_USER = "CMLOPS_USER"


@dataclass(frozen=True)
class StoreLocation:
    """The resolved store: a SQLAlchemy URL and the local home for artifacts."""

    url: str
    home: Path
    source: str  # "CMLOPS_STORE_URL", "CMLOPS_HOME", "found", "created" or "argument"


def find_home(start: Path | None = None) -> tuple[Path, str]:
    """Return the ``.cmlops`` folder to use and how it was chosen."""
    env_home = os.environ.get(ENV_HOME)
    if env_home:
        return Path(env_home).expanduser().absolute(), ENV_HOME
    here = (start or Path.cwd()).absolute()
    for folder in (here, *here.parents):
        candidate = folder / STORE_DIRNAME
        if candidate.is_dir():
            return candidate, "found"
    return here / STORE_DIRNAME, "created"


def sqlite_url(home: Path) -> str:
    return f"sqlite:///{home / SQLITE_FILENAME}"


def resolve_store(
    url: str | None = None, home: Path | str | None = None, start: Path | None = None
) -> StoreLocation:
    """Resolve the store from explicit arguments first, then the environment."""
    if home is not None:
        home_path = Path(home).expanduser().absolute()
        return StoreLocation(url or sqlite_url(home_path), home_path, "argument")
    found_home, how = find_home(start)
    if url:
        return StoreLocation(url, found_home, "argument")
    env_url = os.environ.get(ENV_STORE_URL)
    if env_url:
        return StoreLocation(env_url, found_home, ENV_STORE_URL)
    return StoreLocation(sqlite_url(found_home), found_home, how)


def default_actor() -> str:
    """The person acting: ``CMLOPS_USER``, else the JupyterHub user, else the OS user."""
    for variable in (ENV_USER, "JUPYTERHUB_USER"):
        value = os.environ.get(variable)
        if value:
            return value
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"
