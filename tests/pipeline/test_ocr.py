"""OCR with the real Tesseract on scans the tests draw: text recovered in three languages, page citations from a
scanned page, per-page confidence and its warning, one-line reasons for images that cannot be read."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from rag.answer.ask import ask
from rag.errors import UnreadableDocument
from rag.ingest import ocr
from rag.ingest import pdf as pdf_reader
from rag.ingest.build import index_files
from rag.ingest.read import load_document
from rag.pipeline import load_pipeline
from rag.store import storage
from tests.fakes import EchoGenerator, HashEmbedder
from tests.scans import LINES, SCANS, Scan, character_error_rate, render, write_pdf, write_scan


@pytest.mark.parametrize("scan", SCANS, ids=lambda s: s.name)
def test_scans_and_images_are_read_with_their_language_and_one_page(scan: Scan, tmp_path: Path) -> None:
    doc = load_document(write_scan(scan, tmp_path))
    assert character_error_rate(scan.text, doc.text, scan.language) < 0.05  # straight, turned and noisy alike
    assert doc.language == scan.language and doc.pages == (0,)
    [(page, confidence)] = doc.ocr
    assert page == 1 and 60 < confidence <= 100


def test_a_question_answered_from_a_scanned_page_cites_that_page(tmp_path: Path, settings) -> None:
    typed = "Harbour records\n\nThe harbour office keeps the tide tables and the ship registers of the island."
    write_pdf(tmp_path / "harbour.pdf", [typed, render(LINES["en"], "en", angle=1.0)])
    report = index_files([tmp_path / "harbour.pdf"], settings, HashEmbedder())
    assert report.added == ["harbour.pdf"] and report.warnings == []
    pipeline = load_pipeline(settings, HashEmbedder(), EchoGenerator())
    answer = ask("Who built the Varnholt Lighthouse, and when?", pipeline).answer()
    assert "Tamsin Oduya" in answer.text
    [citation] = answer.citations
    assert (citation.source, citation.page) == ("harbour.pdf", 2)
    record = storage.load(settings.store.index_dir).files["harbour.pdf"]
    assert record.pages == 2 and [page for page, _ in record.ocr] == [2]  # page 1 has a text layer


def test_a_page_under_the_confidence_setting_is_indexed_with_a_warning(tmp_path: Path, settings) -> None:
    path = write_scan(Scan("vi-note.png", "vi"), tmp_path)
    strict = settings.with_(ocr_min_confidence=99.0)
    report = index_files([path], strict, HashEmbedder())
    assert report.added == ["vi-note.png"]
    [warning] = report.warnings
    assert warning.startswith("vi-note.png p. 1: OCR confidence ") and "is under 99: check its text" in warning


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height pixels and holds almost none: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


def reason(path: Path) -> str:
    with pytest.raises(UnreadableDocument) as problem:
        load_document(path)
    return str(problem.value)


def test_images_that_cannot_be_read_give_one_line_reasons_and_the_batch_goes_on(
    tmp_path: Path, settings, monkeypatch
) -> None:
    (tmp_path / "notes.png").write_text("Plain notes saved with a .png name.\n")
    (tmp_path / "bomb.png").write_bytes(png_header_only(40_000, 40_000))
    (tmp_path / "cut.jpg").write_bytes(write_scan(Scan("whole.jpg", "en"), tmp_path).read_bytes()[:600])
    (tmp_path / "whole.jpg").unlink()
    write_scan(Scan("good.png", "en"), tmp_path)
    assert reason(tmp_path / "notes.png") == "notes.png: not an image Pillow can read"
    assert reason(tmp_path / "bomb.png").startswith("bomb.png: over Pillow's ")
    assert reason(tmp_path / "cut.jpg").startswith("cut.jpg: damaged image")
    report = index_files([tmp_path], settings, HashEmbedder())
    assert report.added == ["good.png"] and len(report.failed) == 3
    monkeypatch.setattr(pdf_reader, "OCR_SECONDS", 0.01)
    assert reason(tmp_path / "good.png") == "good.png: OCR took over 0.01 s"
    scanned = write_scan(Scan("scan.pdf", "zh"), tmp_path)
    assert reason(scanned) == "scan.pdf p. 1: OCR took over 0.01 s"


def test_without_tesseract_the_message_names_the_package(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(ocr, "TESSERACT", "tesseract-not-installed")
    expected = "reading scans and images needs Tesseract (apt-get install tesseract-ocr tesseract-ocr-eng "
    assert reason(write_scan(Scan("a.png", "en"), tmp_path)).startswith(f"a.png: {expected}")
    assert reason(write_scan(Scan("b.pdf", "vi"), tmp_path)).startswith(f"b.pdf: {expected}")
