"""Where the store lives and who is acting: resolved from the environment.

Who acts (:class:`Actor`) is taken from the strongest source the environment
offers: on a PostgreSQL store the database session role (resolved by the
store, which asks the server), in JupyterHub the hub user, else the OS user.
``CMLOPS_USER`` is only ever a *claimed* name, recorded beside the actor.

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
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

STORE_DIRNAME = ".cmlops"
SQLITE_FILENAME = "store.sqlite"
ENV_STORE_URL = "CMLOPS_STORE_URL"
ENV_HOME = "CMLOPS_HOME"
ENV_USER = "CMLOPS_USER"
ENV_HUB_USER = "JUPYTERHUB_USER"


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


@dataclass(frozen=True)
class Actor:
    """Who acts, how strongly that is established, and what name they claimed.

    ``source`` says where ``name`` came from, strongest first: ``postgresql``
    (the database session role, authenticated by the server), ``jupyterhub``
    (the hub user the spawner put in the environment) or ``os`` (the operating
    system account). ``claimed`` is ``CMLOPS_USER`` (or a name given in code):
    recorded beside the actor, never in its place.
    """

    name: str
    source: str
    claimed: str = ""


SOURCE_DATABASE = "postgresql"
SOURCE_HUB = "jupyterhub"
SOURCE_OS = "os"


def os_user() -> str:
    """The operating-system account running this process."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def hub_user() -> str:
    """The JupyterHub user of this single-user server (empty outside a hub)."""
    return os.environ.get(ENV_HUB_USER, "")


def claimed_user() -> str:
    """The name given in ``CMLOPS_USER``: a claim, not an identity."""
    return os.environ.get(ENV_USER, "")


def local_actor(claimed: str | None = None) -> Actor:
    """The actor when no database authenticates: the hub user, else the OS user."""
    claim = claimed_user() if claimed is None else claimed
    hub = hub_user()
    if hub:
        return Actor(hub, SOURCE_HUB, claim)
    return Actor(os_user(), SOURCE_OS, claim)


_PROCESS_SESSION = str(uuid.uuid4())


def session_id(shell: object = None) -> str:
    """The Jupyter kernel session id, or a random id of this process outside a kernel.

    Without ``shell`` the running IPython shell is used when IPython is already
    imported (this never imports it).
    """
    if shell is None:
        ipython = sys.modules.get("IPython")
        get = getattr(ipython, "get_ipython", None)
        shell = get() if get is not None else None
    kernel = getattr(shell, "kernel", None)
    session = getattr(getattr(kernel, "session", None), "session", None)
    if isinstance(session, str) and session:
        return session
    return _PROCESS_SESSION
