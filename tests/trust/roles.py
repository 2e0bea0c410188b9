"""Give a user a signing role in a test store (an admin ``qa-admin`` sets up the policy)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cmlops.store import open_store
from cmlops.trust.admin import change_policy, generate_keys
from cmlops.trust.keys import read_key_file
from cmlops.trust.ledger import load_ledger
from cmlops.trust.policy import ROLE_FOR, normalise_policy

ADMIN = "qa-admin"
PASSPHRASE = "correct horse battery"


@contextmanager
def acting_as(home: Path, user: str) -> Iterator[Any]:
    """A store opened by ``user``: the JupyterHub user is who the store authenticates."""
    before = os.environ.get("JUPYTERHUB_USER")
    os.environ["JUPYTERHUB_USER"] = user
    try:
        store = open_store(home=home)
    finally:
        if before is None:
            del os.environ["JUPYTERHUB_USER"]
        else:
            os.environ["JUPYTERHUB_USER"] = before
    try:
        yield store
    finally:
        store.close()


def role_for(meaning: str) -> str:
    return ROLE_FOR[meaning]


def ensure_role(home: Path, keys: Path, user: str, role: str) -> None:
    """``user`` (who must have a registered key) holds ``role`` after this."""
    key_path = keys / f"{ADMIN}.json"
    with acting_as(home, ADMIN) as store:
        if not key_path.exists():
            generate_keys(ADMIN, PASSPHRASE, name="QA Admin", path=key_path, store=store)
        key = read_key_file(key_path)
        current = load_ledger(store).policies.current
        if current is None:
            change_policy(store, None, key=key, passphrase=PASSPHRASE, reason="")
            current = load_ledger(store).policies.current
        if current.holds(user, role):
            return
        roles = {r: list(u) for r, u in current.policy["roles"].items()}
        roles[role].append(user)
        change_policy(store, normalise_policy({"roles": roles}), key=key,
                      passphrase=PASSPHRASE, reason=f"test: {user} is {role}")  # fmt: skip
