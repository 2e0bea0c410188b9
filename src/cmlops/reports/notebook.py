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
from cmlops.reports.plan import judge

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
        return cls(output_dir=folder, plan=plan)

    def frame(self, name: str, frame: Any) -> str:
        """Fingerprint a data frame the report analysed, for the manifest."""
        from cmlops.fingerprinting import fingerprint, schema_summary

        digest = fingerprint(frame)
        self.frames.append({"name": name, "fingerprint": digest, "schema": schema_summary(frame)})
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
        """Metrics of an EvaluationResult: ``metric`` overall, ``metric[subgroup]`` per group."""
        for row in result.metrics:
            key = row.metric if row.subgroup == "all" else f"{row.metric}[{row.subgroup}]"
            if key in self.metrics:  # keep the first threshold's value
                continue
            self.metrics[key] = row.value
            if row.ci_low is not None:
                self.metrics[f"{key}_ci_low"] = row.ci_low
                self.metrics[f"{key}_ci_high"] = row.ci_high

    def add_drift(self, result: Any, prefix: str = "drift") -> None:
        """Dataset-level drift metrics and one drifted flag (0/1) per column."""
        self.metrics[f"{prefix}_share_drifted"] = result.share_drifted
        self.metrics[f"{prefix}_n_drifted"] = result.n_drifted
        self.metrics[f"{prefix}_n_tested"] = result.n_tested
        for col in result.columns:
            self.metrics[f"{prefix}_drifted[{col.column}]"] = int(bool(col.drifted))
        self.details[f"{prefix}_drifted_columns"] = list(result.drifted_columns)

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
        self.details["validation_verdict"] = result.verdict

    def criteria(self) -> list[dict[str, Any]]:
        """The plan's criteria judged against the metrics collected so far."""
        if not self.plan.get("criteria"):
            return []
        return judge(self.metrics, self.plan)

    def criteria_table(self) -> list[dict[str, Any]]:
        """Display the acceptance criteria as a pass/fail table and return its rows."""
        rows = self.criteria()
        body = []
        for row in rows:
            value = "—" if row["value"] is None else f"{row['value']:.4g}"
            colour = {"PASS": "#1a7f37", "FAIL": "#cf222e"}.get(row["outcome"], "#9a6700")
            cells = [
                row["id"],
                row["metric"],
                row["subgroup"] or "all",
                f"{row['op']} {row['threshold']:g}",
                value,
            ]
            tds = "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
            body.append(
                f"<tr>{tds}<td style='color:{colour};font-weight:bold'>"
                f"{html.escape(row['outcome'])}</td></tr>"
            )
        verdict = self.verdict()
        _display_html(
            "<table class='cmlops-criteria'><thead><tr><th>criterion</th><th>metric</th>"
            "<th>subgroup</th><th>acceptance</th><th>observed</th><th>outcome</th></tr>"
            f"</thead><tbody>{''.join(body)}</tbody></table>"
            f"<p><b>Overall: {html.escape(verdict)}</b></p>"
        )
        return rows

    def verdict(self) -> str:
        """PASS when every criterion passed, FAIL otherwise (NONE without criteria)."""
        rows = self.criteria()
        if not rows:
            return "NONE"
        return "PASS" if all(row["passed"] for row in rows) else "FAIL"

    def finish(self) -> dict[str, Any]:
        """Write ``results.json`` (metrics, criteria, verdict, frames) atomically."""
        results = json_safe(
            {
                "metrics": self.metrics,
                "criteria": self.criteria(),
                "verdict": self.verdict(),
                "frames": self.frames,
                "details": self.details,
            }
        )
        target = self.output_dir / RESULTS_FILE
        write_atomic(target, json.dumps(results, indent=2, sort_keys=True))
        return results
