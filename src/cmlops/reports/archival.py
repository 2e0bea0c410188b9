"""The archival copy of a report: a PDF/A-3b with its figures and the manifest embedded.

Made offline with two well-kept libraries: WeasyPrint lays out the report's
HTML and CSS and writes PDF/A-3b itself (every font embedded, an sRGB output
intent, XMP ``pdfaid:part=3``/``conformance=B``, associated files with their
``AFRelationship``); it fetches nothing but ``data:`` URLs. The report's plotly
figures are drawn by JavaScript, which WeasyPrint does not run, so each
figure's JSON (carried in the page) is rendered to a PNG by kaleido, plotly's
own static-export library, driving the local headless Chrome/Chromium — all
figures in one browser session.

The manifest and the PDF cannot contain each other, so the circle is cut
explicitly. The PDF embeds the *pre-PDF manifest*: the manifest of the package
as it was, byte for byte (``manifest.json``, ``AFRelationship /Data``). The
package's manifest then lists ``report.pdf`` like any output and adds
``archival: {file, embedded_manifest_sha256}``. ``package verify`` checks the
PDF's hash like any file's and, opening it, that the embedded manifest is
exactly the package's manifest without those two additions — so neither can be
swapped for another's. Adding a PDF changes the manifest digest, which every
signature signs: ``cmlops package pdf`` therefore refuses a signed package
(make the PDF first — ``report run --pdf`` or ``package pdf`` — then sign).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

from cmlops.reports.errors import PackageError
from cmlops.reports.manifest import dumps

PDF = "report.pdf"
EMBEDDED = "manifest.json"
#: the AFRelationship of the embedded manifest (ISO 32000-2 / PDF/A-3: data the
#: document presents)
RELATIONSHIP = "Data"
_FIGURE_DATA = re.compile(
    r"<script\b[^>]*\bid=\"([^\"]+)-data\"[^>]*>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL
)
_PLOT = re.compile(r"<div class=\"cm-plot\" id=\"([^\"]+)\"[^>]*>.*?</div>", re.DOTALL)
_SCRIPT = re.compile(r"<script\b.*?</script\s*>", re.IGNORECASE | re.DOTALL)
#: width of a figure in the PDF (CSS px; an A4 page with margins holds about 700)
FIGURE_WIDTH = 900
PRINT_CSS = """
@page { size: A4 landscape !important; margin: 14mm 12mm 16mm 12mm;
  @bottom-left { content: "%s"; font: 8pt sans-serif; color: #555; }
  @bottom-right { content: "page " counter(page) " of " counter(pages);
    font: 8pt sans-serif; color: #555; } }
img.cmlops-static-figure { width: 80%%; height: auto; }
.cmlops-result { max-width: none !important; }
.cmlops-result .cm-table { font-size: 7.5pt !important; }
.cmlops-result .cm-table td { overflow-wrap: normal !important; }
.cmlops-result .cm-table th { overflow-wrap: anywhere !important; }
"""


def _figures(page: str) -> dict[str, dict[str, Any]]:
    found = {}
    for fid, text in _FIGURE_DATA.findall(page):
        try:
            found[fid] = json.loads(text)
        except ValueError:
            continue  # not a figure: left out of the PDF, the page still reads
    return found


async def _render(figures: dict[str, dict[str, Any]]) -> dict[str, bytes]:
    import kaleido

    images: dict[str, bytes] = {}
    async with kaleido.Kaleido(n=1, mathjax=False) as session:
        for fid, spec in figures.items():
            height = (spec.get("layout") or {}).get("height") or 320
            options = {"format": "png", "width": FIGURE_WIDTH, "height": height, "scale": 2}
            images[fid] = await session.calc_fig(spec, opts=options)
    return images


def figure_images(page: str) -> dict[str, bytes]:
    """Every plotly figure of a report page as a PNG, by its element id."""
    figures = _figures(page)
    if not figures:
        return {}
    try:
        return asyncio.run(_render(figures))
    except Exception as error:  # noqa: BLE001 - kaleido/Chrome fail in many ways; one line
        raise PackageError(
            "cannot draw the report's figures for the PDF "
            f"({type(error).__name__}: {' '.join(str(error).split())[:160]}): kaleido needs a "
            "local Chrome or Chromium (Debian: apt-get install chromium)"
        ) from None


def static_page(page: str, images: dict[str, bytes]) -> str:
    """The page with each figure as an image and no scripts (the PDF runs none)."""

    def swap(match: re.Match[str]) -> str:
        png = images.get(match.group(1))
        if png is None:
            return match.group(0)
        data = base64.b64encode(png).decode()
        return f'<img class="cmlops-static-figure" alt="figure" src="data:image/png;base64,{data}">'

    return _SCRIPT.sub("", _PLOT.sub(swap, page))


def render_pdf(report: Path, target: Path, manifest_bytes: bytes, package_id: str) -> None:
    """Write the PDF/A-3b of ``report`` (HTML) to ``target`` with ``manifest_bytes`` embedded."""
    from weasyprint import HTML, Attachment
    from weasyprint.urls import URLFetcher

    page = report.read_text("utf-8")
    page = static_page(page, figure_images(page))
    footer = f"cmlops audit package {package_id}: archival copy (PDF/A-3b)".replace('"', "'")
    offline = URLFetcher(allowed_protocols={"data"})  # nothing from the network or disk
    attachment = Attachment(
        file_obj=io.BytesIO(manifest_bytes),
        name=EMBEDDED,
        description="manifest.json of the audit package before this PDF was added",
        relationship=RELATIONSHIP,
    )
    # last in <head>: the page's own print CSS (A4 portrait) gives way to the archival layout
    style = f"<style>{PRINT_CSS % footer}</style>"
    page = page.replace("</head>", style + "</head>", 1) if "</head>" in page else style + page
    document = HTML(string=page, url_fetcher=offline).render()
    written = document.write_pdf(
        pdf_variant="pdf/a-3b",
        attachments=[attachment],
        custom_metadata=False,
    )
    _save_conforming(written, target)


def _save_conforming(written: bytes, target: Path) -> None:
    """Save WeasyPrint's PDF with the two things it gets wrong for PDF/A-3b put right
    (found by a validator, see docs/reports.md): the XMP metadata stream unfiltered
    (ISO 19005-3 6.6.2.1), no image asking to be interpolated (6.2.8), and no compressed
    stream ending in CR (6.1.7.1, see ``_no_trailing_cr``)."""
    import pikepdf

    with pikepdf.open(io.BytesIO(written)) as pdf:
        metadata = pdf.Root.Metadata
        metadata.write(metadata.read_bytes())
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image":
                if obj.get("/Interpolate") is not None:
                    obj.Interpolate = False
            if isinstance(obj, pikepdf.Stream):
                _no_trailing_cr(obj)
        # streams kept as they are (qpdf would otherwise inflate and deflate them again)
        pdf.save(target, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)


def _no_trailing_cr(stream: Any) -> None:
    """Store uncompressed a stream whose compressed bytes end with CR: followed by the LF
    before ``endstream`` it reads as a CR LF end-of-line, and a validator then counts one
    byte less than /Length (ISO 19005-3 6.1.7.1). Every zlib level ends with the same
    Adler-32 of the data, so deflating again cannot help."""
    if stream.get("/Filter") != "/FlateDecode" or "/DecodeParms" in stream:
        return
    if not stream.read_raw_bytes().endswith(b"\r"):
        return
    data = stream.read_bytes()
    if not data.endswith(b"\r"):
        stream.write(data)


def pre_pdf_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest without its archival additions: what the PDF must embed."""
    archival = manifest.get("archival") or {}
    name = archival.get("file", PDF)
    stripped = {k: v for k, v in manifest.items() if k != "archival"}
    stripped["files"] = [f for f in manifest.get("files", []) if f.get("path") != name]
    return stripped


def with_archival(root: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Write ``report.pdf`` into ``root`` (a writable folder) embedding ``manifest``;
    return the manifest that lists it (see the module docstring)."""
    from cmlops.reports.manifest import sha256_file

    embedded = dumps(manifest)
    target = root / PDF
    render_pdf(root / "report.html", target, embedded, str(manifest.get("package_id", "")))
    target.chmod(0o444 & target.stat().st_mode)
    entry = {"path": PDF, "sha256": sha256_file(target), "size": target.stat().st_size}
    files = sorted([*manifest["files"], entry], key=lambda f: f["path"])
    archival = {
        "file": PDF,
        "format": "PDF/A-3b",
        "embedded_manifest": EMBEDDED,
        "embedded_manifest_sha256": hashlib.sha256(embedded).hexdigest(),
    }
    return {**manifest, "files": files, "archival": archival}


def archival_problems(root: Path, manifest: dict[str, Any]) -> list[str]:
    """What is wrong with a package's archival PDF ([] when it has none or it is right)."""
    archival = manifest.get("archival")
    if not archival:
        return []
    path = root / str(archival.get("file", PDF))
    if not path.is_file() or path.is_symlink():
        return []  # reported as a removed or modified file
    try:
        embedded, facts = read_pdf(path)
    except PackageError as error:
        return [f"archival PDF: {error}"]
    expected = dumps(pre_pdf_manifest(manifest))
    problems = []
    if embedded != expected:
        problems.append(
            "archival PDF: the manifest it embeds is not this package's manifest before the PDF"
        )
    if hashlib.sha256(embedded).hexdigest() != archival.get("embedded_manifest_sha256"):
        problems.append("archival PDF: the embedded manifest's digest is not the recorded one")
    if (facts["part"], facts["conformance"]) != ("3", "B"):
        problems.append(f"archival PDF: not PDF/A-3b (XMP says {facts})")
    return problems


def read_pdf(path: Path) -> tuple[bytes, dict[str, str]]:
    """The embedded manifest's bytes and the PDF/A identification of an archival PDF."""
    import pikepdf

    try:
        with pikepdf.open(path) as pdf:
            files = pdf.attachments
            if EMBEDDED not in files:
                raise PackageError(f"it embeds no {EMBEDDED}")
            spec = files[EMBEDDED]
            data = spec.get_file().read_bytes()
            meta = pdf.open_metadata()
            facts = {
                "part": str(meta.get("pdfaid:part", "")),
                "conformance": str(meta.get("pdfaid:conformance", "")),
                "relationship": str(spec.obj.get("/AFRelationship", "")),
            }
            return data, facts
    except pikepdf.PdfError as error:
        raise PackageError(f"the PDF cannot be read ({str(error)[:120]})") from None
