"""A report form submission, checked field by field before a run is queued.

The sidebar shows each error beside its field and a summary beside the Run button,
so every field is checked (not only the first bad one) and the reply names them:
``{"error": {"message", "fields": {name: message}}}``. Path parameters (and the files
and folders of dataset parameters; a ``table:NAME`` is a name) must lie under the
Jupyter root (:func:`cmlops.server.paths.inside_root`); the
plan is resolved by :mod:`cmlops.server.plans` and checked like ``--plan FILE``.
The runner validates everything again itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmlops.errors import InvalidInputError
from cmlops.reports.data_inputs import table_name
from cmlops.server.paths import check_template_name, inside_root
from cmlops.server.plans import describe_plan, resolve_plan

#: the form's field of the acceptance plan (``cmlops_`` is reserved: no template parameter)
PLAN_FIELD = "cmlops_plan"


class FormError(InvalidInputError):
    """Errors of named form fields; the message summarises them in one line."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields
        name, text = next(iter(fields.items()))
        shown = "plan" if name == PLAN_FIELD else name
        more = f" (and {len(fields) - 1} more field(s))" if len(fields) > 1 else ""
        super().__init__(f"{shown}: {text}{more}")


@dataclass(frozen=True)
class CheckedRun:
    """What a run is started with once the form passed every check."""

    template: str
    parameters: dict[str, Any]
    plan: Path | None
    plan_label: str


def _first_line(error: BaseException, root_dir: Path | None = None) -> str:
    """The error's first line; paths under ``root_dir`` named relative to it, as the form
    names them (the server's own folder layout is not the client's business)."""
    line = (str(error).splitlines() or [type(error).__name__])[0]
    if root_dir is not None:
        line = line.replace(f"{root_dir.resolve()}{os.sep}", "")
    return line


def _check_parameters(
    root_dir: Path, specs: list[Any], given: dict[str, Any], template: str
) -> tuple[dict[str, Any], dict[str, str]]:
    from cmlops.reports.parameters import validate_parameters

    known = {spec.name for spec in specs}
    errors: dict[str, str] = {}
    for name in given:
        if name not in known:  # the runner's message: did-you-mean, or the known names
            try:
                validate_parameters(specs, {name: given[name]}, template=template)
            except InvalidInputError as error:
                errors[str(name)[:64]] = _first_line(error)
    values: dict[str, Any] = {}
    for spec in specs:
        value = given.get(spec.name)
        if value is None or value == "":
            if spec.required:
                errors[spec.name] = "required"
            continue
        try:
            if spec.type == "path" or (spec.type == "dataset" and table_name(value) is None):
                value = str(inside_root(root_dir, value, spec.name))  # a table is a name
            validate_parameters([spec], {spec.name: value}, template=template, base=root_dir)
        except InvalidInputError as error:
            errors[spec.name] = _first_line(error, root_dir)
        else:
            values[spec.name] = value
    return values, errors


def check_submission(
    root_dir: Path, packages_dir: Path, template: Any, parameters: Any, plan: Any
) -> CheckedRun:
    """Every field of the form checked; a :class:`FormError` names each bad one."""
    from cmlops.reports.catalogue import describe_template
    from cmlops.reports.parameters import validate_parameters

    template = check_template_name(str(template or ""))
    if not isinstance(parameters, dict):
        raise InvalidInputError("parameters must be a JSON object")
    described = describe_template(template)
    values, errors = _check_parameters(root_dir, described.parameters, parameters, template)
    plan_path, plan_label = None, "template default"
    try:
        plan_path = resolve_plan(root_dir, packages_dir, plan)
        if plan_path is not None:
            summary = describe_plan(plan_path, plan, plan_path.name)
            plan_label = summary["plan_id"] or summary["sha256"][:12]
    except InvalidInputError as error:
        errors[PLAN_FIELD] = _first_line(error, root_dir)
    if errors:
        raise FormError(errors)
    validate_parameters(described.parameters, values, template=template, base=root_dir)
    return CheckedRun(template, values, plan_path, plan_label)
