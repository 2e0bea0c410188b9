"""Dossier documents from evidence alone: schema checks, escaping, answers (no kernel)."""

from __future__ import annotations

import pytest
from lxml import etree

from cmlops.lifecycle.answers import check_answers
from cmlops.lifecycle.documents import build, render_html
from cmlops.lifecycle.documents.model_card import NAMESPACE, card_xml, schema_errors
from cmlops.lifecycle.errors import DossierError

HOSTILE = "<script>alert(1)</script>&"
EVIDENCE = {
    "model": {"name": "risk", "description": HOSTILE, "versions": []},
    "version": {"version": 2, "entity_id": "blake3:ab", "status": "validated", "facts": {}},
    "protocol": {"protocol": {"sensitive_attributes": [], "fairness_approach": "none: " + HOSTILE}},
    "validation": {},
    "answers": {"model_card": {"developer": HOSTILE}},
}


@pytest.mark.req("REQ-LCM-002")
def test_model_card_xml_is_valid_and_a_broken_card_is_not() -> None:
    xml = card_xml(EVIDENCE)
    assert schema_errors(xml) == []
    root = etree.fromstring(xml)
    developer = root.find(f"{{{NAMESPACE}}}BasicInfo/{{{NAMESPACE}}}ModelDeveloper")
    assert developer.text == HOSTILE  # text, not markup
    root.remove(root.find(f"{{{NAMESPACE}}}Warnings"))
    errors = schema_errors(etree.tostring(root))
    assert (errors and "Warnings" in " ".join(errors)) or "TrustIngredients" in " ".join(errors)


@pytest.mark.req("REQ-SEC-003")
def test_every_dossier_escapes_user_text_and_lists_what_is_missing() -> None:
    for kind in ("model-card", "tripod-ai", "credibility", "annex-iv", "datasheet"):
        doc = build(kind, EVIDENCE)
        page = render_html(doc)
        assert "<script>" not in page
        if kind in ("model-card", "tripod-ai"):
            assert "&lt;script&gt;" in page
        assert doc.missing, kind
        assert doc.metrics()["dossier_missing_items"] == len(doc.missing)
    tripod = build("tripod-ai", EVIDENCE)
    assert len(tripod.sections) == 52
    fairness = next(s for s in tripod.sections if s.id == "14")
    assert fairness.status == "automatic" and "none" in fairness.text


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"tripod": {"28": "x"}}, "unknown TRIPOD+AI item '28'"),
        ({"tripod": {"3a": ""}}, "must be text"),
        ({"nonsense": {}}, "unknown section 'nonsense'"),
        ({"annex_iv": {"10": "x"}}, "unknown annex_iv item '10'"),
        (["not", "a", "mapping"], "a mapping of sections"),
    ],
)
def test_bad_answers_are_one_line(answers: object, message: str) -> None:
    with pytest.raises(DossierError) as caught:
        check_answers(answers)
    assert message in str(caught.value) and "\n" not in str(caught.value)
