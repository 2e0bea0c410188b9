"""A small organisation for signature tests, every person acting in their own process.

People (user ids): alice (admin), bob (reviewer), erin (approver), carol
(author; she runs the reports), mallory (registered key, no role). Each command
runs ``cmlops`` in a fresh Python process with that person's identity in the
environment (``JUPYTERHUB_USER`` and ``CMLOPS_USER``), on one shared store.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.reports.conftest import ECHO_BODY, SRC, make_template

PASSPHRASE = "correct horse battery"
NAMES = {
    "alice": "Alice Admin",
    "bob": "Bob Reviewer",
    "erin": "Erin Approver",
    "carol": "Carol Author",
    "mallory": "Mallory Outsider",
}
ROLES = {"bob": "reviewer", "erin": "approver", "carol": "author"}
BATCH = """
import json, sys, click
from cmlops.cli import cli
codes = []
for args in json.loads(sys.argv[1]):
    try:
        cli.main(args, prog_name="cmlops", standalone_mode=False)
        codes.append(0)
    except click.ClickException as error:
        error.show()
        codes.append(error.exit_code)
print(json.dumps(codes))
"""


@dataclass
class World:
    base: Path
    home: Path
    packages: dict[str, Path] = field(default_factory=dict)
    counter: int = 0

    def env(self, user: str, claim: str | None = None) -> dict[str, str]:
        """``user`` is who the store authenticates (hub user); ``claim`` a CMLOPS_USER claim."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CMLOPS_")}
        current = env.get("PYTHONPATH", "")
        env.update(
            PYTHONPATH=os.pathsep.join(p for p in (str(SRC), current) if p),
            CMLOPS_HOME=str(self.home),
            CMLOPS_DISPLAY="static",
            CMLOPS_USER=claim or user,
            JUPYTERHUB_USER=user,
            CMLOPS_SIGNING_KEY=str(self.key(user)),
        )
        return env

    def key(self, user: str) -> Path:
        return self.base / "keys" / f"{user}.json"

    def cli(
        self, user: str, *args: str, code: int | None = 0, claim: str | None = None
    ) -> subprocess.CompletedProcess:
        """Run ``cmlops ARGS`` as ``user``; assert the exit code unless ``code`` is None."""
        done = subprocess.run(
            [sys.executable, "-c", "from cmlops.cli import main; main()", *map(str, args)],
            env=self.env(user, claim),
            cwd=self.base,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if code is not None:
            assert done.returncode == code, (
                args,
                done.returncode,
                done.stdout[-3000:],
                done.stderr[-3000:],
            )
        return done

    def batch(self, user: str, *commands: list) -> list[int]:
        """Run several commands as ``user`` in one process (set-up only); their exit codes."""
        done = subprocess.run(
            [sys.executable, "-c", BATCH, json.dumps([[str(a) for a in c] for c in commands])],
            env=self.env(user),
            cwd=self.base,
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout.splitlines()[-1])

    def sign(self, user: str, package: Path, meaning: str, *extra: str, code: int = 0):
        secret = self.base / "secret.txt"
        return self.cli(
            user, "package", "sign", package, "--meaning", meaning,
            "--passphrase-file", secret, *extra, code=code,
        )  # fmt: skip

    def copy(self, name: str) -> Path:
        """A fresh copy of a built package (folder only).

        Once any copy of a package is signed, the store knows it: other copies
        then lack that signature (stripped) when checked against the store.
        """
        self.counter += 1
        target = self.base / "copies" / f"{name}-{self.counter}"
        shutil.copytree(self.packages[name], target)
        return target

    def records(self, action: str) -> list[dict]:
        """The store's records with this action (read in this process, never written)."""
        from cmlops.store import open_store

        with open_store(home=self.home, create=False) as store:
            return [r.to_dict() for r in store.records(action=action)]


def build_world(base: Path) -> World:
    """Keys for everyone, a policy, and packages run by carol.

    ``pass`` (template ``echo``, verdict PASS), ``fail`` (template ``echo_other``,
    verdict FAIL), ``failed`` (a FAILED run), ``spare`` (template ``echo``, never
    signed: refused signings leave it untouched), ``approved`` (a copy of
    ``pass`` authored by carol, reviewed by bob, approved by erin).
    """
    world = World(base=base, home=base / ".cmlops")
    (base / "keys").mkdir()
    secret = base / "secret.txt"
    secret.write_text(PASSPHRASE + "\n")
    for user, name in NAMES.items():
        world.cli(user, "keys", "generate", "--name", name, "--out", world.key(user),
                  "--passphrase-file", secret)  # fmt: skip
    admin = [["policy", "init", "--admin", "alice", "--passphrase-file", secret]]
    for user, role in ROLES.items():
        admin.append(["policy", "grant", role, user, "--reason", "test organisation",
                      "--passphrase-file", secret])  # fmt: skip
    assert world.batch("alice", *admin) == [0] * len(admin)
    runs = {
        "pass": (make_template(base / "echo.ipynb", ECHO_BODY), "n=1"),
        "fail": (make_template(base / "echo_other.ipynb", ECHO_BODY), "n=0"),
        "failed": (make_template(base / "broken.ipynb", ["raise RuntimeError('x')"]), "n=1"),
        "spare": (base / "echo.ipynb", "n=2"),
    }
    commands = [
        ["report", "run", template, "-p", value, "--out", base / "built" / name, "--no-progress"]
        for name, (template, value) in runs.items()
    ]
    assert world.batch("carol", *commands) == [0, 0, 1, 0]  # 1: the FAILED run
    for name in runs:
        assert (base / "built" / name / "manifest.json").is_file(), name
        world.packages[name] = base / "built" / name
    approved = world.copy("pass")
    world.sign("carol", approved, "authored")
    world.sign("bob", approved, "reviewed")
    world.sign("erin", approved, "approved")
    world.packages["approved"] = approved
    return world
