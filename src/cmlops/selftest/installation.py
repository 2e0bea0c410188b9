"""Installation qualification: is what runs exactly what was built and tested?

* the ``cmlops`` being imported is the installed distribution (not a source
  checkout on ``PYTHONPATH`` or an editable install, which no RECORD describes);
* every installed file has the SHA-256 the wheel's ``RECORD`` gives it (a
  changed or missing file is named), and no file was added to the package;
* Python and every runtime dependency are within the declared ranges;
* Python, platform and dependency versions equal the *tested set* — the
  environment of the full test run shipped with this build
  (:mod:`cmlops.selftest.results`). A difference is a named deviation for QA to
  assess; with ``require_tested`` it fails the check.
"""

from __future__ import annotations

import base64
import hashlib
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from cmlops.selftest.checks import Check

REQ = ("REQ-CSV-002",)
DIST = "cmlops"


def _check(check_id: str, title: str, passed: bool, expected: str, observed: str, **kw) -> Check:
    return Check(check_id, "IQ", title, REQ, passed, expected, observed, **kw)


def _record_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")


def record_problems(dist: metadata.Distribution) -> tuple[list[str], int]:
    """Files that differ from the RECORD (``changed: cmlops/x.py``, ``missing: ...``)."""
    problems: list[str] = []
    checked = 0
    for entry in dist.files or []:
        if entry.hash is None:
            continue  # RECORD itself; compiled files written after install
        path = Path(str(dist.locate_file(entry)))
        try:
            actual = _record_digest(path, entry.hash.mode)
        except FileNotFoundError:
            problems.append(f"missing: {entry.as_posix()}")
            continue
        except (OSError, ValueError) as exc:
            problems.append(f"unreadable: {entry.as_posix()} ({exc})")
            continue
        checked += 1
        if actual != entry.hash.value:
            problems.append(f"changed: {entry.as_posix()}")
    return problems, checked


def added_files(dist: metadata.Distribution) -> list[str]:
    """Files inside the installed ``cmlops`` package that its RECORD does not list."""
    listed = {Path(str(dist.locate_file(entry))).resolve() for entry in dist.files or []}
    package = Path(str(dist.locate_file(DIST))).resolve()
    root = Path(str(dist.locate_file(""))).resolve()
    out = []
    for path in sorted(package.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        if path.resolve() not in listed:
            out.append(path.relative_to(root).as_posix())
    return out


def _imported_from(dist: metadata.Distribution) -> Check:
    import cmlops

    imported = Path(cmlops.__file__).resolve().parent
    installed = Path(str(dist.locate_file(DIST))).resolve()
    return _check(
        "IQ-01",
        "the cmlops that runs is the installed distribution",
        imported == installed,
        f"cmlops imported from {installed}",
        f"cmlops imported from {imported}"
        + ("" if imported == installed else " (a source checkout, PYTHONPATH or editable install)"),
    )


def _files(dist: metadata.Distribution) -> list[Check]:
    problems, checked = record_problems(dist)
    added = added_files(dist)
    return [
        _check(
            "IQ-02",
            "every installed file has its RECORD SHA-256",
            bool(checked) and not problems,
            "each file listed in the wheel's RECORD has the hash recorded there",
            f"{checked} files checked"
            + (": " + "; ".join(problems) if problems else ", all equal"),
        ),
        _check(
            "IQ-03",
            "no file was added to the installed package",
            not added,
            "only files listed in RECORD inside the cmlops package",
            "none added" if not added else "; ".join(f"added: {p}" for p in added),
        ),
    ]


def _requirement_problems(dist: metadata.Distribution) -> tuple[list[str], int]:
    """Runtime requirements not satisfied, and how many runtime requirements there are."""
    from packaging.requirements import InvalidRequirement, Requirement

    problems: list[str] = []
    count = 0
    for text in dist.requires or []:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue  # an extra, or another platform's dependency
        count += 1
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            problems.append(f"{requirement.name} is not installed (needs {requirement})")
            continue
        if not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name} {version} is outside {requirement}")
    return problems, count


def _supported(dist: metadata.Distribution) -> list[Check]:
    from packaging.specifiers import SpecifierSet

    python = platform.python_version()
    requires = dist.metadata.get("Requires-Python") or ""
    python_ok = not requires or SpecifierSet(requires).contains(python, prereleases=True)
    problems, count = _requirement_problems(dist)
    return [
        _check(
            "IQ-04",
            "Python is a supported version",
            python_ok,
            f"Python {requires or '(any)'}",
            f"Python {python} ({platform.python_implementation()}) on {platform.platform()}",
        ),
        _check(
            "IQ-05",
            "every runtime dependency is installed within its declared range",
            not problems,
            "each requirement of the cmlops distribution satisfied",
            "; ".join(problems) or f"all {count} runtime requirements satisfied",
        ),
    ]


def environment_deviations(current: dict[str, Any], tested: dict[str, Any]) -> list[str]:
    """Each difference between this environment and the tested one, one line each."""
    out = []
    for key in ("cmlops", "python", "implementation"):
        if current.get(key) != tested.get(key):
            out.append(f"{key} {current.get(key)} (tested: {tested.get(key)})")
    system = str(current.get("platform", "")).split("-")[0]
    tested_system = str(tested.get("platform", "")).split("-")[0]
    if system != tested_system:
        out.append(f"operating system {system} (tested: {tested_system})")
    ours, theirs = current.get("dependencies", {}), tested.get("dependencies", {})
    for name in sorted(set(ours) | set(theirs), key=str.lower):
        if ours.get(name) != theirs.get(name):
            out.append(f"{name} {ours.get(name, 'absent')} (tested: {theirs.get(name, 'absent')})")
    return out


def _tested_set(tested: dict[str, Any] | None, require_tested: bool) -> Check:
    from cmlops.build_info import build_info

    title = "Python, platform and dependency versions equal the tested set"
    if tested is None:
        return _check(
            "IQ-06", title, False, "the tested set shipped with this build", "no tested set found"
        )
    current = build_info()
    deviations = environment_deviations(current, tested)
    observed = (
        "identical to the tested set"
        if not deviations
        else f"{len(deviations)} deviation(s) from the tested set"
        + ("" if require_tested else " for QA to assess (see deviations)")
    )
    return _check(
        "IQ-06",
        title,
        not (deviations and require_tested),
        f"the environment of the test run of {tested.get('cmlops', '?')}: Python "
        f"{tested.get('python', '?')}, {tested.get('platform', '?')}",
        observed,
        deviations=tuple(deviations),
    )


def qualify_installation(
    tested: dict[str, Any] | None, *, require_tested: bool = False
) -> list[Check]:
    """The IQ checks (see the module docstring); ``tested`` is the tested environment."""
    try:
        dist = metadata.distribution(DIST)
    except metadata.PackageNotFoundError:
        return [
            _check(
                "IQ-01",
                "the cmlops that runs is the installed distribution",
                False,
                "an installed cmlops distribution (pip install cmlops-*.whl)",
                "no installed cmlops distribution: this is a source checkout",
            )
        ]
    return [
        _imported_from(dist),
        *_files(dist),
        *_supported(dist),
        _tested_set(tested, require_tested),
    ]
