"""Typed report parameters: the schema a template declares, and validation before a run.

A template declares its parameters in ``metadata.cmlops.parameters`` (a list of
``{name, type, required, default, description}``). Everything a user passes is
checked against it *before* a kernel starts: an unknown name gets a
did-you-mean, a wrong type or a missing required value is refused, and a
``path`` must name an existing file, a ``dataset`` an existing data file, a
folder of data files Spark reads, or a Spark table (``table:NAME``). Names must
be Python identifiers declared in the schema, so a hostile *name* can never reach
the injected code, and the values are converted to plain Python data that
Papermill writes as literals.
"""

from __future__ import annotations

import difflib
import json
import keyword
import math
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmlops.errors import InvalidInputError
from cmlops.reports.errors import ParameterError

#: The parameter types a template may declare.
TYPES = ("str", "int", "float", "bool", "path", "dataset", "list")

#: Parameters the runner injects itself; a template schema may not declare them.
RESERVED_PREFIX = "cmlops_"

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


@dataclass(frozen=True)
class ParamSpec:
    """One declared parameter of a template."""

    name: str
    type: str
    required: bool = False
    default: Any = None
    description: str = ""
    choices: tuple[Any, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "default": self.default,
            "description": self.description,
        }
        if self.choices:
            out["choices"] = list(self.choices)
        return out


def check_name(name: str) -> None:
    """Refuse anything that is not a plain, non-keyword Python identifier."""
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ParameterError(
            f"parameter name {name!r} is not a valid identifier: use letters, digits and _"
        )


def parse_schema(raw: Any, *, template: str = "template") -> list[ParamSpec]:
    """Read ``metadata.cmlops.parameters`` into specs, refusing a malformed schema."""
    if not isinstance(raw, list):
        raise ParameterError(f"{template}: metadata.cmlops.parameters must be a list")
    specs: list[ParamSpec] = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, dict) or "name" not in item or "type" not in item:
            raise ParameterError(f"{template}: each parameter needs a name and a type: {item!r}")
        name, ptype = item["name"], item["type"]
        check_name(name)
        if name.startswith(RESERVED_PREFIX):
            raise ParameterError(f"{template}: parameter {name!r} uses the reserved prefix cmlops_")
        if ptype not in TYPES:
            raise ParameterError(
                f"{template}: parameter {name!r} has unknown type {ptype!r} "
                f"(one of {', '.join(TYPES)})"
            )
        if name in seen:
            raise ParameterError(f"{template}: parameter {name!r} is declared twice")
        seen.add(name)
        specs.append(
            ParamSpec(
                name=name,
                type=ptype,
                required=bool(item.get("required", False)),
                default=item.get("default"),
                description=str(item.get("description", "")),
                choices=tuple(item.get("choices", ())),
            )
        )
    return specs


def parse_cli_pairs(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Split ``KEY=VALUE`` strings from the command line (values stay strings)."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ParameterError(f"parameter {pair!r} is not KEY=VALUE")
        out[key.strip()] = value
    return out


def _did_you_mean(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; known parameters: {', '.join(known) or '(none)'}"


def _check_text(where: str, value: Any) -> None:
    """Refuse text that cannot be stored as UTF-8 (lone surrogates from undecodable bytes)."""
    texts = value if isinstance(value, list) else [value]
    for text in texts:
        if isinstance(text, str):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise ParameterError(
                    f"{where}: contains bytes that are not valid UTF-8 text"
                ) from None


def _check_input_file(path: Path, where: str) -> None:
    """An input must be an existing regular file: a folder, FIFO or device is named as such
    (hashing a FIFO would block the run forever)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ParameterError(f"{where}: input file not found: {path}") from None
    except OSError as exc:
        raise ParameterError(f"{where}: cannot use {path}: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ParameterError(f"{where}: {path} is a folder: give the data file inside it")
    if not stat.S_ISREG(info.st_mode):
        raise ParameterError(
            f"{where}: {path} is not a regular file (a FIFO, socket or device): give a data file"
        )
    if not os.access(path, os.R_OK):
        raise ParameterError(f"{where}: {path} is not readable by this user")


def _coerce(spec: ParamSpec, value: Any, base: Path) -> Any:
    where = f"parameter {spec.name!r} ({spec.type})"
    _check_text(where, value)
    converted = _convert(spec, value, base, where)
    _check_text(where, converted)
    return converted


def _convert(spec: ParamSpec, value: Any, base: Path, where: str) -> Any:
    if spec.type == "str":
        if not isinstance(value, str):
            raise ParameterError(f"{where}: expected a string, got {type(value).__name__}")
        return value
    if spec.type == "int":
        if isinstance(value, bool):
            raise ParameterError(f"{where}: expected an integer, got a boolean")
        if isinstance(value, int):
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ParameterError(f"{where}: expected an integer, got {value!r}")
    if spec.type == "float":
        if isinstance(value, bool):
            raise ParameterError(f"{where}: expected a number, got a boolean")
        try:
            number = float(value.strip() if isinstance(value, str) else value)
        except (TypeError, ValueError):
            raise ParameterError(f"{where}: expected a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ParameterError(f"{where}: expected a finite number, got {value!r}")
        return number
    if spec.type == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ParameterError(f"{where}: expected true or false, got {value!r}")
    if spec.type == "dataset":
        return _dataset(value, base, where)
    if spec.type == "path":
        if not isinstance(value, (str, Path)):
            raise ParameterError(f"{where}: expected a file path, got {type(value).__name__}")
        path = Path(value).expanduser()
        path = path if path.is_absolute() else base / path
        _check_input_file(path, where)
        return str(path.resolve())
    # list: a JSON list on the command line, or comma-separated strings
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ParameterError(f"{where}: not a JSON list: {exc.msg}") from None
        else:
            value = [part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)):
        raise ParameterError(f"{where}: expected a list, got {type(value).__name__}")
    items = list(value)
    for item in items:
        if not isinstance(item, (str, int, float, bool)) or (
            isinstance(item, float) and not math.isfinite(item)
        ):
            raise ParameterError(f"{where}: list items must be strings or numbers, got {item!r}")
    return items


def _dataset(value: Any, base: Path, where: str) -> str:
    """A data file (as ``path``), a Spark data folder or ``table:NAME`` (:mod:`.data_inputs`)."""
    from cmlops.reports.data_inputs import check_dataset

    try:
        checked = check_dataset(value, base, where)
    except ParameterError:
        raise
    except InvalidInputError as exc:
        message = str(exc) if str(exc).startswith(where) else f"{where}: {exc}"
        raise ParameterError(message) from None
    if checked:
        return checked
    path = Path(str(value).strip()).expanduser()
    path = path if path.is_absolute() else base / path
    _check_input_file(path, where)
    return str(path.resolve())


def validate_parameters(
    specs: list[ParamSpec],
    given: Mapping[str, Any],
    *,
    template: str = "template",
    base: Path | None = None,
) -> dict[str, Any]:
    """Return the complete, typed parameter set, or raise one :class:`ParameterError`.

    Unknown names are checked first (with a did-you-mean), then each value is
    converted to its declared type, then required parameters without a value
    are reported. Relative paths are resolved against ``base`` (the cwd).
    """
    base = base or Path.cwd()
    by_name = {spec.name: spec for spec in specs}
    for name in given:
        check_name(name)
        if name not in by_name:
            raise ParameterError(
                f"{template} has no parameter {name!r}{_did_you_mean(name, list(by_name))}"
            )
    values: dict[str, Any] = {}
    missing: list[str] = []
    for spec in specs:
        # an explicit None for a parameter whose default is None is that default: a
        # package's recorded parameters (defaults included) validate again on reproduce
        omitted = spec.name not in given or (given[spec.name] is None and spec.default is None)
        if not omitted:
            value = _coerce(spec, given[spec.name], base)
        elif spec.required:
            missing.append(spec.name)
            continue
        else:
            value = spec.default
        if spec.choices and value not in spec.choices:
            raise ParameterError(
                f"parameter {spec.name!r}: {value!r} is not one of "
                f"{', '.join(map(repr, spec.choices))}"
            )
        values[spec.name] = value
    if missing:
        raise ParameterError(
            f"{template}: missing required parameter(s) {', '.join(missing)}: "
            "pass them with -p NAME=VALUE"
        )
    return values
