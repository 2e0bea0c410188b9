"""The example shipped with cmlops: a small clinical data extract, its reference and a plan.

It is the performance-qualification example (``cmlops selftest --pq-example``,
``example/pq.yaml``) and the data of the sample package the OQ builds to attack.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def example_dir() -> Path:
    """The folder of the shipped example (inside the installed package)."""
    return Path(str(resources.files("cmlops.selftest") / "example"))


def example_pq_config() -> Path:
    return example_dir() / "pq.yaml"
