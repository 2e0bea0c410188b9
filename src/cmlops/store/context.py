"""The context sealed into every record (format 2): who, where, with what.

``actor`` says who acted; the context says how that is known and where the
record came from, as ICH E6(R3) and Annex 11 expect of an audit trail:

* ``actor_source`` — ``postgresql`` (the database session role), ``jupyterhub``
  (the hub user) or ``os`` (the operating-system account);
* ``claimed_actor`` — the name given in ``CMLOPS_USER`` (or in code), "" if none;
* ``os_user`` and ``hub_user`` — the weaker identities, for cross-checking;
* ``host``, ``pid`` and ``session`` — the machine, process and Jupyter kernel
  session (a random per-process id outside a kernel);
* ``cmlops_version`` — the kit that wrote the record.
"""

from __future__ import annotations

import os
import socket
from functools import lru_cache

from cmlops._version import __version__
from cmlops.config import Actor, hub_user, os_user, session_id
from cmlops.store.values import canonical_payload


@lru_cache(maxsize=1)
def _host() -> str:
    return socket.gethostname()


@lru_cache(maxsize=64)
def _context_text(
    source: str, claimed: str, pid: int, session: str, host: str, os_name: str, hub: str
) -> str:
    return canonical_payload(
        {
            "actor_source": source,
            "claimed_actor": claimed,
            "cmlops_version": __version__,
            "host": host,
            "hub_user": hub,
            "os_user": os_name,
            "pid": pid,
            "session": session,
        }
    )


def context_text(actor: Actor, claimed: str | None = None) -> str:
    """Canonical JSON text of the context of a record written now by ``actor``.

    ``claimed`` overrides the actor's claimed name for one record. Cached:
    the text only changes with the process, the kernel session or the claim.
    """
    return _context_text(
        actor.source,
        actor.claimed if claimed is None else claimed,
        os.getpid(),
        session_id(),
        _host(),
        _os_user(),
        hub_user(),
    )


@lru_cache(maxsize=1)
def _os_user() -> str:
    return os_user()
