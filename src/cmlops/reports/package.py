"""Writing audit packages safely, zipping them, and opening zips without trusting them.

A package is assembled in a hidden temporary folder beside its destination and
renamed into place only when complete (``manifest.json`` written last), so a
crash, a full disk or a permission error never leaves a half-written package
that looks complete. An existing destination is refused unless forced, and a
signed package is never overwritten. The ``.zip`` is likewise written to a
temporary file and renamed.

Opening a zip for verification extracts nothing outside a fresh temporary
folder: entries with absolute paths, ``..`` components, drive letters,
backslashes or symlink modes are refused with a one-line error before any byte
is written.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from cmlops.atomic_files import atomic_open
from cmlops.reports.errors import PackageError, PackageExistsError
from cmlops.reports.manifest import SIGNATURES

MAX_ZIP_ENTRIES = 100_000
#: files above this size are stored, not deflated: large outputs are mostly
#: binary (parquet, models) and deflating them costs far more than it saves
STORE_ABOVE = 64 * 1024 * 1024


def is_signed(folder: Path) -> bool:
    """True when the folder holds an audit package with at least one signature."""
    return (folder / SIGNATURES).is_file()


def check_destination(out: Path, *, force: bool) -> None:
    """Refuse an existing destination (a signed package even with ``force``)."""
    if out.exists() or out.is_symlink():
        if is_signed(out):
            raise PackageExistsError(
                f"{out} holds a signed package: signed packages are never overwritten; "
                "choose another --out"
            )
        if not force:
            raise PackageExistsError(f"output folder {out} exists: choose another --out or --force")
        if not out.is_dir() or out.is_symlink():
            raise PackageExistsError(f"{out} exists and is not a folder: remove it first")


def staging_dir(out: Path) -> Path:
    """A new hidden ``.NAME.partial-*`` folder beside ``out`` with ordinary permissions."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes 0700; a package is an ordinary folder
    return tmp


@contextmanager
def staging(out: Path) -> Iterator[Path]:
    """A temporary folder next to ``out``, removed again if the block fails."""
    tmp = staging_dir(out)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def publish(tmp: Path, out: Path, *, force: bool) -> None:
    """Move the finished staging folder to ``out`` (replacing an unsigned one if forced)."""
    check_destination(out, force=force)
    if out.exists():
        trash = out.parent / f".{out.name}.replaced-{uuid.uuid4().hex[:8]}"
        os.replace(out, trash)
        os.replace(tmp, out)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, out)


def zip_package(folder: Path, target: Path | None = None) -> Path:
    """Write ``<folder>.zip`` (entries under the package folder name) atomically."""
    target = target or folder.with_name(folder.name + ".zip")
    with (
        atomic_open(target, "wb") as handle,
        zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf,
    ):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                arc = f"{folder.name}/{path.relative_to(folder).as_posix()}"
                big = path.stat().st_size > STORE_ABOVE
                zf.write(path, arc, compress_type=zipfile.ZIP_STORED if big else None)
    return target


def _safe_member(info: zipfile.ZipInfo) -> PurePosixPath:
    name = info.filename
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise PackageError(f"unsafe zip: entry {name!r} is a symbolic link")
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise PackageError(f"unsafe zip: entry {name!r} has an absolute or Windows path")
    path = PurePosixPath(name)
    if any(part in ("..", "") for part in path.parts) or not path.parts:
        raise PackageError(f"unsafe zip: entry {name!r} leaves the package folder")
    return path


@contextmanager
def opened_package(path: Path) -> Iterator[Path]:
    """The package folder for ``path``: the folder itself, or a zip safely extracted."""
    if path.is_dir():
        yield path
        return
    if not path.is_file():
        raise PackageError(f"no audit package at {path}")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise PackageError(f"{path} is neither a package folder nor a valid zip") from None
    with zf, tempfile.TemporaryDirectory(prefix="cmlops-verify-") as tmp_name:
        members = zf.infolist()
        if len(members) > MAX_ZIP_ENTRIES:
            raise PackageError(f"unsafe zip: {len(members)} entries is more than a package holds")
        checked = [(info, _safe_member(info)) for info in members]
        seen: set[PurePosixPath] = set()
        for info, rel in checked:
            if rel in seen:
                raise PackageError(f"unsafe zip: entry {info.filename!r} appears twice")
            seen.add(rel)
        root = Path(tmp_name)
        for info, rel in checked:
            dest = root.joinpath(*rel.parts)
            if info.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(dest, "xb") as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
        tops = {rel.parts[0] for _info, rel in checked}
        if len(tops) == 1 and (root / next(iter(tops))).is_dir():
            yield root / next(iter(tops))
        else:
            yield root
