"""The server extension's shared services: configuration, the store thread, caches, runs.

Store calls block (SQL, hashing), so they run on one worker thread: Jupyter's
event loop stays responsive for everyone else, and store access is serialised
the same way whichever backend the store uses. Handlers reach the one
:class:`Services` instance through the tornado settings (``SETTINGS_KEY``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from traitlets import Float, Unicode
from traitlets.config import Configurable

from cmlops.server.audit_view import Names
from cmlops.server.chain_check import ChainCheck
from cmlops.server.notebook_graphs import NotebookGraphs
from cmlops.server.package_views import PackageViews
from cmlops.server.runs import RunManager
from cmlops.server.storeaccess import StoreAccess

T = TypeVar("T")

#: Key under which the shared services live in the tornado settings.
SETTINGS_KEY = "cmlops"


class CmlopsServer(Configurable):
    """Settings of the cmlops server extension (``c.CmlopsServer.<name>`` in config)."""

    store_url = Unicode(
        "", help="SQLAlchemy URL of the store; empty: CMLOPS_STORE_URL or the .cmlops folder"
    ).tag(config=True)
    store_home = Unicode(
        "", help="The .cmlops folder to use; empty: CMLOPS_HOME or the nearest .cmlops"
    ).tag(config=True)
    packages_dir = Unicode(
        "", help="Folder holding audit packages; empty: <root_dir>/cmlops-packages"
    ).tag(config=True)
    poll_seconds = Float(1.0, help="How often the sidebar asks for new records").tag(config=True)


class HeadCache:
    """Lineage replies keyed by (query, chain head hash).

    The audit log is append-only and every lineage fact has an audit record, so
    an unchanged head means an unchanged graph: several open sidebars (or one
    re-opened) are answered without querying the store again.
    """

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._items: dict[tuple[str, ...], str] = {}

    def get(self, key: tuple[str, ...]) -> str | None:
        return self._items.get(key)

    def put(self, key: tuple[str, ...], value: str) -> None:
        self._items.pop(key, None)
        self._items[key] = value
        while len(self._items) > self.size:
            self._items.pop(next(iter(self._items)))


class Services:
    """What every handler needs: the store, the report runs, the folders it may read."""

    def __init__(self, config: CmlopsServer, root_dir: Path) -> None:
        self.config = config
        self.root_dir = root_dir
        self.store = StoreAccess(url=config.store_url or None, home=_store_home(config, root_dir))
        packages = (
            Path(config.packages_dir) if config.packages_dir else root_dir / "cmlops-packages"
        )
        self.packages_dir = packages.resolve()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cmlops-store")
        self.lineage_cache = HeadCache()
        self.notebook_graphs = NotebookGraphs()
        self.chain_check = ChainCheck()
        self.runs = RunManager(self.packages_dir, self.store, root_dir)
        self.package_views = PackageViews()
        self.audit_names = Names()

    async def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking store function on the store thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: function(*args, **kwargs))

    async def read_files(self, function: Callable[..., T], *args: Any) -> T:
        """Run blocking file work (verifying, rendering packages) off the store thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: function(*args))

    def close(self) -> None:
        self.runs.close()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.store.close()


def _store_home(config: CmlopsServer, root_dir: Path) -> Path | None:
    """The store folder: configured, else from the environment, else found from ``root_dir``.

    Kernels find ``.cmlops`` from their notebook's folder upwards; the server
    looks from the root folder, so a store at the project root is the one both
    use. Without any, the server's first use creates ``<root_dir>/.cmlops``,
    which kernels in sub-folders then find.
    """
    import os

    from cmlops.config import ENV_HOME, ENV_STORE_URL, find_home

    if config.store_home:
        return Path(config.store_home).expanduser()
    if config.store_url or os.environ.get(ENV_STORE_URL) or os.environ.get(ENV_HOME):
        return None
    return find_home(root_dir)[0]
