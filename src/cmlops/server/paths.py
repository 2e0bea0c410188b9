"""Names from the client, never paths: template names and package ids are checked here.

A request can only *name* a template from the catalogue or a package inside the
configured packages folder. Anything that looks like a path (``/``, ``\\``,
``..``, a drive, a leading dot) is refused before the filesystem is touched,
and a resolved package folder must still be inside the packages folder
(symlinks pointing out are refused too).
"""

from __future__ import annotations

import re
from pathlib import Path

from cmlops.errors import InvalidInputError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


class UnsafeNameError(InvalidInputError):
    """A template name or package id that is not a plain name."""


_TEMPLATE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


def check_template_name(value: str) -> str:
    """A catalogue name only: no dots, so never ``x.ipynb`` (the catalogue reads that as a path)."""
    if not _TEMPLATE.fullmatch(value or ""):
        raise UnsafeNameError(
            f"template name {value!r} is not a catalogue name: use letters, digits, '_', '-'"
        )
    return value


def check_plain_name(value: str, what: str) -> str:
    """Return ``value`` if it is a plain name (letters, digits, ``_ . -``; no ``..``)."""
    if not _NAME.fullmatch(value or "") or ".." in value:
        raise UnsafeNameError(
            f"{what} {value!r} is not a plain name: use letters, digits, '_', '.', '-' (no paths)"
        )
    return value


def package_folder(packages_dir: Path, package_id: str) -> Path:
    """The folder of package ``package_id``; raises when it would leave ``packages_dir``."""
    check_plain_name(package_id, "package id")
    base = packages_dir.resolve()
    folder = (base / package_id).resolve()
    if folder.parent != base:
        raise UnsafeNameError(f"package id {package_id!r} points outside the packages folder")
    return folder


def inside_root(root_dir: Path, value: str, what: str) -> Path:
    """A file path parameter from the form: relative, and resolving inside the server root."""
    candidate = Path(value)
    if candidate.is_absolute() or ".." in candidate.parts:
        raise UnsafeNameError(
            f"{what} {value!r} must be a path relative to the Jupyter root folder, without '..'"
        )
    base = root_dir.resolve()
    resolved = (base / candidate).resolve()
    if not resolved.is_relative_to(base):
        raise UnsafeNameError(f"{what} {value!r} points outside the Jupyter root folder")
    return resolved
