"""The result protocol: what every cmlops result is and does, whatever its kind.

A result (drift, validation, evaluation, monitoring, comparison, and every kind to
come) is a dataclass that subclasses :class:`Result`, and so has on the class itself:

- ``_repr_mimebundle_`` (the live widget view with a static fallback, or static HTML
  in a batch run) and ``_repr_html_`` (static HTML): JupyterLab, VS Code, marimo,
  Quarto, nbconvert and plain IPython call these without any registration;
- a one-line ``__repr__`` (the ``text/plain`` every notebook saves beside the view);
- ``save_html(path)`` (a complete offline page, written atomically), ``plot(column)``
  (the plotly figure) and ``to_frame()`` (the full table, like pandas);
- ``to_dict()`` / ``from_dict()`` that round-trip exactly, with a format version;
- ``passed`` and ``verdict`` with one meaning across kinds:

  ============  =================  ===================================================
  ``passed``    ``verdict``        meaning
  ============  =================  ===================================================
  True          ``"pass"``         everything judged was within its bounds
  True          ``"warn"``         within bounds, but something is flagged (a drifted
                                   column below the dataset threshold, a warn-severity
                                   check)
  False         ``"fail"``         a criterion, rule or fail-severity check failed
  None          ``"not evaluable"``  nothing could be judged: no criteria given, no
                                   testable column, no window large enough — never
                                   read None as a pass
  ============  =================  ===================================================

**How a new result kind gets all of this**: subclass :class:`Result` in a
``@dataclass``, set ``_cmlops_result_kind``, implement ``to_frame()``, ``passed``,
``verdict`` and ``_summary()``, declare fields that hold other results or records in
``_nested`` (``ListOf(MyRow)``, ``DictOf(DriftResult)``), add the kind to
:data:`KINDS` and a ``cmlops/widgets/kind_<kind>.py`` view. Nested rows subclass
:class:`Record`. A subclass that adds fields (e.g. error bounds of a Spark result)
needs nothing more: fields are found with :func:`dataclasses.fields`.

**Why results hold plain values.** A result is normalised when it is made: numpy
scalars become Python numbers, NaN and ±inf become None (the one spelling of
"undefined"), tuples and arrays become lists, timestamps ISO-8601 strings, mapping
keys strings. So the object in the notebook is exactly the evidence ``to_dict()``
stores, JSON (and RFC 8785 canonical JSON) can carry it, and
``from_dict(r.to_dict()) == r`` holds for every result, hostile strings included.
A field whose name starts with ``_`` is private to the session (a salt, a large
cache): never normalised, stored or read back, and left out of equality.

**Why rendering goes through** :mod:`cmlops.stats.rendering`: ``stats`` may not
import ``widgets`` (see that module); the display methods ask the renderer the package
root installed, so plotly and ipywidgets load only when a result is first shown.
"""

from __future__ import annotations

import html
import importlib
import inspect
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from cmlops.errors import InvalidInputError, OutputFileError, ResultFormatError
from cmlops.json_safe import json_safe
from cmlops.stats.rendering import get_renderer

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "FORMAT_VERSION",
    "KINDS",
    "MAX_REPR",
    "VERDICTS",
    "DictOf",
    "ListOf",
    "Record",
    "Result",
    "records_frame",
    "result_from_dict",
]

log = logging.getLogger(__name__)

#: version of the dict layout ``to_dict()`` writes; ``from_dict`` reads exactly this one.
FORMAT_VERSION = 1
#: result kind -> "module:Class" of the class that reads it (for :func:`result_from_dict`)
KINDS: dict[str, str] = {
    "drift": "cmlops.stats._drift_result:DriftResult",
    "evaluation": "cmlops.stats.evaluation_result:EvaluationResult",
    "validation": "cmlops.stats.validation_result:ValidationResult",
    "monitor": "cmlops.stats.monitoring:MonitorResult",
    "independence": "cmlops.stats.independence_result:IndependenceResult",
    "comparison": "cmlops.stats.comparison_result:ComparisonResult",
}
VERDICTS = ("pass", "warn", "fail", "not evaluable")
#: the longest ``repr`` of a result: one line, never every ROC point
MAX_REPR = 240
_ENVELOPE = ("kind", "format_version")

R = TypeVar("R", bound="Result")
C = TypeVar("C", bound="Record")


def _describe(data: Any) -> str:
    kind = data.get("kind") if isinstance(data, Mapping) else None
    return f"this {kind} result" if isinstance(kind, str) and len(kind) < 40 else "this result"


@dataclass(frozen=True)
class ListOf:
    """A field holding a list of :class:`Record` or :class:`Result` values of ``cls``."""

    cls: type

    def normalise(self, value: Any, name: str) -> list[Any]:
        items = list(value or [])
        for item in items:
            if not isinstance(item, self.cls):
                raise InvalidInputError(
                    f"{name} must hold {self.cls.__name__} values, not {type(item).__name__}"
                )
        return items

    def encode(self, value: list[Any]) -> list[Any]:
        return [item.to_dict() for item in value]

    def decode(self, value: Any, name: str) -> list[Any]:
        if not isinstance(value, list):
            raise ResultFormatError(f"field {name!r} must be a list, not {type(value).__name__}")
        return [self.cls.from_dict(item) for item in value]


@dataclass(frozen=True)
class DictOf:
    """A field holding ``{label: value}`` with values of ``cls`` (labels become strings)."""

    cls: type

    def normalise(self, value: Any, name: str) -> dict[str, Any]:
        items = dict(value or {})
        for item in items.values():
            if not isinstance(item, self.cls):
                raise InvalidInputError(
                    f"{name} must map labels to {self.cls.__name__} values, "
                    f"not {type(item).__name__}"
                )
        return {str(k): v for k, v in items.items()}

    def encode(self, value: dict[str, Any]) -> dict[str, Any]:
        return {k: item.to_dict() for k, item in value.items()}

    def decode(self, value: Any, name: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ResultFormatError(f"field {name!r} must be an object, not {type(value).__name__}")
        return {k: self.cls.from_dict(item) for k, item in value.items()}


def _public_fields(obj_or_cls: Any) -> list[Any]:
    """Fields that are part of the evidence; a leading ``_`` marks a private, session-only
    field (a salt, a cache) that is never normalised, stored or read back."""
    return [f for f in fields(obj_or_cls) if not f.name.startswith("_")]


def _normalise_fields(obj: Any, nested: Mapping[str, Any]) -> None:
    """Replace every field by its plain form; nested rows and results keep their class."""
    for f in _public_fields(obj):
        value = getattr(obj, f.name)
        spec = nested.get(f.name)
        plain = spec.normalise(value, f.name) if spec is not None else json_safe(value)
        object.__setattr__(obj, f.name, plain)  # frozen rows too


def _field_values(cls: type, data: Mapping[str, Any], ignore: set[str], what: str) -> dict:
    """Constructor arguments from ``data``: unknown or missing fields are one-line errors."""
    names = {f.name for f in _public_fields(cls) if f.init}
    unknown = sorted(set(data) - names - ignore)
    if unknown:
        shown = ", ".join(repr(k)[:40] for k in unknown[:5])
        raise ResultFormatError(
            f"{what} has fields this cmlops does not know ({shown}): it was written by a "
            "newer cmlops or edited; read it with the cmlops that wrote it"
        )
    required = [
        f.name
        for f in _public_fields(cls)
        if f.init and f.name not in data and f.default is MISSING and f.default_factory is MISSING
    ]
    if required:
        raise ResultFormatError(f"{what} lacks the field(s) {', '.join(required)}: it is damaged")
    return {name: data[name] for name in names if name in data}


class Record:
    """A row inside a result (a column's drift, a metric, a check, an alert).

    A dataclass subclass gets plain field values at construction, ``to_dict()`` and a
    strict ``from_dict()``. ``_derived`` names keys ``to_dict`` adds that are computed
    from the fields (``from_dict`` skips them).
    """

    _derived: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        _normalise_fields(self, {})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dict of the fields (no NaN, no numpy types)."""
        out = {f.name: json_safe(getattr(self, f.name)) for f in _public_fields(self)}
        for key in self._derived:
            out[key] = json_safe(getattr(self, key))
        return out

    @classmethod
    def from_dict(cls: type[C], data: Any) -> C:
        """The record ``to_dict()`` wrote; :class:`ResultFormatError` if it is not one."""
        what = f"a {cls.__name__} entry"
        if not isinstance(data, Mapping):
            raise ResultFormatError(f"{what} must be an object, not {type(data).__name__}")
        values = _field_values(cls, data, set(cls._derived), what)
        try:
            return cls(**values)
        except (TypeError, ValueError) as exc:
            raise ResultFormatError(f"{what} cannot be read: {exc}".splitlines()[0]) from None


def records_frame(
    records: Sequence[Record], columns: Sequence[str], dtypes: Mapping[str, str]
) -> pd.DataFrame:
    """The ``to_frame()`` of a result made of rows: one row per record, ``columns`` in order,
    each column named in ``dtypes`` cast to its dtype (``"boolean"`` keeps None as <NA>)."""
    import pandas as pd

    frame = pd.DataFrame([asdict(r) for r in records], columns=list(columns))
    for column, dtype in dtypes.items():
        frame[column] = frame[column].astype(dtype)
    return frame


class Result:
    """Base of every cmlops result dataclass: display, export, round trip, verdict.

    Subclasses implement ``to_frame()``, ``passed``, ``verdict`` and ``_summary()``
    (the text of the one-line repr) and declare nested fields in ``_nested``.
    """

    _cmlops_result_kind: ClassVar[str]
    #: fields holding rows or other results: ``{field name: ListOf(...) | DictOf(...)}``
    _nested: ClassVar[Mapping[str, ListOf | DictOf]] = {}
    #: keys ``to_dict`` adds that follow from the fields; ``from_dict`` checks them
    _derived: ClassVar[tuple[str, ...]] = ("passed", "verdict")
    #: title of the page ``save_html`` writes
    _title: ClassVar[str] = "cmlops result"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # dataclass(repr=True) keeps a __repr__ the class body already has: put ours there,
        # so no subclass prints every field (every ROC point) into a saved notebook.
        if "__repr__" not in cls.__dict__:
            cls.__repr__ = Result.__repr__  # type: ignore[method-assign]
        annotated = {n for k in cls.__mro__ for n in inspect.get_annotations(k)}
        for name in ("passed", "verdict"):  # a property, or a dataclass field
            if not hasattr(cls, name) and name not in annotated:
                raise TypeError(f"{cls.__name__} must define {name} (the result protocol)")

    def __post_init__(self) -> None:
        _normalise_fields(self, self._nested)

    # -- what a subclass provides -------------------------------------------------
    def to_frame(self) -> pd.DataFrame:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def _summary(self) -> str:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def _consistent(self) -> bool:
        """Whether fields that restate others agree (a stored dict edited by hand does not)."""
        return True

    # -- text -----------------------------------------------------------------------
    def __repr__(self) -> str:
        try:
            body = f"{self.verdict}: {self._summary()}"  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - a repr must never raise
            body = f"(summary unavailable: {type(exc).__name__})"
        text = " ".join(f"<{type(self).__name__} {body}>".split())
        return text if len(text) <= MAX_REPR else text[: MAX_REPR - 2] + "…>"

    # -- display --------------------------------------------------------------------
    def _repr_html_(self) -> str:
        """Static HTML of the result (figures and, per the embedding rule, plotly.js)."""
        try:
            return get_renderer().html(self)
        except Exception as exc:  # noqa: BLE001 - displaying must never break a notebook
            log.warning("cmlops: HTML of %s failed: %s", type(self).__name__, exc)
            return f"<pre>{html.escape(repr(self))}</pre>"

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, Any]:
        """The live widget view with a static ``text/html`` fallback (static in batch runs)."""
        try:
            bundle = dict(get_renderer().mimebundle(self))
        except Exception as exc:  # noqa: BLE001 - fall back to text rather than raise
            log.warning("cmlops: display of %s failed: %s", type(self).__name__, exc)
            bundle = {}
        bundle.setdefault("text/plain", repr(self))
        if include:
            bundle = {k: v for k, v in bundle.items() if k in include}
        if exclude:
            bundle = {k: v for k, v in bundle.items() if k not in exclude}
        return bundle

    def plot(self, column: str | None = None) -> Any:
        """The plotly figure of ``column`` (drift), a figure or metric name (other kinds).

        None gives the first item the view shows (the most drifted column, the ROC
        curve ...); an unknown name is a one-line error listing the choices.
        """
        return get_renderer().figure(self, column)

    def save_html(
        self, path: str | os.PathLike[str], *, title: str | None = None, overwrite: bool = True
    ) -> Path:
        """Write the result as a complete offline HTML page; returns the path.

        The page is written atomically (a reader never sees half a file). With
        ``overwrite=False`` an existing file is an error instead of being replaced.
        """
        from cmlops.atomic_files import write_atomic

        page = get_renderer().document(self, title or self._title)
        target = Path(os.fspath(path))
        try:
            return write_atomic(target, page, replace=overwrite)
        except FileExistsError:
            raise OutputFileError(
                f"{str(target)!r} exists: pass overwrite=True or choose another file name"
            ) from None
        except OSError as exc:
            folder = target.parent if target.parent != Path("") else Path(".")
            reason = exc.strerror or type(exc).__name__
            raise OutputFileError(
                f"cannot write {str(target)!r}: {reason}; check that {str(folder)!r} "
                "exists and is writable and that the name is not a folder"
            ) from None

    # -- round trip -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dict (no NaN, no numpy types) with kind and format version.

        ``type(r).from_dict(r.to_dict()) == r``; keys in ``_derived`` (``passed``,
        ``verdict`` ...) are conveniences for readers of stored results.
        """
        out: dict[str, Any] = {"kind": self._cmlops_result_kind, "format_version": FORMAT_VERSION}
        for f in _public_fields(self):
            value = getattr(self, f.name)
            spec = self._nested.get(f.name)
            out[f.name] = spec.encode(value) if spec is not None else json_safe(value)
        for key in self._derived:
            out[key] = json_safe(getattr(self, key))
        return out

    @classmethod
    def from_dict(cls: type[R], data: Any) -> R:
        """The result ``to_dict()`` wrote (also after a JSON round trip).

        Raises :class:`~cmlops.errors.ResultFormatError` (one line) for a dict of
        another format version (an older or newer cmlops), of another kind, damaged,
        or edited so that ``passed``/``verdict`` no longer follow from its content.
        """
        what = _describe(data)
        _check_envelope(cls, data, what)
        values = _field_values(cls, data, {*_ENVELOPE, *cls._derived}, what)
        for name, spec in cls._nested.items():
            if name in values:
                values[name] = spec.decode(values[name], name)
        try:
            result = cls(**values)
        except ResultFormatError:
            raise
        except (TypeError, ValueError) as exc:
            raise ResultFormatError(f"{what} cannot be read: {exc}".splitlines()[0]) from None
        _check_derived(result, data, what)
        if not result._consistent():
            raise ResultFormatError(
                f"{what} does not add up (its verdict contradicts its rows): the dict was "
                "edited; use the original"
            )
        return result


def _check_envelope(cls: type[Result], data: Any, what: str) -> None:
    if not isinstance(data, Mapping):
        raise ResultFormatError(
            f"from_dict needs the dict a result's to_dict() made, not {type(data).__name__}"
        )
    version = data.get("format_version")
    if "format_version" not in data:
        raise ResultFormatError(
            f"{what} has no format_version: it was written by an older cmlops (before result "
            f"format {FORMAT_VERSION}); re-run the analysis, or read it with that cmlops"
        )
    if type(version) is not int:
        raise ResultFormatError(f"{what} has format_version {version!r}, not a whole number")
    if version != FORMAT_VERSION:
        newer = version > FORMAT_VERSION
        raise ResultFormatError(
            f"{what} is in result format {version}, "
            f"{'newer' if newer else 'older'} than the format {FORMAT_VERSION} this cmlops "
            f"reads: {'upgrade cmlops' if newer else 'read it with the cmlops that wrote it'}"
        )
    kind = data.get("kind")
    if kind != cls._cmlops_result_kind:
        raise ResultFormatError(
            f"the dict holds a {str(kind)[:40]!r} result, not a {cls._cmlops_result_kind!r} "
            f"result: use cmlops.result_from_dict(), which picks the class by kind"
        )


def _check_derived(result: Result, data: Mapping[str, Any], what: str) -> None:
    for key in result._derived:
        if key in data and json_safe(getattr(result, key)) != data[key]:
            raise ResultFormatError(
                f"{what} says {key}={str(data[key])[:40]!r} but its content gives "
                f"{json_safe(getattr(result, key))!r}: the dict was edited; use the original"
            )


def result_from_dict(data: Any) -> Result:
    """Any result ``to_dict()`` wrote, as an object of the class its ``kind`` names."""
    if not isinstance(data, Mapping):
        raise ResultFormatError(
            f"result_from_dict needs the dict a result's to_dict() made, not {type(data).__name__}"
        )
    kind = data.get("kind")
    target = KINDS.get(kind) if isinstance(kind, str) else None
    if target is None:
        raise ResultFormatError(
            f"unknown result kind {str(kind)[:40]!r}: this cmlops reads {', '.join(KINDS)}"
        )
    module, _, name = target.partition(":")
    cls = getattr(importlib.import_module(module), name)
    return cls.from_dict(data)
