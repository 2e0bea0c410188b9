"""The helper report templates use inside the kernel.

A template does::

    from cmlops.reports.notebook import ReportContext
    report = ReportContext.start(cmlops_output_dir)   # static display, loads plan.json
    report.frame("development", dev)                  # fingerprint an analysed frame
    report.show(result)                                # static HTML of a stats result
    report.metrics.update({"auroc": 0.81, "auroc[sex=F]": 0.79})
    report.criteria_table()                            # pass/fail table against the plan
    report.finish()                                    # results.json for the manifest

Everything a template hands back to the runner goes through ``results.json``
in the package folder; the kernel never talks to the audit store itself, so a
template stays an ordinary notebook anyone can run by hand.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmlops.atomic_files import write_atomic
from cmlops.json_safe import json_safe
from cmlops.reports.plan import judge, metric_key, plan_verdict
from cmlops.spark_frames import is_spark_frame, spark_version
from cmlops.store.values import decode_value

RESULTS_FILE = "results.json"
PLAN_FILE = "plan.json"


#: FDA credibility framework (2025 draft guidance): model risk from influence x consequence
RISK_MATRIX = {
    ("low", "low"): "low",
    ("low", "medium"): "low",
    ("low", "high"): "medium",
    ("medium", "low"): "low",
    ("medium", "medium"): "medium",
    ("medium", "high"): "high",
    ("high", "low"): "medium",
    ("high", "medium"): "high",
    ("high", "high"): "high",
}


def model_risk(influence: str, consequence: str) -> str:
    """Model risk level from model influence and decision consequence (low/medium/high)."""
    key = (influence.strip().lower(), consequence.strip().lower())
    if key not in RISK_MATRIX:
        raise ValueError("model influence and decision consequence are each low, medium or high")
    return RISK_MATRIX[key]


def read_frame(path: str | os.PathLike[str]) -> Any:
    """Read a CSV, Parquet, Excel or JSON data file into a pandas DataFrame by its suffix."""
    import pandas as pd

    suffix = Path(path).suffix.lower()
    readers = {
        ".csv": pd.read_csv,
        ".parquet": pd.read_parquet,
        ".xlsx": pd.read_excel,
        ".json": pd.read_json,
        ".tsv": lambda p: pd.read_csv(p, sep="\t"),
    }
    if suffix not in readers:
        raise ValueError(f"cannot read {suffix or 'extension-less'} files: use csv or parquet")
    return readers[suffix](path)


def n_rows(frame: Any) -> int:
    """Rows of a pandas frame, or of a Spark frame (one Spark count; nothing collected)."""
    if is_spark_frame(frame):
        from cmlops.spark_frames import spark_errors

        with spark_errors("counting the rows of the Spark frame"):
            return int(frame.count())
    return len(frame)


def sketch_record(result: Any) -> dict[str, Any]:
    """What a Spark drift result says about its sketches, for the manifest.

    The sketch parameters (``sketch_k``, the rank error of each side, exact or not)
    and, per tested column, the statistic, its error bound, the interval that holds
    the exact value and whether the verdict is uncertain within it.
    """
    engine = dict(result.settings.get("engine") or {})
    columns = {
        c.column: {
            "test": c.test,
            "statistic": c.statistic,
            "error_bound": c.error_bound,
            "statistic_interval": (c.details or {}).get("statistic_interval"),
            "uncertain": bool(c.uncertain),
        }
        for c in result.columns
        if c.status != "skipped"
    }
    return {
        "engine": engine,
        "exact": bool(result.settings.get("exact")),
        "uncertain": bool(result.uncertain),
        "uncertain_columns": list(result.uncertain_columns),
        "columns": columns,
    }


OUTCOME_CLASS = {"PASS": "pass", "FAIL": "fail", "NOT EVALUATED": "not-evaluated"}


def criteria_table_html(rows: list[dict[str, Any]], verdict: str) -> str:
    """The criteria as an escaped HTML table: observed value with its warning beside it."""
    body = []
    for row in rows:
        value = "—" if row["value"] is None else f"{row['value']:.4g}"
        if row.get("reason"):
            value += f" ⚠ {row['reason']}"
        cells = [
            row["id"],
            row["metric"],
            row["subgroup"] or "all",
            f"{row['op']} {row['threshold']:g}",
            value,
        ]
        tds = "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
        cls = OUTCOME_CLASS.get(row["outcome"], "not-evaluated")
        body.append(
            f"<tr>{tds}<td class='cmlops-outcome cmlops-{cls}'>"
            f"{html.escape(row['outcome'])}</td></tr>"
        )
    cls = OUTCOME_CLASS.get(verdict, "not-evaluated")
    return (
        f"<style>{CRITERIA_CSS}</style>"
        "<table class='cmlops-criteria'><thead><tr><th>criterion</th><th>metric</th>"
        "<th>subgroup</th><th>acceptance</th><th>observed</th><th>outcome</th></tr>"
        f"</thead><tbody>{''.join(body)}</tbody></table>"
        f"<p class='cmlops-verdict-line'>Overall verdict: <b class='cmlops-outcome "
        f"cmlops-{cls}'>{html.escape(verdict)}</b></p>"
    )


CRITERIA_CSS = """
table.cmlops-criteria { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
table.cmlops-criteria th, table.cmlops-criteria td { border: 1px solid #e0e0e0;
  padding: 3px 8px; text-align: left; vertical-align: top; white-space: normal; }
table.cmlops-criteria th { background: #f5f5f5; }
.cmlops-outcome { font-weight: bold; }
.cmlops-pass { color: #1a7f37; }
.cmlops-fail { color: #cf222e; }
.cmlops-not-evaluated { color: #9a6700; }
"""


def _display_html(markup: str) -> None:
    from IPython.display import HTML, display

    display(HTML(markup))


@dataclass
class ReportContext:
    """What a running template collects for its package."""

    output_dir: Path
    plan: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    frames: list[dict[str, Any]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    #: metric key -> why its value cannot support an acceptance decision
    not_evaluable: dict[str, str] = field(default_factory=dict)
    #: how Spark computed the results (version, sources, sketch parameters, error
    #: bounds); empty when no Spark frame was analysed. The manifest's ``spark``.
    spark: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(cls, output_dir: str | os.PathLike[str] = ".") -> ReportContext:
        """Switch results to static HTML and read the plan the runner recorded."""
        try:
            from cmlops.widgets.mode import set_display_mode

            set_display_mode("static")
        except ImportError:  # pragma: no cover - widgets are part of cmlops
            pass
        folder = Path(output_dir)
        plan_path = folder / PLAN_FILE
        plan = json.loads(plan_path.read_text("utf-8")) if plan_path.is_file() else {}
        plan = decode_value(plan)  # plan.json is canonical: 1.0e+16 is "cmlops:num:1e+16" there
        return cls(output_dir=folder, plan=plan)

    def frame(self, name: str, frame: Any) -> str:
        """Fingerprint a data frame the report analysed, for the manifest."""
        from cmlops.fingerprint_schema import schema_summary
        from cmlops.fingerprinting import fingerprint

        digest = fingerprint(frame)
        self.frames.append({"name": name, "fingerprint": digest, "schema": schema_summary(frame)})
        if is_spark_frame(frame):
            self.spark["spark_version"] = spark_version(frame)
            self.spark.setdefault("frames", {})[name] = {
                "fingerprint": digest,
                "computed_by": "Spark (content fingerprint of the multiset of rows)",
            }
        return digest

    def show(self, result: Any) -> None:
        """Display a stats result as self-contained static HTML (plotly embedded)."""
        try:
            from cmlops.widgets.display import to_html
        except ImportError:  # pragma: no cover - fallback when widgets are absent
            _display_html(result.to_frame().to_html(escape=True))
            return
        _display_html(to_html(result))

    def context(self, **items: str) -> None:
        """Display the run's context (question, context of use, risk ...) as an escaped table."""
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k.replace('_', ' '))}</th>"
            f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>"
            for k, v in items.items()
        )
        self.details.setdefault("context", {}).update({k: str(v) for k, v in items.items()})
        _display_html(f"<table class='cmlops-context'>{rows}</table>")

    def add_evaluation(self, result: Any) -> None:
        """Metrics of an EvaluationResult: ``metric`` overall, ``metric[subgroup]`` per group.

        Confidence bounds are ``metric_ci_low`` / ``metric_ci_high`` (per subgroup
        ``auroc_ci_low[sex=F]``). A row the evaluation marks not evaluable (too few
        events, a degenerate interval ...) keeps its value but any criterion on it
        is NOT EVALUATED with that reason.
        """
        for row in result.metrics:
            subgroup = None if row.subgroup == "all" else row.subgroup
            key = metric_key(row.metric, subgroup)
            if key in self.metrics:  # keep the first threshold's value
                continue
            self.metrics[key] = row.value
            keys = [key]
            if row.ci_low is not None:
                for bound, value in (("ci_low", row.ci_low), ("ci_high", row.ci_high)):
                    bound_key = metric_key(f"{row.metric}_{bound}", subgroup)
                    self.metrics[bound_key] = value
                    keys.append(bound_key)
            reason = getattr(row, "not_evaluable", "")
            if reason:
                self.not_evaluable.update(dict.fromkeys(keys, reason))

    def add_drift(self, result: Any, prefix: str = "drift") -> None:
        """Dataset-level drift metrics and one drifted flag (0/1) per column.

        With no column tested (all missing, all skipped) nothing was compared, so
        every drift metric is not evaluable — a share of 0 drifted of 0 is no PASS.
        """
        self.metrics[f"{prefix}_share_drifted"] = result.share_drifted
        self.metrics[f"{prefix}_n_drifted"] = result.n_drifted
        self.metrics[f"{prefix}_n_tested"] = result.n_tested
        for col in result.columns:
            self.metrics[f"{prefix}_drifted[{col.column}]"] = int(bool(col.drifted))
            if getattr(col, "status", "") == "skipped":
                why = "; ".join(getattr(col, "warnings", []) or []) or "column not tested"
                self.not_evaluable[f"{prefix}_drifted[{col.column}]"] = f"not tested: {why}"
        if not result.n_tested:
            for name in ("share_drifted", "n_drifted", "n_tested"):
                self.not_evaluable[f"{prefix}_{name}"] = "no columns tested"
        self.details[f"{prefix}_drifted_columns"] = list(result.drifted_columns)
        engine = (result.settings or {}).get("engine")
        if isinstance(engine, dict) and engine.get("engine") == "spark":
            self.spark["spark_version"] = engine.get("spark_version")
            self.spark[prefix] = sketch_record(result)

    def add_independence(self, result: Any) -> None:
        """Train/test independence counts (``independence_*``), for plans that require it."""
        for key, value in result.metrics().items():
            if value is not None:
                self.metrics[key] = value
        self.details["independence"] = result.to_dict()

    def add_validation(self, result: Any) -> None:
        """Counts of failed checks by severity, and the rows validated."""
        failures = result.failures()
        self.metrics["failed_checks"] = sum(1 for c in failures if c.status == "fail")
        self.metrics["warned_checks"] = sum(1 for c in failures if c.status == "warn")
        self.metrics["checks"] = len(result.checks)
        self.metrics["rows"] = result.n_rows
        if not result.checks:
            for name in ("failed_checks", "warned_checks"):
                self.not_evaluable[name] = "no checks were run"
        self.details["validation_verdict"] = result.verdict
        if str(result.engine).startswith("spark"):
            self.spark["spark_version"] = str(result.engine).removeprefix("spark ").strip()
            self.spark["validation"] = {
                "engine": result.engine,
                "counts": "exact: every check one Spark aggregation (count_if / groupBy)",
            }

    def criteria(self) -> list[dict[str, Any]]:
        """The plan's criteria judged against the metrics collected so far."""
        if not self.plan.get("criteria"):
            return []
        return judge(self.metrics, self.plan, self.not_evaluable)

    def criteria_table(self) -> list[dict[str, Any]]:
        """Display the acceptance criteria as a pass/fail table and return its rows."""
        rows = self.criteria()
        _display_html(criteria_table_html(rows, self.verdict()))
        return rows

    def verdict(self) -> str:
        """PASS, FAIL or NOT EVALUATED under the plan (NONE without criteria)."""
        return plan_verdict(self.criteria(), self.plan)

    def finish(self) -> dict[str, Any]:
        """Write ``results.json`` (metrics, criteria, verdict, frames) atomically."""
        results = json_safe(
            {
                "metrics": self.metrics,
                "criteria": self.criteria(),
                "verdict": self.verdict(),
                "frames": self.frames,
                "details": self.details,
                "not_evaluable": self.not_evaluable,
                **({"spark": self.spark} if self.spark else {}),
            }
        )
        target = self.output_dir / RESULTS_FILE
        write_atomic(target, json.dumps(results, indent=2, sort_keys=True))
        return results
