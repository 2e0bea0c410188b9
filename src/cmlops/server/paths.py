"""Names from the client, never paths: template names, package ids and root-relative paths.

A request can only *name* a template from the catalogue or a package inside the
configured packages folder. Anything that looks like a path (``/``, ``\\``,
``..``, a drive, a leading dot) is refused before the filesystem is touched,
and a resolved package folder must still be inside the packages folder
(symlinks pointing out are refused too). The report form's file picker and path
parameters name files *relative to the Jupyter root* (:func:`relative_parts`,
:func:`inside_root`): absolute paths, ``..``, control characters and, for the
picker, hidden parts are refused before any lookup, and the resolved path
(symlinks followed) must still be inside the root.
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


#: control characters (NUL, line breaks, C1) never belong in a name from the client
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: longest relative path (and path part) a request may name
MAX_PATH = 1024
MAX_PART = 255


def relative_parts(value: str, what: str, *, hidden: bool = True) -> tuple[str, ...]:
    """The parts of a client path relative to the server root, refused before any lookup.

    Refused: absolute paths, ``..``, backslashes and drive letters (Windows traversal),
    control characters (NUL), over-long paths, and — with ``hidden=False`` — hidden
    parts (``.cmlops``, ``.ipynb_checkpoints``). Empty and ``.`` parts are dropped;
    ``""`` is the root itself.
    """
    if not isinstance(value, str):
        raise UnsafeNameError(f"{what} must be text, got {type(value).__name__}")
    bad = ""
    if _CONTROL.search(value):
        bad = "contains a control character"
    elif len(value) > MAX_PATH:
        bad = f"is longer than {MAX_PATH} characters"
    elif value.startswith("/") or "\\" in value or re.match(r"^[A-Za-z]:", value):
        bad = "must be a path relative to the Jupyter root folder"
    if bad:
        raise UnsafeNameError(f"{what} {value[:80]!r} {bad}")
    parts = tuple(part for part in value.split("/") if part not in ("", "."))
    for part in parts:
        if part == "..":
            raise UnsafeNameError(
                f"{what} {value[:80]!r} must be a path relative to the Jupyter root folder, "
                "without '..'"
            )
        if len(part) > MAX_PART:
            raise UnsafeNameError(f"{what} has a part longer than {MAX_PART} characters")
        if not hidden and part.startswith("."):
            raise UnsafeNameError(f"{what} {value[:80]!r} names a hidden file or folder")
    return parts


def inside_root(root_dir: Path, value: str, what: str, *, hidden: bool = True) -> Path:
    """A client path: relative, and resolving (symlinks followed) inside the server root."""
    parts = relative_parts(value, what, hidden=hidden)
    base = root_dir.resolve()
    try:
        resolved = base.joinpath(*parts).resolve()
    except (OSError, RuntimeError) as error:  # a symlink loop, a name the OS refuses
        raise UnsafeNameError(f"{what} {value[:80]!r} cannot be resolved: {error}") from None
    if not resolved.is_relative_to(base):
        raise UnsafeNameError(f"{what} {value[:80]!r} points outside the Jupyter root folder")
    if not hidden and is_hidden_under(base, resolved):
        raise UnsafeNameError(f"{what} {value[:80]!r} leads into a hidden folder")
    return resolved


def is_hidden_under(base: Path, resolved: Path) -> bool:
    """True when ``resolved`` (inside ``base``) lies in or is a hidden file or folder."""
    return any(part.startswith(".") for part in resolved.relative_to(base).parts)
