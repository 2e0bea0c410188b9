"""The template catalogue: which report templates exist and what parameters they take.

Templates ship inside the wheel as ``cmlops/templates`` (pyproject force-includes
the repository's ``templates/`` folder there). In an editable or source checkout
that folder is absent from the package, so the repository's ``templates/`` is
used instead. A path to any ``.ipynb`` file is also accepted as a template, so
teams can keep their own templates beside their projects.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from cmlops.reports.errors import TemplateError
from cmlops.reports.parameters import ParamSpec, parse_schema


@dataclass(frozen=True)
class Template:
    """A report template: its file, content hash, description and parameter schema."""

    name: str
    path: Path
    sha256: str
    title: str
    description: str
    parameters: list[ParamSpec] = field(default_factory=list)
    default_plan: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": str(self.path),
            "sha256": self.sha256,
            "title": self.title,
            "description": self.description,
            "parameters": [spec.to_dict() for spec in self.parameters],
            "default_plan": self.default_plan,
        }


def templates_dir() -> Path:
    """The folder holding the shipped templates (wheel first, then the source checkout)."""
    try:
        packaged = Path(str(resources.files("cmlops") / "templates"))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - namespace edge cases
        packaged = None
    if packaged is not None and packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[3] / "templates"
    if checkout.is_dir():
        return checkout
    raise TemplateError("no templates folder found: reinstall cmlops (the wheel ships them)")


def _has_parameters_cell(nb: dict[str, Any]) -> bool:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get(
            "tags", []
        ):
            return True
    return False


def load_template(path: Path, name: str | None = None) -> Template:
    """Read one notebook as a template, refusing one without a ``parameters`` cell."""
    try:
        data = path.read_bytes()
        nb = json.loads(data)
    except OSError as exc:
        raise TemplateError(f"cannot read template {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise TemplateError(
            f"template {path} is not a notebook (invalid JSON: {exc.msg})"
        ) from None
    label = name or path.stem
    if not isinstance(nb, dict) or "cells" not in nb:
        raise TemplateError(f"template {label} is not a notebook (no cells)")
    if not _has_parameters_cell(nb):
        raise TemplateError(
            f"template {label} has no cell tagged 'parameters': tag the cell that sets defaults"
        )
    meta = nb.get("metadata", {}).get("cmlops", {})
    specs = parse_schema(meta.get("parameters", []), template=label)
    return Template(
        name=label,
        path=path.resolve(),
        sha256=hashlib.sha256(data).hexdigest(),
        title=str(meta.get("title", label)),
        description=str(meta.get("description", "")),
        parameters=specs,
        default_plan=meta.get("default_plan"),
    )


def _names(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.ipynb") if not p.name.startswith("."))


def list_templates() -> list[Template]:
    """Every shipped template, sorted by name."""
    folder = templates_dir()
    return [load_template(folder / f"{name}.ipynb", name) for name in _names(folder)]


def describe_template(name: str) -> Template:
    """One template by name (or by path to a ``.ipynb``), with a did-you-mean when unknown."""
    candidate = Path(name)
    if candidate.suffix == ".ipynb":
        if not candidate.is_file():
            raise TemplateError(f"template file not found: {candidate}")
        return load_template(candidate)
    folder = templates_dir()
    known = _names(folder)
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
        raise TemplateError(f"unknown template {name!r}; {hint}")
    return load_template(folder / f"{name}.ipynb", name)
