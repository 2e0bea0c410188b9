"""The sidebar's view of audit packages: a listing with a fresh verdict, and read-only pages.

Opening a package's notebook as a JupyterLab document lets the contents manager
write ``.ipynb_checkpoints/`` into the package (and an autosave could rewrite
the notebook): verification then fails and signing is refused. The sidebar
therefore never opens package files as documents. The server serves the
report (``report.html`` as packaged) and the executed notebook (rendered to
HTML with its code, by nbconvert) from handlers that only read; the page is
sent with a Content-Security-Policy that sandboxes it into an opaque origin
(its scripts can reach neither the Jupyter API nor the network) and shows a
warning first when the package fails verification.

The "verified" badge is never stale: each listing verifies again every package
whose entries changed since it was last verified. Whether they changed is read
from a fingerprint of every entry (path, type, size, modification and change
time, inode) — the change time cannot be set back by a user, so rewriting a
file and restoring its modification time still changes the fingerprint.
"""

from __future__ import annotations

import html
import os
import stat
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

#: the header a package page is served with: sandboxed (opaque origin), nothing fetched
VIEW_CSP = (
    "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; media-src data: blob:; "
    "connect-src 'none'; form-action 'none'; base-uri 'none'; frame-ancestors 'self'"
)
VIEWS = ("report", "notebook")
_FILES = {"report": "report.html", "notebook": "notebook.ipynb"}
#: the largest file a view renders (a package's report is a few MB)
MAX_VIEW_BYTES = 256 * 1024 * 1024


def fingerprint(folder: Path) -> tuple[Any, ...]:
    """What changes whenever anything in ``folder`` is added, removed, replaced or written."""

    def facts(path: Path, rel: str) -> tuple[Any, ...]:
        info = path.lstat()
        return (
            rel,
            stat.S_IFMT(info.st_mode),
            info.st_size,
            info.st_mtime_ns,
            info.st_ctime_ns,
            info.st_ino,
        )

    found = [facts(folder, ".")]
    for current, dirs, files in os.walk(folder, followlinks=False):
        for name in sorted([*dirs, *files]):
            path = Path(current) / name
            found.append(facts(path, path.relative_to(folder).as_posix()))
    return tuple(found)


class PackageViews:
    """Each package's verification and rendered views, recomputed when its fingerprint
    changes (thread-safe; the handlers call it from the services' worker threads)."""

    def __init__(self, size: int = 512, pages: int = 8) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._known: OrderedDict[str, tuple[tuple[Any, ...], dict[str, Any]]] = OrderedDict()
        self._pages: OrderedDict[tuple[str, str], tuple[tuple[Any, ...], str]] = OrderedDict()
        self._page_count = pages

    def page(self, folder: Path, view: str) -> str | None:
        """The read-only page of ``view`` (rendered again only when the package changed)."""
        key = (str(folder), view)
        try:
            now = fingerprint(folder)
        except OSError:
            return None
        with self._lock:
            cached = self._pages.get(key)
        if cached is not None and cached[0] == now:
            return cached[1]
        page = render_view(folder, view, self)
        if page is not None:
            with self._lock:
                self._pages[key] = (now, page)
                self._pages.move_to_end(key)
                while len(self._pages) > self._page_count:
                    self._pages.popitem(last=False)
        return page

    def verdict(self, folder: Path) -> dict[str, Any]:
        """``{verified, status, problem, verdict}`` of the package as it is now (``verdict``:
        the plan's PASS / FAIL / NOT EVALUATED its manifest states)."""
        from cmlops.errors import CmlopsError
        from cmlops.reports.verify import verify_package

        key = str(folder)
        try:
            now = fingerprint(folder)
        except OSError as error:
            return {"verified": False, "status": "", "problem": f"unreadable: {error.strerror}"}
        with self._lock:
            known = self._known.get(key)
        if known is not None and known[0] == now:
            return known[1]
        try:
            result = verify_package(folder)
            lines = result.lines()
            found = {
                "verified": result.ok,
                "status": result.status,
                "problem": lines[0] if lines else "",
                "verdict": _plan_verdict(folder),
            }
        except (CmlopsError, OSError, ValueError) as error:
            found = {
                "verified": False,
                "status": "",
                "problem": str(error).splitlines()[0],
                "verdict": "",
            }
        with self._lock:
            self._known[key] = (now, found)
            self._known.move_to_end(key)
            while len(self._known) > self._size:
                self._known.popitem(last=False)
        return found


def _plan_verdict(folder: Path) -> str:
    from cmlops.reports.manifest import read_manifest
    from cmlops.server.runs import plan_verdict_of

    return plan_verdict_of(read_manifest(folder)[0])


def view_file(folder: Path, view: str) -> Path | None:
    """The package file behind a view: a regular file (never a link, FIFO or folder)."""
    path = folder / _FILES[view]
    try:
        info = path.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_VIEW_BYTES:
        return None
    return path


def describe(folder: Path, views: PackageViews) -> dict[str, Any]:
    """One package of the listing: id, verdict now, and the views it offers."""
    files = sum(1 for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return {
        "id": folder.name,
        "modified": folder.stat().st_mtime,
        "files": files,
        "views": [view for view in VIEWS if view_file(folder, view) is not None],
        **views.verdict(folder),
    }


def _warning(verdict: dict[str, Any]) -> str:
    if verdict.get("verified"):
        return ""
    return (
        '<div style="position:sticky;top:0;z-index:10;background:#ffebee;color:#8b0000;'
        'border-bottom:3px solid #cf222e;padding:8px 12px;font:600 14px sans-serif">'
        "This package FAILS verification — do not rely on this view: "
        f"{html.escape(str(verdict.get('problem') or 'see cmlops package verify'))}</div>"
    )


def render_view(folder: Path, view: str, views: PackageViews) -> str | None:
    """The page of a view, or None when the package has no such file. Reads only."""
    from cmlops.reports.offline_html import neutralise
    from cmlops.reports.render import notebook_page, remote_notice

    path = view_file(folder, view)
    if path is None:
        return None
    notice = ""
    if view == "report":  # its first page already lists what the run's outputs referenced
        page, _blocked = neutralise(path.read_text("utf-8", errors="replace"))
    else:
        title = f"{folder.name} — executed notebook (read-only)"
        page, blocked = notebook_page(path, title=title, show_code=True)
        notice = remote_notice(blocked)
    banner = _warning(views.verdict(folder)) + notice
    if banner:
        marker = page.lower().find("<body")
        end = page.find(">", marker) + 1 if marker >= 0 else 0
        page = page[:end] + banner + page[end:]
    return page
