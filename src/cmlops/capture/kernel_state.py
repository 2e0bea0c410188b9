"""The small public kernel API a frontend asks: is cmlops loaded here, is autotrack on?

The JupyterLab extension evaluates, silently and outside the user's history::

    (lambda m: m.kernel_state() if m else None)(__import__('sys').modules.get('cmlops'))

so a kernel that never imported cmlops is not made to import it, and the
frontend depends on this one documented function, not on a private module
path. The answer's ``repr`` is its JSON (and ``_repr_json_`` gives the same
object), so a frontend reads it from the ``text/plain`` of the reply.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from cmlops._version import __version__
from cmlops.capture.session import shell_session


@dataclass(frozen=True)
class KernelState:
    """What this kernel's cmlops does: loaded, autotrack, what it recorded so far."""

    loaded: bool
    autotrack: bool = False
    activities_recorded: int = 0
    tracking_failed: bool = False
    version: str = __version__

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def _repr_json_(self) -> dict[str, Any]:
        return self.to_dict()

    def __repr__(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


def kernel_state(shell: Any = None) -> KernelState:
    """The state of cmlops in ``shell`` (default: the running IPython shell)."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return KernelState(loaded=False)
        shell = get_ipython()
    session = shell_session(shell) if shell is not None else None
    if session is None:
        return KernelState(loaded=False)
    return KernelState(
        loaded=True,
        autotrack=bool(session.autotrack),
        activities_recorded=int(session.activities),
        tracking_failed=bool(session.warned),
    )


__all__ = ["KernelState", "kernel_state"]
