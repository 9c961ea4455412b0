"""Section 8: PDF text extraction, pypdfium2 against pypdf, on multilingual PDFs with known text.

`python -m bench.pdf_readers` prints the section alone. Needs the test extras (fpdf2 builds the PDFs, pypdf is
the library compared) and fonts-dejavu-core, fonts-noto-cjk.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bench.report import Section
from bench.timing import measure
from rag.ingest.pdf import PDF_MEMORY_MB
from rag.ingest.pdf_worker import PdfWorker
from rag.ingest.read import load_document
from tests.documents import PDF_SAMPLES, Sample, write_pdf

REPEAT = 20
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CJK = "\u2e80-\u9fff\uff00-\uffef"


def pypdfium2_pages(path: Path) -> list[str]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    pages = [document[i].get_textpage().get_text_range() for i in range(len(document))]
    document.close()
    return pages


def pypdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(path).pages]


def flat(text: str) -> str:
    """The same light clean-up for both libraries: hyphenated line breaks joined, whitespace collapsed, no
    spaces next to Chinese. Control characters are kept: they count against a library."""
    text = re.sub(r"(?<=[a-z])[-\ufffe]\s*(?=[a-z])", "", text.replace("\r", ""))
    return re.sub(f" ?([{_CJK}]) ?", r"\1", " ".join(text.split()))


def score(sample: Sample, pages: list[str]) -> tuple[int, int, int]:
    """(paragraphs found in reading order on their page, facts found on their page, control characters)."""
    in_order = 0
    for number, paragraphs in enumerate(sample.pages):
        text, cursor = flat(pages[number]) if number < len(pages) else "", 0
        for paragraph in paragraphs:
            found = text.find(flat(paragraph), cursor)
            if found >= 0:
                in_order, cursor = in_order + 1, found + len(flat(paragraph))
    facts = sum(flat(f.sentence) in flat(pages[f.page - 1]) for f in sample.facts if f.page <= len(pages))
    return in_order, facts, sum(len(_CONTROL.findall(p)) for p in pages)


def _first_read(raw: bytes) -> None:
    worker = PdfWorker(PDF_MEMORY_MB)
    worker.extract(raw, 100, 60)
    worker.close()


def pdf_section(repeat: int = REPEAT) -> Section:
    """Correctness and speed of both libraries on the sample PDFs, and the product's whole PDF path."""
    readers: dict[str, Callable[[Path], list[str]]] = {"pypdfium2": pypdfium2_pages, "pypdf": pypdf_pages}
    rows: list[tuple[object, ...]] = []
    with tempfile.TemporaryDirectory() as folder:
        paths = {sample.name: write_pdf(sample, Path(folder)) for sample in PDF_SAMPLES}
        for sample in PDF_SAMPLES:
            path = paths[sample.name]
            paragraphs = sum(len(p) for p in sample.pages)
            for name, read in readers.items():
                in_order, facts, control = score(sample, read(path))
                ms = measure(partial(read, path), repeat).ms / len(sample.pages)
                rows.append(
                    (sample.name, name, f"{in_order}/{paragraphs}", f"{facts}/{len(sample.facts)}", control, ms)
                )
            whole = measure(partial(load_document, path), max(3, repeat // 4)).ms / len(sample.pages)
            rows.append((sample.name, "product: load_document", "", "", "", whole))
        raw = paths[PDF_SAMPLES[0].name].read_bytes()
        cold = measure(lambda: _first_read(raw), max(3, repeat // 4)).ms
    s = Section("8. PDF text extraction: pypdfium2 against pypdf")
    s.text(
        "Three A5 PDFs made by fpdf2 with DejaVu Sans and Noto Sans CJK SC (tests/documents.py): English with a "
        "two-column page and a word hyphenated over a line break, Vietnamese with diacritics, Chinese; each with a "
        "running header and a page-number footer. A paragraph counts when its text, after the same light clean-up "
        "for both libraries (hyphenated line breaks joined, whitespace collapsed), appears on its page after the "
        "previous one. Time is the median per page over repeated runs of opening the file and extracting every "
        "page. The product row is `load_document` end to end: PDFium in a child process under a memory cap, "
        "header/footer removal and reflow included; the child process is started once and reused, and starting "
        f"it costs {cold:.0f} ms (median, a new child reading the first file).",
    )
    s.table(["file", "reader", "paragraphs in order", "facts on their page", "control chars", "ms / page"], rows)
    return s


if __name__ == "__main__":
    print(pdf_section().markdown())
