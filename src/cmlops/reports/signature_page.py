"""``signatures.html``: the human-readable signature page of a package (21 CFR 11.50).

It names the report (title, template, package id, run status, acceptance
verdict, who ran it) and each signature with the signer's printed name, user
id, the meaning in words, the justification of an approval with deviation and
the signing time — the time of the signing's audit record, shown in UTC on one
line. Every value is HTML-escaped. The page is a pure function of the manifest
and the entries in ``signatures.json``, so ``verify`` rebuilds it and reports
any difference.
"""

from __future__ import annotations

import html
from typing import Any

MEANING_TEXT = {
    "authored": "Authored — I prepared this analysis and stand behind its content",
    "reviewed": "Reviewed — I reviewed this report and its evidence",
    "approved": "Approved — I approve this report for its stated use",
    "approved-with-deviation": (
        "Approved with deviation — approved although the run failed or its acceptance "
        "verdict is not PASS, for the justification given"
    ),
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#111}"
    "table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #bbb;padding:4px 8px;font-size:13px;text-align:left;"
    "vertical-align:top}"
    "th{background:#f2f2f2}.when,.id{white-space:nowrap}"
    "code{font-size:12px;word-break:break-all}"
    "@media print{body{margin:1cm}}"
)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _when(ts: Any) -> str:
    """``2026-11-22T20:06:54.244013+00:00`` → ``2026-11-22 20:06:54 UTC`` in a <time> element."""
    text = str(ts or "")
    short = text[:19].replace("T", " ") + " UTC" if len(text) >= 19 else text
    return f"<time datetime='{_e(text)}'>{_e(short)}</time>"


def _facts(manifest: dict[str, Any]) -> str:
    template = manifest.get("template") if isinstance(manifest.get("template"), dict) else {}
    results = manifest.get("results") if isinstance(manifest.get("results"), dict) else {}
    plan = manifest.get("plan") if isinstance(manifest.get("plan"), dict) else {}
    rows = [
        ("report", template.get("title") or template.get("name")),
        ("template", f"{template.get('name', '')} (SHA-256 {template.get('sha256', '')})"),
        ("package id", manifest.get("package_id")),
        ("run status", manifest.get("status")),
        ("acceptance verdict", results.get("verdict")),
        ("acceptance plan", plan.get("plan_id", "")),
        ("run by", manifest.get("user")),
    ]
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f"<table class='facts'>{body}</table>"


def _row(entry: Any) -> str:
    e = entry if isinstance(entry, dict) else {}
    meaning = str(e.get("meaning", ""))
    record = e.get("record") if isinstance(e.get("record"), dict) else {}
    cells = [
        f"<td><b>{_e(meaning)}</b><br>{_e(MEANING_TEXT.get(meaning, 'unknown meaning'))}"
        + (f"<br><i>Justification:</i> {_e(e['justification'])}" if e.get("justification") else "")
        + "</td>",
        f"<td>{_e(e.get('name'))}</td>",
        f"<td class='id'>{_e(e.get('user_id'))}</td>",
        f"<td class='when'>{_when(e.get('signed_at'))}</td>",
        f"<td class='id'><code>{_e(e.get('key_id'))}</code></td>",
        f"<td class='id'>seq {_e(record.get('seq'))}</td>",
    ]
    return "<tr>" + "".join(cells) + "</tr>"


def signature_page(manifest: dict[str, Any], entries: list[Any]) -> str:
    """The page for ``entries`` of the package described by ``manifest`` (byte-stable)."""
    title = _e((manifest.get("template") or {}).get("title") or manifest.get("package_id"))
    digests = sorted(
        {str(e.get("manifest_sha256")) for e in entries if isinstance(e, dict)} or {""}
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>Signatures — {title}</title><style>{_STYLE}</style></head><body>"
        f"<h1>Electronic signatures</h1>{_facts(manifest)}"
        "<p>Each signature below signs the package's manifest digest together with the "
        "signer's printed name, user id, meaning and justification (21 CFR 11.50); the time "
        "is that of the signing's record in the audit chain. The signer's key and name were "
        "checked against the signer's registered key when signing; check them again, offline, "
        "with <code>cmlops package verify</code>.</p>"
        "<table class='signatures'><thead><tr><th>meaning</th><th>printed name</th>"
        "<th>user id</th><th>signed (UTC)</th><th>key id</th><th>audit record</th></tr>"
        f"</thead><tbody>{''.join(_row(e) for e in entries)}</tbody></table>"
        f"<p>Signed manifest SHA-256: <code>{'</code>, <code>'.join(map(_e, digests))}</code></p>"
        "</body></html>\n"
    )
