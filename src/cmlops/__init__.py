"""cmlops: a Jupyter-native governance kit for machine learning in clinical development.

The public API is importable from here. Names are resolved lazily so that
``import cmlops`` stays cheap (no pandas, SciPy or SQLAlchemy until a name that
needs them is used): a kernel that loads the extension must not pay for what it
does not call.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cmlops._version import __version__ as __version__

#: public name -> "module:attribute". One place lists the whole public API.
_PUBLIC: dict[str, str] = {
    # errors (the tree is drawn in cmlops/errors.py)
    "CmlopsError": "cmlops.errors:CmlopsError",
    "InvalidInputError": "cmlops.errors:InvalidInputError",
    "InvalidAnchorError": "cmlops.errors:InvalidAnchorError",
    "InvalidRecordError": "cmlops.errors:InvalidRecordError",
    "SigningError": "cmlops.errors:SigningError",
    "PolicyError": "cmlops.errors:PolicyError",
    "ResultFormatError": "cmlops.errors:ResultFormatError",
    "StoreError": "cmlops.errors:StoreError",
    "StoreNotWritableError": "cmlops.errors:StoreNotWritableError",
    "StoreCorruptError": "cmlops.errors:StoreCorruptError",
    "StoreUnreachableError": "cmlops.errors:StoreUnreachableError",
    "SchemaVersionError": "cmlops.errors:SchemaVersionError",
    "StoreReplacedError": "cmlops.errors:StoreReplacedError",
    "RecordRefusedError": "cmlops.errors:RecordRefusedError",
    "ImmutableRecordError": "cmlops.errors:ImmutableRecordError",
    "ArtifactError": "cmlops.errors:ArtifactError",
    "ProofError": "cmlops.errors:ProofError",
    "OutputFileError": "cmlops.errors:OutputFileError",
    "SparkError": "cmlops.errors:SparkError",
    "PQConfigError": "cmlops.selftest.performance:PQConfigError",
    "UnfingerprintableError": "cmlops.fingerprinting:UnfingerprintableError",
    "FingerprintTooLargeError": "cmlops.fingerprinting:FingerprintTooLargeError",
    "TrackingError": "cmlops.capture.errors:TrackingError",
    "SchemaError": "cmlops.stats.schema:SchemaError",
    "EvaluationInputError": "cmlops.stats._eval_inputs:EvaluationInputError",
    "IndependenceInputError": "cmlops.stats.independence:IndependenceInputError",
    "TemplateError": "cmlops.reports.errors:TemplateError",
    "ParameterError": "cmlops.reports.errors:ParameterError",
    "PlanError": "cmlops.reports.errors:PlanError",
    "PackageExistsError": "cmlops.reports.errors:PackageExistsError",
    "PackageError": "cmlops.reports.errors:PackageError",
    "ReportExecutionError": "cmlops.reports.errors:ReportExecutionError",
    "RegistryError": "cmlops.lifecycle.errors:RegistryError",
    "ProtocolError": "cmlops.lifecycle.errors:ProtocolError",
    "ApprovalError": "cmlops.lifecycle.errors:ApprovalError",
    "DossierError": "cmlops.lifecycle.errors:DossierError",
    # store
    "Store": "cmlops.store:Store",
    "open_store": "cmlops.store:open_store",
    "AuditRecord": "cmlops.store:AuditRecord",
    "VerifyResult": "cmlops.store:VerifyResult",
    "Entity": "cmlops.store:Entity",
    "Activity": "cmlops.store:Activity",
    "Agent": "cmlops.store:Agent",
    "LineageGraph": "cmlops.store:LineageGraph",
    # capture
    "fingerprint": "cmlops.fingerprinting:fingerprint",
    "schema_summary": "cmlops.fingerprint_schema:schema_summary",
    "track": "cmlops.capture.api:track",
    "CellRecorder": "cmlops.capture.recorder:CellRecorder",
    "log_dataset": "cmlops.capture.api:log_dataset",
    "log_model": "cmlops.capture.api:log_model",
    "lineage": "cmlops.capture.api:lineage",
    "record_alerts": "cmlops.capture.api:record_alerts",
    "export_lineage": "cmlops.capture.export:export_lineage",
    "kernel_state": "cmlops.capture.kernel_state:kernel_state",
    "KernelState": "cmlops.capture.kernel_state:KernelState",
    # statistics and their results (every result follows cmlops.stats.result.Result)
    "drift": "cmlops.stats.drift:drift",
    "DriftResult": "cmlops.stats.drift:DriftResult",
    "ColumnDrift": "cmlops.stats.drift:ColumnDrift",
    "monitor": "cmlops.stats.monitoring:monitor",
    "Trigger": "cmlops.stats.monitoring:Trigger",
    "Rule": "cmlops.stats.monitoring:Rule",
    "Alert": "cmlops.stats.monitoring:Alert",
    "MonitorResult": "cmlops.stats.monitoring:MonitorResult",
    "infer_schema": "cmlops.stats.validation:infer_schema",
    "Schema": "cmlops.stats.schema:Schema",
    "validate": "cmlops.stats.validation:validate",
    "ValidationResult": "cmlops.stats.validation:ValidationResult",
    "CheckResult": "cmlops.stats.validation_result:CheckResult",
    "evaluate": "cmlops.stats.evaluation:evaluate",
    "EvaluationResult": "cmlops.stats.evaluation:EvaluationResult",
    "independence": "cmlops.stats.independence:independence",
    "IndependenceResult": "cmlops.stats.independence_result:IndependenceResult",
    "MetricRow": "cmlops.stats.evaluation_result:MetricRow",
    "compare": "cmlops.stats.comparison:compare",
    "ComparisonResult": "cmlops.stats.comparison_result:ComparisonResult",
    "ComparisonRow": "cmlops.stats.comparison_result:ComparisonRow",
    "Result": "cmlops.stats.result:Result",
    "result_from_dict": "cmlops.stats.result:result_from_dict",
    # reports and audit packages
    "list_templates": "cmlops.reports.catalogue:list_templates",
    "describe_template": "cmlops.reports.catalogue:describe_template",
    "Template": "cmlops.reports.catalogue:Template",
    "run_report": "cmlops.reports.runner:run_report",
    # validation of an installation (docs/selftest.md)
    "run_selftest": "cmlops.selftest.run:run_selftest",
    "SelftestResult": "cmlops.selftest.run:SelftestResult",
    "SignRequest": "cmlops.selftest.run:SignRequest",
    "PQSpec": "cmlops.selftest.performance:PQSpec",
    "load_pq_config": "cmlops.selftest.performance:load_pq_config",
    "ReportRun": "cmlops.reports.runner:ReportRun",
    "verify_package": "cmlops.reports.verify:verify_package",
    "PackageVerification": "cmlops.reports.verify:PackageVerification",
    "sign_package": "cmlops.reports.signing:sign_package",
    "generate_keys": "cmlops.trust.admin:generate_keys",
    "KeyFile": "cmlops.trust.keys:KeyFile",
    "reproduce_package": "cmlops.reports.reproduce:reproduce_package",
    "Reproduction": "cmlops.reports.reproduce:Reproduction",
    # model life cycle
    "register_model": "cmlops.lifecycle.api:register_model",
    "record_change_protocol": "cmlops.lifecycle.api:record_change_protocol",
    "model_state": "cmlops.lifecycle.api:model_state",
    "ModelState": "cmlops.lifecycle.registry:ModelState",
    "VersionState": "cmlops.lifecycle.registry:VersionState",
    "list_models": "cmlops.lifecycle.api:list_models",
    "validate_model_version": "cmlops.lifecycle.api:validate_model_version",
    "approve_model_version": "cmlops.lifecycle.api:approve_model_version",
    "retire_model_version": "cmlops.lifecycle.api:retire_model_version",
}

__all__ = sorted([*_PUBLIC, "__version__", "load_ipython_extension", "unload_ipython_extension"])


def __getattr__(name: str) -> Any:
    target = _PUBLIC.get(name)
    if target is None:
        raise AttributeError(f"module 'cmlops' has no attribute {name!r}")
    module_name, _, attribute = target.partition(":")
    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


def load_ipython_extension(ipython: Any) -> None:
    """Entry point of ``%load_ext cmlops``: registers the cmlops magics."""
    from cmlops.capture.magics import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Entry point of ``%unload_ext cmlops``: removes hooks and turns autotrack off."""
    from cmlops.capture.magics import unload_ipython_extension as _unload

    _unload(ipython)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """JupyterLab's discovery hook for the prebuilt frontend (see :mod:`cmlops.server`)."""
    from cmlops.server import _jupyter_labextension_paths as paths

    return paths()


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Jupyter server's discovery hook for the REST API (see :mod:`cmlops.server`)."""
    from cmlops.server import _jupyter_server_extension_points as points

    return points()


def _widgets_renderer() -> Any:
    """The renderer results display with (the widgets layer), built on first display."""
    from cmlops.widgets.renderer import WidgetRenderer

    return WidgetRenderer()


def _install_renderer() -> None:
    """Give every result its renderer: the composition root wiring ``stats`` to ``widgets``.

    ``stats`` may not import ``widgets`` (the one-way flow), so it owns a slot
    (:mod:`cmlops.stats.rendering`) that this package root — which may know every
    layer and always runs before any ``cmlops.stats`` module — fills with a factory.
    Results then render through their own ``_repr_mimebundle_``/``_repr_html_`` in any
    front end, with no IPython formatter registration.
    """
    from cmlops.stats.rendering import set_renderer

    set_renderer(_widgets_renderer)


_install_renderer()

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from cmlops.errors import CmlopsError, InvalidInputError, StoreError  # noqa: F401
    from cmlops.store import (  # noqa: F401
        Activity,
        Agent,
        AuditRecord,
        Entity,
        LineageGraph,
        Store,
        VerifyResult,
        open_store,
    )
