"""Errors of the life-cycle layer (one line each; the CLI exits 2 for all of them).

::

    InvalidInputError
    ├── RegistryError        unknown model or version, not a model, a transition not allowed
    ├── ProtocolError        a change protocol file that does not parse or is incomplete
    ├── ApprovalError        approval refused (the refusal itself is an audit record)
    └── DossierError         a dossier that cannot be compiled (manual answers, unknown item)
"""

from __future__ import annotations

from cmlops.errors import InvalidInputError

__all__ = ["ApprovalError", "DossierError", "ProtocolError", "RegistryError"]


class RegistryError(InvalidInputError):
    """A model, version or status transition the registry cannot accept."""


class ProtocolError(InvalidInputError):
    """A change protocol (PCCP) file that cannot be read or is incomplete."""


class ApprovalError(InvalidInputError):
    """Approval refused; the refusal is recorded as ``model.approval.refused``."""


class DossierError(InvalidInputError):
    """A dossier cannot be compiled from the evidence (and from the manual answers given)."""
