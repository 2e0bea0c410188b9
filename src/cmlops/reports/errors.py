"""Errors of the reports layer (all one-line messages, shown by the CLI without traceback).

::

    InvalidInputError
    ├── TemplateError              unknown template, template without a parameters cell
    ├── ParameterError             unknown name (did-you-mean), wrong type, missing, file absent
    ├── PlanError                  acceptance plan unreadable or malformed
    ├── PackageExistsError         output folder exists (and --force not given, or signed)
    ├── PackageError               not a package, unsafe zip, unreadable manifest
    └── SigningError               (cmlops.errors) refused signature, key or registration
    ReportExecutionError (CmlopsError)   the kernel failed to run (dead, timeout)
"""

from __future__ import annotations

from cmlops.errors import CmlopsError, InvalidInputError, SigningError

__all__ = [
    "PackageError",
    "PackageExistsError",
    "ParameterError",
    "PlanError",
    "ReportExecutionError",
    "SigningError",
    "TemplateError",
]


class TemplateError(InvalidInputError):
    """The template does not exist or cannot be used as a report template."""


class ParameterError(InvalidInputError):
    """A report parameter is unknown, missing, of the wrong type or names a missing file."""


class PlanError(InvalidInputError):
    """The acceptance plan file cannot be read or does not follow the plan schema."""


class PackageExistsError(InvalidInputError):
    """The output folder exists: refused unless forced, and never for a signed package."""


class PackageError(InvalidInputError):
    """The path is not a readable audit package (or an unsafe zip of one)."""


class ReportExecutionError(CmlopsError):
    """The notebook could not be executed to the end (cell error, dead kernel, timeout)."""
