"""Errors of the capture layer (one-line messages; ``cmlops`` exports them).

Tracking never breaks a notebook: a failure to record is one warning per
session, except in a strict execution, where it raises :class:`TrackingError`.
"""

from __future__ import annotations

from cmlops.errors import CmlopsError


class TrackingError(CmlopsError):
    """Strict tracking could not record the execution (raised instead of a warning)."""
