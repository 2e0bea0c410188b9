"""What a renderer shows of a result, independent of how: verdict, facts, warnings, table, figures.

:func:`build_model` turns any cmlops result (anything with ``to_frame()``,
``to_dict()`` and ``_cmlops_result_kind``) into a :class:`ViewModel`. The generic
part works for every kind from ``to_dict``/``to_frame`` alone; a kind module
(``kind_drift`` ...) refines the verdict, the facts and the figures. Any failure in
a refinement is caught and shown as a note: a display must never raise in the
scientist's notebook because one field was odd.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cmlops.widgets.table import Table, plain, table_from_frame

log = logging.getLogger(__name__)

KIND_TITLES = {
    "drift": "Data drift",
    "validation": "Data validation",
    "evaluation": "Model evaluation",
    "monitor": "Monitoring",
    "independence": "Train/test independence",
    "comparison": "Model comparison",
}
#: rows of the table kept for display (the full table is always in ``to_frame()``)
MAX_TABLE_ROWS = 2000


@dataclass
class ViewModel:
    """Everything a renderer needs; strings here are raw (renderers escape them)."""

    kind: str
    title: str
    verdict: str = ""
    status: str = "neutral"  # good | bad | warn | neutral
    facts: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    table: Table = field(default_factory=lambda: Table(columns=[], rows=[]))
    table_title: str = ""
    extra_tables: list[tuple[str, Table]] = field(default_factory=list)
    #: tables shown above the main table (failed criteria, failing checks, alerts)
    lead_tables: list[tuple[str, Table]] = field(default_factory=list)
    #: word of the verdict badge; default from ``status`` (ok / fail / warn)
    badge: str = ""
    item_label: str = "Column"
    items: list[str] = field(default_factory=list)
    static_items: list[str] = field(default_factory=list)
    default_sort: tuple[str, bool] | None = None
    figure_builder: Callable[[str], Any] | None = None
    result: Any = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def default_item(self) -> str | None:
        return self.items[0] if self.items else None

    def figure(self, item: str) -> Any:
        """The plotly figure for ``item``; a figure carrying the error message if it fails."""
        from cmlops.widgets.figures import message_figure

        if self.figure_builder is None:
            return message_figure("No figure for this result.")
        try:
            return self.figure_builder(item)
        except Exception as exc:  # noqa: BLE001 - a display must not raise; say what failed
            log.warning("cmlops: figure for %r could not be drawn: %s", item, exc)
            return message_figure(f"Figure unavailable: {type(exc).__name__}: {exc}")


def result_kind(result: Any) -> str:
    kind = getattr(result, "_cmlops_result_kind", None)
    return str(kind) if kind else type(result).__name__.lower()


def _safe(call: Callable[[], Any], default: Any, notes: list[str], what: str) -> Any:
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - broken to_frame/to_dict is reported, not raised
        log.warning("cmlops: %s failed: %s", what, exc)
        notes.append(f"{what} failed: {type(exc).__name__}: {exc}")
        return default


def _warning_texts(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, dict)):
        value = [value]
    out: list[str] = []
    for w in value if isinstance(value, (list, tuple)) else [value]:
        if isinstance(w, dict):
            text = w.get("message") or w.get("warning") or w.get("text")
            prefix = w.get("column") or w.get("metric") or w.get("check")
            text = str(text if text is not None else w)
            out.append(f"{prefix}: {text}" if prefix and str(prefix) not in text else text)
        else:
            out.append(str(w))
    return out


def generic_facts(data: dict[str, Any], limit: int = 10) -> list[tuple[str, str]]:
    """Top-level scalar fields of ``to_dict()``: thresholds, methods, counts, versions."""
    from cmlops.widgets.table import format_cell

    facts: list[tuple[str, str]] = []
    for key, value in data.items():
        if key in {"warnings", "kind", "format_version"} or isinstance(value, (dict, list, tuple)):
            continue
        if isinstance(value, str) and len(value) > 80:
            continue
        facts.append((key.replace("_", " "), format_cell(plain(value), key)))
        if len(facts) >= limit:
            break
    return facts


def generic_verdict(table: Table) -> tuple[str, str]:
    """Count flagged rows from a ``drifted`` or ``passed`` column when there is one."""
    n = len(table.rows)
    if "drifted" in table.columns:
        flags = [v for v in table.column_values("drifted") if v is not None]
        k = sum(bool(v) for v in flags)
        return (f"{k} of {n} drifted", "bad" if k else "good")
    if "passed" in table.columns:
        flags = [v for v in table.column_values("passed") if v is not None]
        k = sum(not bool(v) for v in flags)
        return (f"{k} of {n} failed", "bad" if k else "good")
    return ("", "neutral")


def build_model(result: Any) -> ViewModel:
    """The :class:`ViewModel` of ``result``: the generic view refined by the kind's module."""
    kind = result_kind(result)
    notes: list[str] = []
    data = _safe(lambda: result.to_dict(), {}, notes, "to_dict()")
    if not isinstance(data, dict):
        data = {}
    frame = _safe(lambda: result.to_frame(), None, notes, "to_frame()")
    table = Table(columns=[], rows=[])
    if frame is not None:
        table = _safe(
            lambda: table_from_frame(frame, max_rows=MAX_TABLE_ROWS), table, notes, "table"
        )
    verdict, status = generic_verdict(table)
    model = ViewModel(
        kind=kind,
        title=KIND_TITLES.get(kind, type(result).__name__),
        verdict=verdict,
        status=status,
        facts=generic_facts(data),
        warnings=_warning_texts(data.get("warnings", getattr(result, "warnings", None))),
        notes=notes,
        table=table,
        result=result,
        data=data,
    )
    if not table.rows and frame is not None:
        model.notes.append("The result has no rows (no columns or metrics were compared).")
    try:
        refine = importlib.import_module(f"cmlops.widgets.kind_{kind}").refine
    except (ImportError, AttributeError):
        return model
    try:
        refine(model)
    except Exception as exc:  # noqa: BLE001 - show the generic view with a note instead
        log.warning("cmlops: %s view could not be refined: %s", kind, exc)
        model.notes.append(f"Part of the {kind} view is unavailable: {type(exc).__name__}: {exc}")
    return model
