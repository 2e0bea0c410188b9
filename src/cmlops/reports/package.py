"""Writing audit packages safely, zipping them, and opening zips without trusting them.

A package is assembled in a hidden temporary folder beside its destination and
renamed into place only when complete (``manifest.json`` written last), so a
crash, a full disk or a permission error never leaves a half-written package
that looks complete. An existing destination is refused unless forced, and a
signed package is never overwritten. The ``.zip`` is likewise written to a
temporary file and renamed.

A published package is read-only — every file and every folder, the
manifest written by ``atomic_files`` with ``read_only=True`` — so an editor, a
notebook server saving a checkpoint or a stray script running as the user
cannot change or add to it; the ``.zip`` gets the same mode as the files.
Signing and the archival PDF are the only later writers: :func:`writable_folder`
opens the package folder (not its files) for their files only and closes it again.

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
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from cmlops.atomic_files import atomic_open
from cmlops.reports.errors import PackageError, PackageExistsError
from cmlops.reports.manifest import SIGNATURES

#: limits on a zip opened for verification (a package holds a few dozen files)
MAX_ZIP_ENTRIES = 10_000
#: total bytes a zip may expand to (packages with large outputs stay well below)
MAX_ZIP_BYTES = 16 * 1024**3
#: largest expansion factor of one entry above RATIO_FLOOR bytes (deflate tops out near
#: 1,032; real package files compress 2-20-fold)
MAX_RATIO = 200
RATIO_FLOOR = 1024 * 1024
#: files above this size are stored, not deflated: large outputs are mostly
#: binary (parquet, models) and deflating them costs far more than it saves
STORE_ABOVE = 64 * 1024 * 1024


def is_signed(folder: Path) -> bool:
    """True when the folder holds an audit package with at least one signature."""
    return (folder / SIGNATURES).is_file()


def check_destination(out: Path, *, force: bool, store: Any = None) -> None:
    """Refuse an existing destination unless ``force`` may replace it.

    ``force`` replaces only an unsigned cmlops package: a folder whose manifest
    is a valid package manifest, that holds nothing but the package's own files
    (no audit store, no signature, no nested package, no file the manifest does
    not list) and — when ``store`` is given — whose run was recorded in that
    store. Anything else (a project folder, a signed package, another store's
    package) is refused, with or without ``force``.
    """
    if not (out.exists() or out.is_symlink()):
        return
    if out.is_symlink() or not out.is_dir():
        raise PackageExistsError(f"{out} exists and is not a folder: choose another --out")
    if is_signed(out):
        raise PackageExistsError(
            f"{out} holds a signed package: signed packages are never overwritten; "
            "choose another --out"
        )
    if not force:
        raise PackageExistsError(f"output folder {out} exists: choose another --out or --force")
    package_id = _replaceable_package(out)
    if store is not None and not store.records(
        action="report.started", object_type="report", object_id=package_id, limit=1
    ):
        raise PackageExistsError(
            f"{out} holds package {package_id} of another audit store: --force replaces "
            "only packages of this store; choose another --out"
        )


def _replaceable_package(out: Path) -> str:
    """The package id of ``out`` if it is nothing but an unsigned cmlops package."""
    from cmlops.reports.manifest import MANIFEST, UNLISTED, read_manifest, validate_manifest

    refuse = f"--force replaces only an unsigned cmlops package, and {out}"
    try:
        manifest, _raw = read_manifest(out)
    except PackageError:
        raise PackageExistsError(f"{refuse} is not one (no valid {MANIFEST})") from None
    if validate_manifest(manifest):
        raise PackageExistsError(f"{refuse} has a manifest that is not a package manifest")
    listed = {entry["path"] for entry in manifest["files"]}
    allowed = listed | set(UNLISTED)
    allowed |= {p.as_posix() for rel in listed for p in PurePosixPath(rel).parents}
    for folder, dirs, files in os.walk(out, followlinks=False):
        for name in [*dirs, *files]:
            rel = (Path(folder) / name).relative_to(out).as_posix()
            if name in (".cmlops", SIGNATURES, MANIFEST) and rel not in (MANIFEST,):
                raise PackageExistsError(f"{refuse} contains {rel}: never replaced")
            if rel not in allowed:
                raise PackageExistsError(
                    f"{refuse} contains {rel}, which is not part of the package: move it first"
                )
    return str(manifest["package_id"])


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
        remove_tree(tmp)
        raise


_WRITE = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def make_read_only(root: Path) -> None:
    """Clear the write bits of every file and folder under ``root`` (and of ``root``).

    Folders last, deepest first, so the walk never needs to write where it just
    closed. Links are never followed (a link's own mode means nothing on Linux).
    """
    for folder, dirs, files in os.walk(root, topdown=False, followlinks=False):
        for name in [*files, *dirs]:
            path = Path(folder) / name
            mode = path.lstat().st_mode
            if not stat.S_ISLNK(mode):
                path.chmod(stat.S_IMODE(mode) & ~_WRITE)
    root.chmod(stat.S_IMODE(root.stat().st_mode) & ~_WRITE)


@contextmanager
def writable_folder(root: Path) -> Iterator[None]:
    """The package folder (only the folder: its files stay read-only) open for writing
    while signature files or the archival PDF are put in it, read-only again after —
    also on failure."""
    mode = stat.S_IMODE(root.stat().st_mode)
    root.chmod(mode | stat.S_IWUSR)
    try:
        yield
    finally:
        root.chmod(mode & ~_WRITE)


def remove_tree(path: Path) -> None:
    """Remove a folder cmlops wrote, read-only or not (staging, a replaced package)."""
    if not path.is_dir() or path.is_symlink():
        return
    path.chmod(stat.S_IMODE(path.stat().st_mode) | stat.S_IRWXU)
    for folder, dirs, _files in os.walk(path, followlinks=False):
        for name in dirs:
            sub = Path(folder) / name
            if not sub.is_symlink():
                sub.chmod(stat.S_IMODE(sub.stat().st_mode) | stat.S_IRWXU)
    shutil.rmtree(path, ignore_errors=True)


def publish(tmp: Path, out: Path, *, force: bool, store: Any = None) -> None:
    """Move the finished staging folder to ``out`` (replacing an unsigned one if forced)."""
    check_destination(out, force=force, store=store)
    if out.exists():
        trash = out.parent / f".{out.name}.replaced-{uuid.uuid4().hex[:8]}"
        os.replace(out, trash)
        os.replace(tmp, out)
        remove_tree(trash)
    else:
        os.replace(tmp, out)


def zip_package(folder: Path, target: Path | None = None) -> Path:
    """Write ``<folder>.zip`` (entries under the package folder name) atomically.

    The zip is read-only like the package's files (replacing it later, after a
    signature, is a rename in its folder and needs no write bit on the file).
    """
    target = target or folder.with_name(folder.name + ".zip")
    with (
        atomic_open(target, "wb", read_only=True) as handle,
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


def _check_sizes(members: list[zipfile.ZipInfo]) -> None:
    """Refuse a zip whose declared sizes already exceed the limits (a zip bomb)."""
    if len(members) > MAX_ZIP_ENTRIES:
        raise PackageError(
            f"unsafe zip: {len(members):,} entries is more than a package holds "
            f"({MAX_ZIP_ENTRIES:,})"
        )
    total = sum(info.file_size for info in members)
    if total > MAX_ZIP_BYTES:
        raise PackageError(
            f"unsafe zip: it would expand to {total:,} bytes, more than the limit of "
            f"{MAX_ZIP_BYTES:,}"
        )
    for info in members:
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise PackageError(
                f"unsafe zip: entry {info.filename!r} expands more than {MAX_RATIO}-fold "
                "(a zip bomb?)"
            )


def _extract_entry(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, budget: list[int]
) -> None:
    """Copy one entry, counting real bytes: a lying header cannot exceed the limits."""
    written = 0
    try:
        with zf.open(info) as src, open(dest, "xb") as dst:
            while chunk := src.read(1024 * 1024):
                written += len(chunk)
                budget[0] -= len(chunk)
                if written > info.file_size or budget[0] < 0:
                    raise PackageError(
                        f"unsafe zip: entry {info.filename!r} expands beyond its declared size "
                        "or the total limit (a zip bomb?)"
                    )
                if written > RATIO_FLOOR and written > MAX_RATIO * max(info.compress_size, 1):
                    raise PackageError(
                        f"unsafe zip: entry {info.filename!r} expands more than "
                        f"{MAX_RATIO}-fold (a zip bomb?)"
                    )
                dst.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise PackageError(
            f"damaged zip: entry {info.filename!r} cannot be read ({one_line(exc)}): "
            "get an intact copy of the package"
        ) from None
    except NotImplementedError:
        raise PackageError(
            f"zip entry {info.filename!r} uses a compression method cmlops does not read"
        ) from None
    except RuntimeError as exc:  # encrypted entries
        raise PackageError(f"zip entry {info.filename!r} cannot be read: {one_line(exc)}") from None


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        info = path.stat()
    except OSError as exc:
        raise PackageError(f"no audit package at {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise PackageError(f"{path} is neither a package folder nor a zip file")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError):
        raise PackageError(f"{path} is neither a package folder nor a valid zip") from None


@contextmanager
def opened_package(path: Path) -> Iterator[Path]:
    """The package folder for ``path``: the folder itself, or a zip safely extracted.

    A zip is checked before anything is written — entry names (no absolute
    paths, ``..``, drive letters, backslashes, duplicates or links), entry count,
    declared total size and compression ratio — and again while extracting,
    counting the real bytes, so a header that lies about sizes cannot fill the disk.
    A damaged entry (CRC or deflate error) is a one-line error.
    """
    if path.is_dir():
        yield path
        return
    if not path.exists() and not path.is_symlink():
        raise PackageError(f"no audit package at {path}")
    zf = _open_zip(path)
    with zf, tempfile.TemporaryDirectory(prefix="cmlops-verify-") as tmp_name:
        try:
            members = zf.infolist()
        except (zipfile.BadZipFile, ValueError) as exc:
            raise PackageError(f"damaged zip {path}: {one_line(exc)}") from None
        _check_sizes(members)
        checked = [(info, _safe_member(info)) for info in members]
        seen: set[PurePosixPath] = set()
        for info, rel in checked:
            if rel in seen:
                raise PackageError(f"unsafe zip: entry {info.filename!r} appears twice")
            seen.add(rel)
        root = Path(tmp_name)
        budget = [MAX_ZIP_BYTES]
        for info, rel in checked:
            dest = root.joinpath(*rel.parts)
            if info.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            _extract_entry(zf, info, dest, budget)
        tops = {rel.parts[0] for _info, rel in checked}
        if len(tops) == 1 and (root / next(iter(tops))).is_dir():
            yield root / next(iter(tops))
        else:
            yield root
