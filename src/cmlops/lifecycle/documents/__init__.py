"""Dossiers compiled from evidence: pure functions from an evidence document to a document.

Each builder takes the evidence JSON compiled by :mod:`cmlops.lifecycle.evidence`
(and the user's manual answers inside it) and returns a :class:`Document`:
sections with a status (``automatic`` — filled from evidence; ``partial`` —
evidence plus a human answer; ``manual`` — a human answer only; ``missing`` —
neither), the evidence each cites, and the metrics a plan can judge
(``dossier_missing_items`` ...). Nothing here reads a store or the network, so a
dossier re-runs from its packaged evidence alone (``cmlops package reproduce``).
"""

from __future__ import annotations

from cmlops.lifecycle.documents.base import Document, Section, render_html, write_document

KINDS = ("model-card", "tripod-ai", "credibility", "annex-iv", "datasheet")


def build(kind: str, evidence: dict) -> Document:
    """The document of ``kind`` for ``evidence``."""
    if kind == "model-card":
        from cmlops.lifecycle.documents.model_card import build_model_card as builder
    elif kind == "tripod-ai":
        from cmlops.lifecycle.documents.tripod import build_tripod as builder
    elif kind == "credibility":
        from cmlops.lifecycle.documents.credibility import build_credibility as builder
    elif kind == "annex-iv":
        from cmlops.lifecycle.documents.annex_iv import build_annex_iv as builder
    elif kind == "datasheet":
        from cmlops.lifecycle.documents.datasheet import build_datasheet as builder
    else:
        raise ValueError(f"unknown dossier kind {kind!r}: one of {', '.join(KINDS)}")
    return builder(evidence)


__all__ = ["KINDS", "Document", "Section", "build", "render_html", "write_document"]
