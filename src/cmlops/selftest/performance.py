"""Performance qualification: the user's own template, data and acceptance plan.

A PQ is an ordinary report run — the user's template on representative data,
judged by the user's pre-specified plan — that must execute, meet its plan and
produce a package that verifies. It is described by a YAML file::

    template: model_validation        # a shipped template's name, or a path to an .ipynb
    parameters: {data: validation.csv, outcome: death_5y, score: risk}
    plan: plan.yaml                   # required: a PQ without acceptance criteria proves nothing

(relative paths are relative to the file), or by ``--pq-template``,
``--pq-data`` (the template's ``data`` parameter), ``--pq-param NAME=VALUE`` and
``--pq-plan``. Everything is validated before anything runs: a missing or
invalid template, parameter or plan is a one-line error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmlops.errors import InvalidInputError
from cmlops.selftest.checks import Check

KEYS = {"template", "parameters", "plan"}
REQ = ("REQ-CSV-004",)


class PQConfigError(InvalidInputError):
    """A performance-qualification description that cannot be used."""


@dataclass(frozen=True)
class PQSpec:
    """What the PQ runs: template, parameters (paths relative to ``base``), plan, and where from."""

    template: str
    parameters: dict[str, Any]
    plan: Path | None
    base: Path
    source: str


def load_pq_config(path: str | Path) -> PQSpec:
    """Read a PQ description file (YAML or JSON) with one-line errors."""
    import yaml

    source = Path(path)
    if not source.is_file():
        raise PQConfigError(f"PQ config {source} is not a file: give the path of your pq.yaml")
    try:
        document = yaml.safe_load(source.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise PQConfigError(f"cannot read PQ config {source}: {exc}") from None
    except yaml.YAMLError:
        raise PQConfigError(f"PQ config {source} is not valid YAML") from None
    if not isinstance(document, dict):
        raise PQConfigError(f"PQ config {source} must be a mapping with {sorted(KEYS)}")
    unknown = sorted(set(map(str, document)) - KEYS)
    if unknown:
        raise PQConfigError(
            f"PQ config {source}: unknown key(s) {unknown}; allowed: {sorted(KEYS)}"
        )
    template, parameters, plan = (document.get(k) for k in ("template", "parameters", "plan"))
    if not isinstance(template, str) or not template.strip():
        raise PQConfigError(f"PQ config {source}: 'template' must name a template or an .ipynb")
    if parameters is not None and not isinstance(parameters, dict):
        raise PQConfigError(f"PQ config {source}: 'parameters' must be a mapping")
    if plan is not None and not isinstance(plan, str):
        raise PQConfigError(f"PQ config {source}: 'plan' must be the path of a plan file")
    base = source.resolve().parent
    if template.endswith(".ipynb"):
        template = str((base / template).resolve())
    return PQSpec(
        template=template,
        parameters={str(k): v for k, v in (parameters or {}).items()},
        plan=(base / plan).resolve() if plan else None,
        base=base,
        source=str(source),
    )


def pq_from_options(
    template: str, data: str | None, plan: str | None, params: Mapping[str, str]
) -> PQSpec:
    """A PQ from command-line options (paths relative to the working directory)."""
    parameters: dict[str, Any] = dict(params)
    if data is not None:
        parameters["data"] = data
    return PQSpec(
        template=template,
        parameters=parameters,
        plan=Path(plan).resolve() if plan else None,
        base=Path.cwd(),
        source="the command line",
    )


def prepare_pq(spec: PQSpec) -> tuple[Any, dict[str, Any]]:
    """Template and typed parameters, with the plan checked — or a one-line error."""
    from cmlops.reports.catalogue import describe_template
    from cmlops.reports.parameters import validate_parameters
    from cmlops.reports.plan import prepare_plan

    where = f"PQ ({spec.source})"
    if spec.plan is None:
        raise PQConfigError(
            f"{where}: a PQ needs your acceptance plan (plan: FILE / --pq-plan FILE)"
        )
    try:
        template = describe_template(spec.template)
        values = validate_parameters(
            template.parameters, spec.parameters, template=template.name, base=spec.base
        )
        prepare_plan(spec.plan, None)
    except InvalidInputError as exc:
        raise PQConfigError(f"{where}: {exc}") from None
    return template, values


def run_pq(spec: PQSpec, *, store: Any, out: Path) -> tuple[list[Check], Any]:
    """Run the PQ into the package ``out``; its checks and the run."""
    from cmlops.reports.runner import run_report
    from cmlops.reports.verify import verify_package

    template, values = prepare_pq(spec)
    given = {k: v for k, v in values.items() if v is not None}  # unset optional ones: defaults
    run = run_report(template, given, plan=spec.plan, out=out, store=store, progress=False)
    verdict = run.manifest.get("results", {}).get("verdict")
    outcomes = ", ".join(
        f"{c.get('id')}: {c.get('outcome')}"
        for c in run.manifest.get("results", {}).get("criteria", [])
    )
    verified = verify_package(run.package)
    return [
        Check(
            "PQ-01",
            "PQ",
            f"template {template.name} runs to completion on the PQ data",
            REQ,
            run.status == "EXECUTED",
            "status EXECUTED",
            f"status {run.status}" + (f": {run.error}" if run.error else ""),
        ),
        Check(
            "PQ-02",
            "PQ",
            "the result meets the PQ acceptance plan",
            REQ,
            verdict == "PASS",
            "verdict PASS under the plan",
            f"verdict {verdict} ({outcomes or 'no criteria'})",
        ),
        Check(
            "PQ-03",
            "PQ",
            "the PQ package verifies",
            REQ,
            verified.ok,
            "package verify passes",
            f"verify {'passed' if verified.ok else 'failed: ' + '; '.join(verified.lines()[:3])}"
            f" — {run.package}",
        ),
    ], run
