"""Acceptance plans from the report form: uploaded from the browser, or picked under the root.

A plan reaches a run in one of three ways, named in the request, never by an
absolute path:

* none — the template's default plan;
* ``{"path": "plans/flchain.yaml"}`` — a file relative to the Jupyter root, checked
  like every client path (:func:`cmlops.server.paths.inside_root`, no hidden parts)
  and required to be a regular ``.yaml``/``.yml``/``.json`` file;
* ``{"upload": "<sha256>.yaml"}`` — a plan uploaded earlier with :func:`upload_plan`.

An upload is parsed and checked exactly as ``--plan FILE`` is
(:func:`cmlops.reports.plan.plan_from_bytes`: size, strict types, no YAML tags, no
NaN) *before* it is kept, then written once, read-only, under
``<packages folder>/.plans/`` and named by the SHA-256 of its bytes. The run records
that file as the plan's source, so the exact bytes a reviewer uploaded stay next to
the packages made with them (and the recorded ``raw_sha256`` is the file's name).
"""

from __future__ import annotations

import base64
import binascii
import re
import stat
from pathlib import Path
from typing import Any

from cmlops.errors import InvalidInputError
from cmlops.server.paths import inside_root

#: where uploaded plans are kept, inside the packages folder (hidden: not a package)
PLANS_FOLDER = ".plans"
PLAN_SUFFIXES = (".yaml", ".yml", ".json")
_UPLOAD_NAME = re.compile(r"^[^/\\\x00-\x1f\x7f]{1,200}$")
_STORED = re.compile(r"^[0-9a-f]{64}\.(yaml|yml|json)$")


def _suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in PLAN_SUFFIXES:
        raise InvalidInputError(
            f"plan file {name[:80]!r} is not a plan: give a .yaml, .yml or .json file"
        )
    return suffix


def _decode(content: Any, name: str) -> bytes:
    from cmlops.reports.plan import MAX_PLAN_BYTES

    if not isinstance(content, str):
        raise InvalidInputError("the uploaded plan must be sent as base64 text")
    if len(content) > (MAX_PLAN_BYTES // 3 + 2) * 4:
        raise InvalidInputError(f"plan {name} is larger than {MAX_PLAN_BYTES // 1024} KiB")
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError(f"the upload of plan {name} is not valid base64") from None


def upload_plan(packages_dir: Path, name: Any, content: Any) -> dict[str, Any]:
    """Check an uploaded plan, keep it (content-addressed, read-only) and describe it."""
    import hashlib

    from cmlops.atomic_files import write_atomic
    from cmlops.reports.plan import plan_from_bytes

    if not isinstance(name, str) or not _UPLOAD_NAME.fullmatch(name):
        raise InvalidInputError("the uploaded plan needs a plain file name (no folders)")
    suffix = _suffix(name)
    raw = _decode(content, name)
    plan_from_bytes(raw, name)  # refused here, before anything is written
    folder = packages_dir / PLANS_FOLDER
    target = folder / f"{hashlib.sha256(raw).hexdigest()}{suffix}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not target.is_file():
            write_atomic(target, raw, replace=False, read_only=True)
    except FileExistsError:
        pass  # the same bytes, uploaded at the same moment by someone else
    except OSError as error:
        raise InvalidInputError(
            f"cannot keep the uploaded plan in {PLANS_FOLDER}/ of the packages folder: "
            f"{error.strerror}"
        ) from None
    return describe_plan(target, {"upload": target.name}, name)


def resolve_plan(root_dir: Path, packages_dir: Path, ref: Any) -> Path | None:
    """The plan file a request names (None: the template's default plan)."""
    if ref in (None, "", {}):
        return None
    if not isinstance(ref, dict) or len(ref) != 1 or not ({"path", "upload"} & ref.keys()):
        raise InvalidInputError('plan must be {"path": "<file under the root>"} or {"upload": id}')
    if "upload" in ref:
        stored = ref["upload"]
        if not isinstance(stored, str) or not _STORED.fullmatch(stored):
            raise InvalidInputError("plan upload id is not one this server gave out")
        path = packages_dir / PLANS_FOLDER / stored
        try:
            info = path.lstat()
        except OSError:
            raise InvalidInputError("the uploaded plan is not kept here: upload it again") from None
        if not stat.S_ISREG(info.st_mode):
            raise InvalidInputError("the uploaded plan is not a regular file: upload it again")
        return path
    value = ref["path"]
    if not isinstance(value, str):
        raise InvalidInputError("plan path must be text")
    path = inside_root(root_dir, value, "plan", hidden=False)
    _suffix(value)
    try:
        info = path.stat()
    except OSError:
        raise InvalidInputError(f"plan {value[:80]!r} not found under the Jupyter root") from None
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInputError(f"plan {value[:80]!r} is not a regular file")
    return path


def describe_plan(path: Path, ref: dict[str, str], name: str) -> dict[str, Any]:
    """What the form shows of a checked plan: its id, criteria and digests."""
    from cmlops.reports.plan import prepare_plan

    recorded = prepare_plan(path, None)
    if "upload" in ref and recorded.raw_sha256 != path.name.split(".", 1)[0]:
        raise InvalidInputError(
            "the kept copy of the uploaded plan no longer matches its SHA-256: upload it again"
        )
    return {
        "ref": ref,
        "name": name,
        "plan_id": recorded.plan.get("plan_id", ""),
        "title": recorded.plan.get("title", ""),
        "criteria": [
            {k: c.get(k) for k in ("id", "metric", "subgroup", "op", "threshold")}
            for c in recorded.plan["criteria"]
        ],
        "sha256": recorded.sha256,
        "raw_sha256": recorded.raw_sha256,
    }
