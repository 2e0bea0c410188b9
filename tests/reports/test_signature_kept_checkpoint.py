"""A checkpoint the verifier kept vouches for a package's signatures: each signing it covers
must be in its signed list, or the signature rests on a chain that is not the store's."""

from __future__ import annotations

import pytest

from cmlops.reports.signature_anchor import kept_checkpoint_problems
from cmlops.trust.checkpoint import Checkpoint

DIGEST = "a" * 64


def kept(tree_size: int, *entries: dict) -> Checkpoint:
    document = {"tree_size": tree_size, "seq": tree_size, "time": "2026-01-01T00:00:00+00:00",
                "signer": "alice"}  # fmt: skip
    return Checkpoint(document=document, public_key="", signature="", signed_packages=list(entries))


def signing(seq: int, user: str = "erin", meaning: str = "approved", **kw) -> dict:
    return {
        "seq": seq,
        "action": "package.signed",
        "package_id": kw.get("package", "p1"),
        "user_id": user,
        "meaning": meaning,
        "manifest_sha256": kw.get("digest", DIGEST),
    }


def signature(seq: int, user: str = "erin", meaning: str = "approved", valid: bool = True) -> dict:
    return {"seq": seq, "user_id": user, "meaning": meaning, "manifest_sha256": DIGEST,
            "valid": valid}  # fmt: skip


@pytest.mark.req("REQ-SIG-006")
def test_signings_the_kept_checkpoint_lists_are_accepted() -> None:
    problems, notes = kept_checkpoint_problems(kept(50, signing(40)), "p1", [signature(40)])
    assert problems == [] and notes == []


@pytest.mark.req("REQ-SIG-006")
def test_a_signing_it_covers_but_does_not_list_rests_on_another_chain() -> None:
    cases = [
        kept(50),  # not listed at all
        kept(50, signing(40, user="bob")),  # another signer at that seq
        kept(50, signing(40, meaning="reviewed")),  # another meaning
        kept(50, signing(40, digest="b" * 64)),  # another manifest
        kept(50, signing(40, package="p2")),  # another package
    ]
    for checkpoint in cases:
        problems, _notes = kept_checkpoint_problems(checkpoint, "p1", [signature(40)])
        assert len(problems) == 1 and "is not in the chain of the checkpoint" in problems[0]


@pytest.mark.req("REQ-SIG-006")
def test_later_signings_are_noted_and_broken_ones_ignored() -> None:
    problems, notes = kept_checkpoint_problems(
        kept(30), "p1", [signature(40), signature(20, valid=False)]
    )
    assert problems == [] and "made after the checkpoint" in notes[0]
