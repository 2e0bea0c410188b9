"""The short YAML of manual answers a dossier needs, checked before anything runs::

    tripod:
      "3a": Mortality prediction supports enrichment of long-term outcome studies ...
      "17": Secondary use of the public flchain data; no consent needed.
    model_card:
      developer: Clinical Data Science, Example Pharma
    annex_iv:
      "5": Risk management per SOP-RM-12 ...
    credibility:
      "7": Adequate for enrichment; not for individual treatment decisions.
    datasheet:
      motivation: ...

An unknown section or item is a one-line error naming the valid ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cmlops.lifecycle.errors import DossierError


def _known() -> dict[str, tuple[str, ...]]:
    from cmlops.lifecycle.documents.annex_iv import POINTS
    from cmlops.lifecycle.documents.credibility import STEPS
    from cmlops.lifecycle.documents.model_card import ANSWERS
    from cmlops.lifecycle.documents.tripod import ITEM_IDS

    return {
        "tripod": ITEM_IDS,
        "model_card": ANSWERS,
        "annex_iv": tuple(p[0] for p in POINTS),
        "credibility": tuple(s[0] for s in STEPS),
        "datasheet": ("motivation", "collection", "preprocessing", "distribution"),
    }


def check_answers(doc: Any, where: str = "answers") -> dict[str, dict[str, str]]:
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise DossierError(f"{where}: a mapping of sections (tripod, model_card, ...) to answers")
    known = _known()
    out: dict[str, dict[str, str]] = {}
    for section, items in doc.items():
        if section not in known:
            raise DossierError(
                f"{where}: unknown section {section!r}: use {', '.join(sorted(known))}"
            )
        if not isinstance(items, dict):
            raise DossierError(f"{where}: section {section!r} must map item ids to text")
        for item, text in items.items():
            key = str(item)
            if key not in known[section]:
                label = "TRIPOD+AI item" if section == "tripod" else f"{section} item"
                raise DossierError(
                    f"{where}: unknown {label} {key!r}: items are {', '.join(known[section])}"
                )
            if not isinstance(text, str) or not text.strip():
                raise DossierError(f"{where}: the answer to {section} {key!r} must be text")
            out.setdefault(section, {})[key] = text.strip()
    return out


def load_answers(path: str | Path | None) -> dict[str, dict[str, str]]:
    if path is None:
        return {}
    path = Path(path)
    try:
        raw = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DossierError(f"cannot read answers file {path}: {exc}") from None
    try:
        import yaml

        doc = yaml.safe_load(raw)
    except Exception as exc:  # noqa: BLE001 - any YAML error becomes one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DossierError(f"answers file {path} does not parse: {first}") from None
    return check_answers(doc, str(path))
