"""Read a PDF's text page by page, scanned pages and image files with OCR (in a child process, see pdf_worker.py),
and clean the text up for retrieval."""

from __future__ import annotations

import importlib.util
import math
import re
import shutil
from collections import Counter
from typing import Any

from rag.errors import UnreadableDocument
from rag.ingest import ocr
from rag.ingest.pdf_worker import PdfWorker, WorkerFailed

PDF_MEMORY_MB = 1024  # address space allowed to the process that parses a PDF
PDF_SECONDS = 120  # time allowed to it
OCR_SECONDS = 60.0  # time allowed to Tesseract for one page
OCR_PACKAGES = "tesseract-ocr tesseract-ocr-eng tesseract-ocr-vie tesseract-ocr-chi-sim"
EDGE_LINES = 2  # lines at the top and at the bottom of a page that may be a running header or footer
SHORT_LINE = 0.6  # a line shorter than this share of the page's usual line ends its paragraph
_ERRORS = {
    "password": "encrypted PDF (password required)",
    "security": "encrypted PDF (unsupported encryption)",
    "format": "damaged or truncated PDF",
}
Ocr = tuple[tuple[int, float], ...]  # (1-based page, mean word confidence 0-100) of each page read by OCR
_SENTENCE_END = tuple(".!?:;…。！？：；")
_HYPHENS = "-\u00ad\u2010"
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
_SOFT_HYPHEN_END = re.compile(r"[\u00ad\x02]$")
# A table of contents' entry: a heading, a leader of dots and a page number ("3.1 网络 . . . . . 2", "Intro ..... iv").
# Its dots would each be read as a sentence's end, and its headings come again on the pages they name.
_CONTENTS_ENTRY = re.compile(r"(?:[.…·]\s*){4,}(?:\d+|[ivxlcdm]+)$", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u00ad\ufeff\ufffe]")  # \ufffe: PDFium's mark of a joined hyphen
_worker = PdfWorker(PDF_MEMORY_MB)  # its child process starts with the first PDF and is reused


def read_pdf(raw: bytes, name: str, max_pages: int) -> tuple[list[str], Ocr]:
    """The text of each page (a page without a text layer but with pictures read by OCR): lines reflowed into
    paragraphs, hyphenated words joined, running headers and footers dropped; and the OCR confidence of such pages."""
    if b"%PDF-" not in raw[:1024]:
        raise UnreadableDocument(f"{name}: not a PDF (no %PDF header)")
    result = _request(name, {"kind": "pdf", "max_pages": max_pages}, raw, PDF_SECONDS)
    if "error" in result:
        if result["error"] == "pages":
            raise UnreadableDocument(f"{name}: {result['count']:,} pages, more than the {max_pages:,}-page limit")
        raise UnreadableDocument(f"{name}: {_ERRORS[result['error']]}")
    texts, confidences = list(result["pages"]), []
    for number in result["scans"]:
        texts[number], confidence = _ocr(name, {"kind": "pdf-page", "page": number}, raw)
        confidences.append((number + 1, confidence))
    return reflow(drop_running_lines([page_lines(text) for text in texts])), tuple(confidences)


def read_image(raw: bytes, name: str) -> tuple[str, float]:
    """An image file's text by OCR, its lines reflowed into paragraphs, and the OCR confidence."""
    text, confidence = _ocr(name, {"kind": "image"}, raw)
    return reflow([page_lines(text)])[0], confidence


def _ocr(name: str, header: dict[str, Any], raw: bytes) -> tuple[str, float]:
    if shutil.which(ocr.TESSERACT) is None:
        raise UnreadableDocument(f"{name}: reading scans and images needs Tesseract (apt-get install {OCR_PACKAGES})")
    result = _request(name, {**header, "seconds": OCR_SECONDS}, raw, OCR_SECONDS + PDF_SECONDS)
    if "error" in result:
        where = f" p. {header['page'] + 1}" if "page" in header else ""
        raise UnreadableDocument(f"{name}{where}: {result['detail']}")
    return result["text"], result["confidence"]


def _request(name: str, header: dict[str, Any], raw: bytes, seconds: float) -> dict[str, Any]:
    """The worker's reply; its crash, memory blow-up or hang becomes one reason."""
    if importlib.util.find_spec("pypdfium2") is None:
        raise UnreadableDocument(f"{name}: reading PDFs and scans needs pypdfium2 (pip install pypdfium2)")
    try:
        return _worker.request(header, raw, seconds)
    except WorkerFailed as failure:
        kind = "image" if header["kind"] == "image" else "PDF"
        if str(failure) == "time":
            raise UnreadableDocument(f"{name}: {kind} took over {seconds:g} s to read (damaged or hostile)") from None
        raise UnreadableDocument(
            f"{name}: damaged or hostile {kind} (reading it crashed or needed over {PDF_MEMORY_MB} MB)"
        ) from None


def page_lines(text: str) -> list[str]:
    """Non-empty lines, whitespace collapsed, invisible characters dropped, entries of a table of contents left
    out; a soft hyphen ending a line shows."""
    cleaned = (_SOFT_HYPHEN_END.sub("-", line.rstrip()) for line in text.splitlines())
    lines = (" ".join(_INVISIBLE.sub("", line).split()) for line in cleaned)
    return [line for line in lines if line and not _CONTENTS_ENTRY.search(line)]


def _key(line: str) -> str:
    """A line with its numbers, in digits or roman numerals ("Page 2", "Manual iv"), made alike."""
    return re.sub(r"\d+|\b[ivxlc]+\b", "#", line.casefold())


def drop_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Drop lines that repeat within the first or last EDGE_LINES of most pages, numbers aside ("Page 2 of 9",
    "Manual iv")."""
    if len(pages) < 2:
        return pages

    def edges(lines: list[str]) -> set[int]:
        return {i for i in range(len(lines)) if i < EDGE_LINES or i >= len(lines) - EDGE_LINES}

    counts = Counter(key for lines in pages for key in {_key(lines[i]) for i in edges(lines)})
    running = {key for key, n in counts.items() if n >= max(2, math.ceil(0.6 * len(pages)))}
    return [
        [line for i, line in enumerate(lines) if i not in edges(lines) or _key(line) not in running] for lines in pages
    ]


def reflow(pages: list[list[str]]) -> list[str]:
    """Each page's lines joined into running text; a page's text ends with the separator to the next page, so
    that a sentence running over a page break stays whole."""
    flat = [(number, line) for number, lines in enumerate(pages) for line in lines]
    usual = [sorted(map(len, lines))[len(lines) * 3 // 4] if lines else 0 for lines in pages]
    texts: list[list[str]] = [[] for _ in pages]
    for i, (number, line) in enumerate(flat):
        following = flat[i + 1][1] if i + 1 < len(flat) else ""
        if not following:
            texts[number].append(line)
        elif line[-1] in _HYPHENS and line[-2:-1].isalpha() and following[0].islower():
            texts[number].append(line[:-1])  # "irri-" + "gation"
        elif line.endswith(_SENTENCE_END) or len(line) < SHORT_LINE * usual[number]:
            texts[number].append(line + "\n")
        else:
            texts[number].append(line + ("" if _CJK.match(line[-1]) or _CJK.match(following[0]) else " "))
    return ["".join(parts) for parts in texts]
