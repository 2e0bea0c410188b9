"""The report form's file picker: folders and files under the Jupyter root, by relative names.

The browser never sees or sends an absolute path. It asks for a folder relative to
the root (``""`` is the root); the folder is checked by
:func:`cmlops.server.paths.inside_root` (no ``..``, no absolute path, no control
character, no hidden part, and — symlinks followed — still inside the root) before
it is listed. The listing holds only what the form may pick:

* folders and regular files — FIFOs, sockets and devices are left out (a FIFO as a
  report input would block the run);
* no hidden entries (``.cmlops``, ``.ipynb_checkpoints``, dot files);
* a symlink only when it resolves inside the root, outside hidden folders (to a folder
  or a regular file); a link out of the root, into ``.cmlops``, or a broken one, is
  left out;
* for ``kind="plan"``, only ``.yaml``, ``.yml`` and ``.json`` files.

Each entry is named by its path relative to the root, which is what a path
parameter or a plan reference then sends back (and is checked again).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from cmlops.errors import InvalidInputError
from cmlops.server.paths import inside_root, is_hidden_under, relative_parts

#: most entries listed for one folder (folders first); the reply says when cut
MAX_ENTRIES = 1000
#: the file kinds the picker can be asked for, and the suffixes each lists (None: all)
KINDS: dict[str, tuple[str, ...] | None] = {"any": None, "plan": (".yaml", ".yml", ".json")}


def _entry(root: Path, folder_rel: str, item: os.DirEntry[str]) -> dict[str, Any] | None:
    """One listed entry, or None when the picker must not offer it."""
    if item.name.startswith("."):
        return None
    path = Path(item.path)
    try:
        if item.is_symlink():
            target = path.resolve(strict=True)
            if not target.is_relative_to(root) or is_hidden_under(root, target):
                return None
            info = target.stat()
        else:
            info = item.stat(follow_symlinks=False)
    except (OSError, RuntimeError):  # broken link, loop, vanished meanwhile
        return None
    if stat.S_ISDIR(info.st_mode):
        kind = "folder"
    elif stat.S_ISREG(info.st_mode):
        kind = "file"
    else:
        return None
    rel = f"{folder_rel}/{item.name}" if folder_rel else item.name
    return {
        "name": item.name,
        "path": rel,
        "type": kind,
        "size": info.st_size if kind == "file" else None,
        "modified": info.st_mtime,
    }


def _entries(
    root: Path, target: Path, rel: str, suffixes: tuple[str, ...] | None
) -> list[dict[str, Any]]:
    entries = []
    with os.scandir(target) as listing:
        for item in listing:
            entry = _entry(root, rel, item)
            if entry is None:
                continue
            if entry["type"] == "file" and suffixes and not item.name.lower().endswith(suffixes):
                continue
            entries.append(entry)
    return entries


def list_folder(root_dir: Path, folder: str, kind: str = "any") -> dict[str, Any]:
    """What the picker shows of ``folder`` (relative to ``root_dir``)."""
    if kind not in KINDS:
        raise InvalidInputError(f"kind {kind[:40]!r} is not one of {', '.join(KINDS)}")
    root = root_dir.resolve()
    parts = relative_parts(folder, "folder", hidden=False)
    target = inside_root(root, folder, "folder", hidden=False)
    if not target.is_dir():
        raise InvalidInputError(f"folder {folder[:80]!r} is not a folder under the Jupyter root")
    rel = "/".join(parts)
    try:
        entries = _entries(root, target, rel, KINDS[kind])
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InvalidInputError(f"folder {folder[:80]!r} cannot be read: {reason}") from None
    entries.sort(key=lambda e: (e["type"] != "folder", e["name"].casefold(), e["name"]))
    return {
        "folder": rel,
        "parent": "/".join(parts[:-1]) if parts else None,
        "kind": kind,
        "entries": entries[:MAX_ENTRIES],
        "truncated": len(entries) > MAX_ENTRIES,
    }
