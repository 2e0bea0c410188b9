"""The result of :func:`cmlops.stats.independence.independence`: a plain dataclass.

It holds counts, 0-based row positions in the test set and *salted hashes* of the
shared subject identifiers — never an identifier in clear. The salt stays in the
object (a private field: never normalised, stored or read back — see
:mod:`cmlops.stats.result`) and out of :meth:`IndependenceResult.to_dict`, so
whatever is stored, exported or rendered cannot be matched back to a subject
without it; :meth:`IndependenceResult.shared_rows` uses it, in the kernel, to point
at the rows. Display, export and the round trip come from the result protocol.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from cmlops.stats.result import Result
from cmlops.stats.subject_ids import canonical_ids

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["HASH_METHOD", "IndependenceResult", "id_digest", "salt_id"]

HASH_METHOD = "HMAC-SHA256"
#: positions listed per finding (the counts are always complete)
MAX_POSITIONS = 1000


def salt_id(salt: bytes) -> str:
    """A public name of a salt (a commitment): whoever holds the salt can show it was used."""
    return hashlib.sha256(b"cmlops-id-salt\n" + salt).hexdigest()[:16]


def id_digest(salt: bytes, canonical: bytes) -> str:
    """HMAC-SHA256 of one canonical identifier (see ``canonical_ids``), as hex."""
    return hmac.new(salt, canonical, hashlib.sha256).hexdigest()


@dataclass
class IndependenceResult(Result):
    """Train/test independence: shared subjects, duplicate rows, near-duplicates.

    Attributes:
        id_column: the subject identifier column (None when only rows were compared).
        shared_subjects: subjects present in both sets (None without ``id_column``).
        shared_subject_hashes: HMAC-SHA256 (salted) of each shared identifier, sorted.
        shared_test_rows: test rows that belong to a shared subject.
        duplicate_rows: test rows identical to a training row on ``duplicate_columns``
            (every column both sets have, except the identifier).
        near_duplicates: test rows within ``tolerances`` of a training row on every
            ``key_columns`` column (exact match for columns without a tolerance).
        verdict: ``fail`` (a shared subject), ``warn`` (duplicate or near-duplicate
            rows only) or ``pass``.
        salt_id: the salt's public name; the salt itself is never part of the result.
    """

    _cmlops_result_kind: ClassVar[str] = "independence"
    _title: ClassVar[str] = "Train/test independence"

    id_column: str | None
    n_train_rows: int
    n_test_rows: int
    n_train_subjects: int | None
    n_test_subjects: int | None
    shared_subjects: int | None
    shared_subject_hashes: list[str]
    shared_test_rows: int | None
    duplicate_columns: list[str]
    duplicate_rows: int | None
    duplicate_positions: list[int]
    key_columns: list[str]
    tolerances: dict[str, float]
    near_duplicates: int | None
    near_duplicate_positions: list[int]
    verdict: str
    salt_id: str
    hash_method: str = HASH_METHOD
    id_type: str = ""
    warnings: list[str] = field(default_factory=list)
    _salt: bytes = field(default=b"", repr=False, compare=False)

    @property
    def passed(self) -> bool:
        """True unless a subject is in both sets."""
        return self.verdict != "fail"

    def metrics(self) -> dict[str, int | None]:
        """The counts a pre-specified plan can judge (``independence_*``)."""
        return {
            "independence_shared_subjects": self.shared_subjects,
            "independence_shared_test_rows": self.shared_test_rows,
            "independence_duplicate_rows": self.duplicate_rows,
            "independence_near_duplicates": self.near_duplicates,
        }

    def shared_rows(self, frame: pd.DataFrame, id: str | None = None) -> pd.DataFrame:
        """The rows of ``frame`` whose subject is shared (needs the salt of this kernel)."""
        if not self._salt:
            raise ValueError("this result has no salt (it was loaded, not computed): re-run it")
        column = id or self.id_column
        if column is None:
            raise ValueError("no id column: pass id=")
        wanted = set(self.shared_subject_hashes)
        codes = canonical_ids(frame, column, "frame")[0]
        mask = [id_digest(self._salt, c) in wanted for c in codes]
        return frame.loc[mask]

    def to_frame(self) -> pd.DataFrame:
        """One row per check: what was compared, how many were found, its status."""
        import pandas as pd

        rows = [
            (
                "shared subjects",
                self.id_column or "",
                self.shared_subjects,
                "fail" if self.shared_subjects else "pass",
            ),
            (
                "exact duplicate rows",
                ", ".join(self.duplicate_columns),
                self.duplicate_rows,
                "warn" if self.duplicate_rows else "pass",
            ),
            (
                "near-duplicates on key columns",
                ", ".join(_key_label(k, self.tolerances) for k in self.key_columns),
                self.near_duplicates,
                "warn" if self.near_duplicates else "pass",
            ),
        ]
        frame = pd.DataFrame(rows, columns=["check", "compared", "found", "status"])
        frame.loc[frame["found"].isna(), "status"] = "skipped"
        frame["found"] = frame["found"].astype("Int64")
        return frame

    def _summary(self) -> str:
        subjects = "not compared" if self.shared_subjects is None else self.shared_subjects
        return (
            f"shared subjects {subjects}, duplicate rows {self.duplicate_rows}, "
            f"near-duplicates {self.near_duplicates} ({self.n_train_rows} training vs "
            f"{self.n_test_rows} test rows)"
        )

    def _consistent(self) -> bool:
        """``verdict`` follows from the counts (as :func:`independence` sets it)."""
        expected = (
            "fail"
            if self.shared_subjects
            else "warn"
            if (self.duplicate_rows or self.near_duplicates)
            else "pass"
        )
        return self.verdict == expected


def _key_label(column: str, tolerances: dict[str, float]) -> str:
    tol = tolerances.get(column)
    return f"{column} (±{tol:g})" if tol else column
