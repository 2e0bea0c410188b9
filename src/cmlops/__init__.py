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
    # errors
    "CmlopsError": "cmlops.errors:CmlopsError",
    "StoreError": "cmlops.errors:StoreError",
    "InvalidInputError": "cmlops.errors:InvalidInputError",
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
    "schema_summary": "cmlops.fingerprinting:schema_summary",
    "track": "cmlops.capture.api:track",
    "log_dataset": "cmlops.capture.api:log_dataset",
    "log_model": "cmlops.capture.api:log_model",
    "lineage": "cmlops.capture.api:lineage",
    "record_alerts": "cmlops.capture.api:record_alerts",
    "export_lineage": "cmlops.capture.export:export_lineage",
    "kernel_state": "cmlops.capture.kernel_state:kernel_state",
    # statistics
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
    "evaluate": "cmlops.stats.evaluation:evaluate",
    "EvaluationResult": "cmlops.stats.evaluation:EvaluationResult",
    "independence": "cmlops.stats.independence:independence",
    "IndependenceResult": "cmlops.stats.independence_result:IndependenceResult",
    # reports and audit packages
    "list_templates": "cmlops.reports.catalogue:list_templates",
    "describe_template": "cmlops.reports.catalogue:describe_template",
    "run_report": "cmlops.reports.runner:run_report",
    "verify_package": "cmlops.reports.verify:verify_package",
    "sign_package": "cmlops.reports.signing:sign_package",
    "generate_keys": "cmlops.trust.keys:generate_keys",
    "reproduce_package": "cmlops.reports.reproduce:reproduce_package",
    # model life cycle
    "register_model": "cmlops.lifecycle.api:register_model",
    "record_change_protocol": "cmlops.lifecycle.api:record_change_protocol",
    "model_state": "cmlops.lifecycle.api:model_state",
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


def _register_display() -> None:
    """In a running IPython, let cmlops results display themselves (by type name, lazily).

    Registration by type *name* keeps :mod:`cmlops.stats` free of display code
    and costs nothing until a result is shown. A failure here must never break
    ``import cmlops`` in a scientist's notebook: it becomes one warning.
    """
    import sys

    ipython_module = sys.modules.get("IPython")
    shell = ipython_module.get_ipython() if ipython_module is not None else None
    if shell is None:
        return
    try:
        from cmlops.widgets.display import register_formatters

        register_formatters(shell)
    except Exception as error:  # noqa: BLE001 - never break the user's import
        import warnings

        warnings.warn(f"cmlops: results will display as text ({error})", stacklevel=2)


_register_display()

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
