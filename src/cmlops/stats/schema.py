"""A data schema that is stored as JSON and read back years later: the contract of a dataset.

A :class:`Schema` lists, per column, the dtype family and the checks the values must
pass (not null, minimum, maximum, allowed values, uniqueness, regular expression),
plus dataset checks over several columns (unique keys, date ordering). Every check
carries its own severity: ``"fail"`` breaks the validation, ``"warn"`` is reported
but does not. The JSON form (``format: "cmlops.schema"``, ``version: 1``) is stable:
keys are sorted, checks appear in a fixed order, values are plain JSON (datetimes as
ISO 8601 strings with their offset), so the same schema always serialises to the same
bytes and can be hashed, diffed and signed.

Inference (:func:`cmlops.stats.schema_infer.infer_schema`) writes a first draft from a
frame; the user then tightens it (``add_regex``, ``add_date_order``, ``add_key``,
``set_severity``) before it becomes the reference.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmlops.atomic_files import write_atomic
from cmlops.errors import InvalidInputError
from cmlops.json_safe import json_safe

__all__ = [
    "COLUMN_CHECKS",
    "DATASET_CHECKS",
    "SCHEMA_FORMAT",
    "SCHEMA_VERSION",
    "CheckSpec",
    "ColumnSchema",
    "DatasetCheck",
    "Schema",
    "SchemaError",
    "dtype_family",
]

SCHEMA_FORMAT = "cmlops.schema"
SCHEMA_VERSION = 1
SEVERITIES = ("fail", "warn")
#: column checks in the order they are stored and reported
COLUMN_CHECKS = ("dtype", "not_null", "min", "max", "allowed_values", "unique", "regex")
DATASET_CHECKS = ("unique_key", "date_order")
#: families that hold the same kind of value whatever pandas calls the dtype
_COMPATIBLE = ({"string", "object"},)


class SchemaError(InvalidInputError):
    """A schema, or a change to it, is not valid; the message says what to fix."""


def dtype_family(dtype: Any) -> str:
    """Family of a pandas dtype: integer, float, boolean, string, category, object,
    datetime, datetime[<tz>], timedelta, complex.

    Schemas compare families, not exact dtypes, so that ``int32`` vs ``int64``,
    ``Int64`` vs ``int64`` or microsecond vs nanosecond datetimes are not false
    alarms, while int vs float (a column that gained missing values) or a changed
    time zone are.
    """
    import pandas as pd
    from pandas.api import types as t

    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if isinstance(dtype, pd.DatetimeTZDtype):
        return f"datetime[{dtype.tz}]"
    if t.is_bool_dtype(dtype):
        return "boolean"
    if t.is_integer_dtype(dtype):
        return "integer"
    if t.is_float_dtype(dtype):
        return "float"
    if t.is_complex_dtype(dtype):
        return "complex"
    if t.is_datetime64_dtype(dtype):
        return "datetime"
    if t.is_timedelta64_dtype(dtype):
        return "timedelta"
    if isinstance(dtype, pd.StringDtype):
        return "string"
    return "object"


def families_compatible(expected: str, found: str) -> bool:
    """True when a column of family ``found`` satisfies a schema expecting ``expected``."""
    return expected == found or any({expected, found} <= group for group in _COMPATIBLE)


def _severity(value: str) -> str:
    if value not in SEVERITIES:
        raise SchemaError(f"severity must be 'fail' or 'warn', got {value!r}")
    return value


@dataclass
class CheckSpec:
    """One rule on one column: ``kind`` from COLUMN_CHECKS, its ``value`` and severity.

    ``value`` is the dtype string for "dtype", the bound for "min"/"max" (inclusive),
    the list of values for "allowed_values", the pattern for "regex" (the whole value
    must match, :func:`re.fullmatch`), and None for "not_null"/"unique".
    """

    kind: str
    value: Any = None
    severity: str = "fail"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": json_safe(self.value), "severity": self.severity}


@dataclass
class DatasetCheck:
    """A rule over several columns: "unique_key" (no duplicate combination) or
    "date_order" (``columns[0] <= columns[1]`` on every row where both are present)."""

    kind: str
    columns: list[str]
    severity: str = "fail"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "columns": list(self.columns), "severity": self.severity}


@dataclass
class ColumnSchema:
    """Expected dtype family and checks of one column."""

    name: str
    family: str
    checks: list[CheckSpec] = field(default_factory=list)

    @property
    def nullable(self) -> bool:
        return self.check("not_null") is None

    def check(self, kind: str) -> CheckSpec | None:
        """The check of ``kind`` on this column, or None."""
        return next((c for c in self.checks if c.kind == kind), None)

    def set_check(self, spec: CheckSpec) -> None:
        """Add or replace the check of ``spec.kind``, keeping the stored order."""
        if spec.kind not in COLUMN_CHECKS:
            raise SchemaError(f"unknown column check {spec.kind!r}; use one of {COLUMN_CHECKS}")
        _severity(spec.severity)
        rest = [c for c in self.checks if c.kind != spec.kind]
        self.checks = sorted([*rest, spec], key=lambda c: COLUMN_CHECKS.index(c.kind))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "family": self.family,
            "checks": [c.to_dict() for c in self.checks],
        }


@dataclass
class Schema:
    """Columns, dataset checks and the severities of schema-level problems.

    ``missing_columns`` and ``extra_columns`` are the severities of a schema column
    absent from the frame and of a frame column absent from the schema
    (``"fail"``, ``"warn"`` or ``"ignore"``). ``source`` records what the schema was
    inferred from (rows, columns); ``name`` is free text.
    """

    columns: list[ColumnSchema]
    dataset_checks: list[DatasetCheck] = field(default_factory=list)
    missing_columns: str = "fail"
    extra_columns: str = "warn"
    name: str = ""
    source: dict[str, Any] = field(default_factory=dict)

    # -- lookup and editing ---------------------------------------------------------
    def column(self, name: str) -> ColumnSchema:
        """The schema of column ``name``; SchemaError if the schema has no such column."""
        for c in self.columns:
            if c.name == name:
                return c
        raise SchemaError(f"the schema has no column {name!r}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def add_regex(self, column: str, pattern: str, severity: str = "fail") -> Schema:
        """Require every non-null value of ``column`` to match ``pattern`` entirely."""
        import re

        try:
            re.compile(pattern)
        except re.error as exc:
            raise SchemaError(f"regex for {column!r} does not compile: {exc}") from None
        self.column(column).set_check(CheckSpec("regex", pattern, severity))
        return self

    def add_date_order(self, start: str, end: str, severity: str = "fail") -> Schema:
        """Require ``start <= end`` on every row where both are present."""
        self._add_dataset(DatasetCheck("date_order", [start, end], _severity(severity)))
        return self

    def add_key(self, columns: str | list[str], severity: str = "fail") -> Schema:
        """Require the combination of ``columns`` to be unique (a primary key)."""
        cols = [columns] if isinstance(columns, str) else list(columns)
        self._add_dataset(DatasetCheck("unique_key", cols, _severity(severity)))
        return self

    def set_severity(self, column: str, kind: str, severity: str) -> Schema:
        """Change the severity of one column check (e.g. make an inferred range a warning)."""
        spec = self.column(column).check(kind)
        if spec is None:
            raise SchemaError(f"column {column!r} has no {kind!r} check")
        spec.severity = _severity(severity)
        return self

    def _add_dataset(self, check: DatasetCheck) -> None:
        for c in check.columns:
            self.column(c)
        if check.kind == "date_order" and len(check.columns) != 2:
            raise SchemaError("date_order needs exactly two columns: (start, end)")
        key = (check.kind, tuple(check.columns))
        self.dataset_checks = [
            d for d in self.dataset_checks if (d.kind, tuple(d.columns)) != key
        ] + [check]

    # -- JSON ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain, stable JSON-compatible form (see the module docstring)."""
        return {
            "format": SCHEMA_FORMAT,
            "version": SCHEMA_VERSION,
            "name": self.name,
            "source": json_safe(self.source),
            "missing_columns": self.missing_columns,
            "extra_columns": self.extra_columns,
            "columns": [c.to_dict() for c in self.columns],
            "dataset_checks": [d.to_dict() for d in self.dataset_checks],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The schema as JSON text with sorted keys (same schema, same text)."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True, ensure_ascii=False,
                          allow_nan=False)  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        """Read a schema written by :meth:`to_dict`; SchemaError names what is wrong."""
        if not isinstance(data, dict) or data.get("format") != SCHEMA_FORMAT:
            raise SchemaError(f"not a cmlops schema: 'format' must be {SCHEMA_FORMAT!r}")
        version = data.get("version")
        if version != SCHEMA_VERSION:
            raise SchemaError(
                f"schema version {version!r} is not supported by this cmlops "
                f"(reads version {SCHEMA_VERSION}); upgrade cmlops"
            )
        try:
            columns = []
            for c in data["columns"]:
                col = ColumnSchema(str(c["name"]), str(c["family"]))
                for chk in c.get("checks", []):
                    col.set_check(CheckSpec(chk["kind"], chk.get("value"), chk["severity"]))
                columns.append(col)
            names = [c.name for c in columns]
            if len(set(names)) != len(names):
                raise SchemaError("the schema lists a column twice")
            schema = cls(
                columns=columns,
                missing_columns=_level(data.get("missing_columns", "fail")),
                extra_columns=_level(data.get("extra_columns", "warn")),
                name=str(data.get("name", "")),
                source=dict(data.get("source") or {}),
            )
            for d in data.get("dataset_checks", []):
                if d["kind"] not in DATASET_CHECKS:
                    raise SchemaError(f"unknown dataset check {d['kind']!r}")
                schema._add_dataset(DatasetCheck(d["kind"], list(d["columns"]), d["severity"]))
        except (KeyError, TypeError) as exc:
            raise SchemaError(f"schema is missing or mistypes field {exc}") from None
        return schema

    @classmethod
    def from_json(cls, text: str | bytes) -> Schema:
        """Read a schema from JSON text."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise SchemaError(f"schema is not valid JSON: {exc}") from None
        return cls.from_dict(data)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the schema to ``path`` atomically (temporary file, then rename)."""
        return write_atomic(path, self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Schema:
        """Read a schema file written by :meth:`save`."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise SchemaError(f"cannot read schema file {str(path)!r}: {exc.strerror}") from None
        return cls.from_json(text)


def as_schema(schema: Any) -> Schema:
    """A Schema from a Schema, its dict, its JSON text or the path of its file."""
    if isinstance(schema, Schema):
        return schema
    if isinstance(schema, dict):
        return Schema.from_dict(schema)
    if isinstance(schema, str) and schema.lstrip().startswith("{"):
        return Schema.from_json(schema)
    if isinstance(schema, (str, os.PathLike)):
        return Schema.load(schema)
    raise SchemaError(
        f"schema must be a Schema, its dict or JSON text, or a path; got {type(schema).__name__}"
    )


def sorted_values(values: Any) -> list[Any]:
    """Allowed values as plain JSON in a stable order: numbers numerically, then text."""
    plain = [json_safe(v) for v in values]

    def key(v: Any) -> tuple:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return (0, "", v)
        return (1, type(v).__name__, str(v))

    return sorted(plain, key=key)


def _level(value: str) -> str:
    if value not in ("fail", "warn", "ignore"):
        raise SchemaError(f"missing/extra column severity must be fail, warn or ignore: {value!r}")
    return value
