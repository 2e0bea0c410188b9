"""``numpy.searchsorted`` as a Spark column expression: which range of sorted edges a value is in.

Three Spark computations split rows by a handful of sorted edges without a join or a
Python UDF: exact KS/Wasserstein (value ranges at sketch quantiles, so one window
partition per range instead of one for everything), per-window AUROC (the same, per
window) and monitoring windows (time bins). A binary search over the edges written
as nested ``CASE WHEN`` runs in the JVM and costs log2(edges) comparisons per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["searchsorted"]


def searchsorted(column: Any, edges: Sequence[Any], side: str = "left") -> Any:
    """The Spark expression equal to ``numpy.searchsorted(edges, value, side)`` per row.

    ``edges`` must be sorted; ``side="left"`` counts the edges strictly below the value,
    ``"right"`` those at or below it. A null value gives ``len(edges)``: callers that
    keep nulls must test for them first.
    """
    from pyspark.sql import functions as F

    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    values = list(edges)

    def search(lo: int, hi: int) -> Any:
        if lo == hi:
            return F.lit(lo)
        mid = (lo + hi) // 2
        edge = F.lit(values[mid])
        below = column <= edge if side == "left" else column < edge
        return F.when(below, search(lo, mid)).otherwise(search(mid + 1, hi))

    return search(0, len(values))
