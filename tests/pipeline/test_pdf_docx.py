"""PDF and DOCX: text in reading order with pages, page numbers through chunks to citations, one-line reasons
for files that cannot be read."""

from __future__ import annotations

import json
import re
import sys
import zipfile
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from rag.answer.ask import ask
from rag.errors import UnreadableDocument
from rag.ingest import pdf as pdf_reader
from rag.ingest.build import index_files
from rag.ingest.chunk import chunk_document
from rag.ingest.pdf_worker import PdfWorker
from rag.ingest.read import load_document
from rag.pipeline import load_pipeline
from rag.store import storage
from tests.documents import DOCX, EN, PDF_SAMPLES, VI, ZH, Sample, write_docx, write_pdf, write_samples
from tests.fakes import EchoGenerator, HashEmbedder


@pytest.fixture(scope="module")
def paged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three PDFs (English, Vietnamese, Chinese) and the DOCX, in one folder."""
    folder = tmp_path_factory.mktemp("paged")
    write_samples(folder)
    return folder


def flat(text: str) -> str:
    """Text with line breaks and runs of spaces made single spaces, none next to Chinese, for comparing paragraphs."""
    return re.sub(r" ?([\u2e80-\u9fff\uff00-\uffef]) ?", r"\1", " ".join(text.split()))


def page_text(doc, number: int) -> str:
    ends = [*doc.pages[1:], len(doc.text)]
    return doc.text[doc.pages[number - 1] : ends[number - 1]]


@pytest.mark.parametrize("sample", [*PDF_SAMPLES, DOCX], ids=lambda s: s.name)
def test_every_paragraph_comes_out_on_its_page_in_reading_order(paged: Path, sample: Sample) -> None:
    doc = load_document(paged / sample.name)
    assert doc.language == sample.language and len(doc.pages) == len(sample.pages)
    for number, paragraphs in enumerate(sample.pages, 1):
        text, cursor = flat(page_text(doc, number)), 0
        for paragraph in paragraphs:  # diacritics and CJK intact, two columns read column by column
            cursor = text.index(flat(paragraph), cursor) + len(flat(paragraph))
        assert page_text(doc, number).startswith(paragraphs[0])  # the page offset is exact


@pytest.mark.parametrize("sample", PDF_SAMPLES, ids=lambda s: s.name)
def test_running_headers_page_numbers_and_contents_are_dropped_and_hyphens_joined(paged: Path, sample: Sample) -> None:
    doc = load_document(paged / sample.name)
    assert sample.header not in doc.text
    assert not re.search(re.escape(sample.footer).replace(r"\{n\}", r"\d"), doc.text)
    assert doc.title == sample.pages[0][0]  # the first heading, not the running header
    if sample.hyphenated[0]:
        assert "".join(sample.hyphenated) in doc.text and f"{sample.hyphenated[0]}-" not in doc.text
    assert ". . ." not in doc.text  # a table of contents' entries are left out (ZH has one)


def test_chunks_and_citations_point_at_the_page_of_the_cited_text(paged: Path) -> None:
    doc = load_document(paged / EN.name)
    chunks = chunk_document(doc, 40, HashEmbedder().count_tokens)
    assert chunks[0].page == 1 and chunks[-1].page_at(chunks[-1].end - 1) == 3
    for chunk in chunks:
        for start, _ in chunk.sentences:
            page = chunk.page_at(start)
            assert page is not None and doc.pages[page - 1] <= start
            assert page == len(doc.pages) or start < doc.pages[page]


def test_answers_cite_the_page_that_holds_the_fact(paged: Path, settings) -> None:
    embedder = HashEmbedder()
    report = index_files([paged], settings, embedder)
    assert sorted(report.added) == sorted(s.name for s in [*PDF_SAMPLES, DOCX]) and not report.failed
    pipeline = load_pipeline(settings, embedder, EchoGenerator())
    for sample in [*PDF_SAMPLES, DOCX]:
        for fact in sample.facts:
            cited = ask(fact.question, pipeline).answer().to_dict()["citations"][0]
            assert (cited["source"], cited["page"]) == (sample.name, fact.page), fact.question
            assert flat(fact.sentence) in flat(cited["text"])


def test_text_files_cite_no_page(fake_pipeline) -> None:
    cited = ask("Where is the kiwi bird native to?", fake_pipeline).answer().to_dict()["citations"][0]
    assert cited["source"] == "en.txt" and cited["page"] is None


def test_an_index_written_before_pages_still_loads(paged: Path, settings) -> None:
    index_files([paged / EN.name], settings, HashEmbedder())
    generation = settings.store.index_dir / (settings.store.index_dir / "CURRENT").read_text()
    records = [json.loads(line) for line in (generation / "chunks.jsonl").read_text().splitlines()]
    old = [{k: v for k, v in r.items() if k not in ("page", "page_breaks")} for r in records]
    (generation / "chunks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in old))
    chunks = storage.load(settings.store.index_dir).chunks
    assert len(chunks) == len(records) and {c.page for c in chunks} == {None}


def test_docx_pages_follow_words_last_layout_over_hard_breaks(tmp_path: Path) -> None:
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = Document()
    for text in ("First page.", "Still the first page by a hard break's count.", "Second page by Word's layout."):
        document.add_paragraph(text)
    document.paragraphs[0].runs[0]._r.append(OxmlElement("w:br", {qn("w:type"): "page"}))
    document.paragraphs[2].runs[0]._r.insert(0, OxmlElement("w:lastRenderedPageBreak"))
    document.save(str(tmp_path / "word.docx"))
    doc = load_document(tmp_path / "word.docx")
    assert doc.pages == (0, doc.text.index("Second page")) and doc.text.startswith("First page.\nStill")


def test_docx_without_page_breaks_has_no_page_numbers(tmp_path: Path) -> None:
    unpaged = replace(DOCX, name="one.docx", pages=(sum(DOCX.pages, ()),))
    doc = load_document(write_docx(unpaged, tmp_path))
    assert doc.pages == () and chunk_document(doc, 40, HashEmbedder().count_tokens)[0].page is None


def test_docx_tables_read_row_by_row(tmp_path: Path) -> None:
    from docx import Document

    document = Document()
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate([("Tỉnh", "Sản lượng"), ("An Giang", "4,1 triệu tấn")]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    document.save(str(tmp_path / "table.docx"))
    assert load_document(tmp_path / "table.docx").text == "Tỉnh | Sản lượng\nAn Giang | 4,1 triệu tấn\n"


def test_docx_content_controls_are_read_in_place(tmp_path: Path) -> None:
    from docx import Document
    from docx.oxml import parse_xml

    document = Document()
    document.add_paragraph("Mục lục")
    sdt = parse_xml(
        '<w:sdt xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:sdtContent>'
        "<w:p><w:r><w:t>1. Tổng quan</w:t></w:r></w:p></w:sdtContent></w:sdt>"
    )
    document.paragraphs[0]._p.addnext(sdt)
    document.add_paragraph("Nội dung chính.")
    document.save(str(tmp_path / "toc.docx"))
    assert load_document(tmp_path / "toc.docx").text == "Mục lục\n1. Tổng quan\nNội dung chính.\n"


def test_docx_text_boxes_are_read_once(tmp_path: Path) -> None:
    from docx import Document
    from docx.oxml import parse_xml

    box = "<w:txbxContent><w:p><w:r><w:t>Nội dung hộp văn bản.</w:t></w:r></w:p></w:txbxContent>"
    xml = (
        '<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f'<mc:Choice Requires="wps"><w:drawing>{box}</w:drawing></mc:Choice>'
        f"<mc:Fallback><w:pict>{box}</w:pict></mc:Fallback></mc:AlternateContent>"
    )
    document = Document()
    document.add_paragraph("Trước hộp. ").add_run()._r.append(parse_xml(xml))
    document.save(str(tmp_path / "box.docx"))
    assert load_document(tmp_path / "box.docx").text == "Trước hộp. Nội dung hộp văn bản.\n"


# --- files that cannot be read: one line each, and the batch goes on ---


def scanned_pdf(folder: Path, text: str = "A scanned page: pixels, no text layer") -> Path:
    """A page that is one picture (read by OCR; a blank one holds no text)."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    image = Image.new("L", (600, 200), 255)
    ImageDraw.Draw(image).text((20, 80), text, fill=0)
    pdf = FPDF()
    pdf.add_page()
    pdf.image(image, x=10, y=10, w=180)
    pdf.output(str(folder / "scan.pdf"))
    return folder / "scan.pdf"


def blank_pdf(folder: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.add_page()
    pdf.output(str(folder / "blank.pdf"))
    return folder / "blank.pdf"


def bomb_pdf(folder: Path, megabytes: int = 1024) -> Path:
    """A one-page PDF whose content stream inflates from about 1 MB to `megabytes` of spaces."""
    spaces, packer = b" " * (1 << 20), zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(spaces) + packer.flush(zlib.Z_FULL_FLUSH)
    repeat = packer.compress(spaces) + packer.flush(zlib.Z_FULL_FLUSH)  # the same bytes for each further MB
    check = 1
    for _ in range(megabytes):
        check = zlib.adler32(spaces, check)
    stream = b"\x78\xda" + block + repeat * (megabytes - 1) + packer.flush() + check.to_bytes(4, "big")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    body, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, content in enumerate(objects, 1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    body += b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    (folder / "bomb.pdf").write_bytes(bytes(body))
    return folder / "bomb.pdf"


def docx_variants(folder: Path, good: Path) -> dict[str, Path]:
    """Damaged DOCX files made from a good one."""
    raw = good.read_bytes()
    made = {
        "not-zip.docx": b"This is plain text saved with a .docx name.",
        "truncated.docx": raw[: len(raw) // 2],
        "encrypted.docx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512),  # what Word writes for a password
    }
    for name, data in made.items():
        (folder / name).write_bytes(data)
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(folder / "no-body.docx", "w") as target:
        for item in source.infolist():
            if item.filename != "word/document.xml":
                target.writestr(item, source.read(item))
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(folder / "sheet.docx", "w") as target:
        for item in source.infolist():  # the main part declared a spreadsheet, as in a renamed .xlsx
            data = source.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"wordprocessingml.document.main", b"spreadsheetml.sheet.main")
            target.writestr(item, data)
    with (
        zipfile.ZipFile(folder / "bomb.docx", "w", zipfile.ZIP_DEFLATED) as target,
        target.open("word/document.xml", "w") as member,
    ):
        for _ in range(11):  # 11 MB of zeros, over 10 x a 1 MB file limit, in about 11 KB
            member.write(bytes(1 << 20))
    return {name: folder / name for name in [*made, "no-body.docx", "sheet.docx", "bomb.docx"]}


def reason(path: Path, **limits) -> str:
    with pytest.raises(UnreadableDocument) as problem:
        load_document(path, **limits)
    return str(problem.value)


def test_pdfs_that_cannot_be_read_give_one_line_reasons(paged: Path, tmp_path: Path) -> None:
    encrypted = write_pdf(replace(EN, name="locked.pdf"), tmp_path, password="secret")
    good = (paged / VI.name).read_bytes()
    (tmp_path / "truncated.pdf").write_bytes(good[: len(good) // 3])
    (tmp_path / "notes.pdf").write_text("Plain notes, saved with a .pdf name.\n")
    reasons = {
        reason(encrypted),
        reason(tmp_path / "truncated.pdf"),
        reason(tmp_path / "notes.pdf"),
        reason(scanned_pdf(tmp_path, text="")),
        reason(blank_pdf(tmp_path)),
        reason(paged / ZH.name, max_pages=2),
        reason(paged / ZH.name, max_mb=0.01),
    }
    assert reasons == {
        "locked.pdf: encrypted PDF (password required)",
        "truncated.pdf: damaged or truncated PDF",
        "notes.pdf: not a PDF (no %PDF header)",
        "scan.pdf: no text",
        "blank.pdf: no text",
        f"{ZH.name}: 3 pages, more than the 2-page limit",
        f"{ZH.name}: larger than the 0.01 MB limit",
    }


def test_a_decompression_bomb_or_a_hang_stops_only_its_reader(paged: Path, tmp_path: Path, monkeypatch) -> None:
    assert reason(bomb_pdf(tmp_path)) == "bomb.pdf: damaged or hostile PDF (reading it crashed or needed over 1024 MB)"
    assert load_document(paged / VI.name).pages  # a new reader process takes the next file
    hanging = PdfWorker(0, [sys.executable, "-c", "import time; time.sleep(60)"])
    monkeypatch.setattr(pdf_reader, "_worker", hanging)
    monkeypatch.setattr(pdf_reader, "PDF_SECONDS", 0.5)  # forces the time limit without waiting two minutes
    assert reason(paged / VI.name) == f"{VI.name}: PDF took over 0.5 s to read (damaged or hostile)"


def _pages_of(path: Path) -> tuple[int, ...]:
    return load_document(path).pages


def test_a_forked_process_gets_its_own_reader(paged: Path) -> None:
    import multiprocessing

    here = load_document(paged / EN.name).pages  # this process's reader child is running now
    with multiprocessing.get_context("fork").Pool(2) as pool:
        forked = pool.map(_pages_of, [paged / EN.name, paged / ZH.name])
    assert forked == [here, load_document(paged / ZH.name).pages]


def test_docx_files_that_cannot_be_read_give_one_line_reasons(paged: Path, tmp_path: Path) -> None:
    files = docx_variants(tmp_path, paged / DOCX.name)
    empty = tmp_path / "empty.docx"
    __import__("docx").Document().save(str(empty))
    assert {name: reason(path, max_mb=1) for name, path in files.items()} | {"empty.docx": reason(empty)} == {
        "not-zip.docx": "not-zip.docx: damaged DOCX (not a zip archive, or truncated)",
        "truncated.docx": "truncated.docx: damaged DOCX (not a zip archive, or truncated)",
        "encrypted.docx": "encrypted.docx: encrypted DOCX or old Word format (save it as .docx without a password)",
        "no-body.docx": "no-body.docx: damaged DOCX (missing word/document.xml)",
        "sheet.docx": "sheet.docx: not a Word document (content type "
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml)",
        "bomb.docx": "bomb.docx: DOCX unpacks to more than 10 MB (a zip bomb?)",
        "empty.docx": "empty.docx: no text",
    }


def test_bad_pdf_and_docx_files_never_stop_a_batch(paged: Path, tmp_path: Path, settings) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / VI.name).write_bytes((paged / VI.name).read_bytes())
    write_pdf(replace(EN, name="locked.pdf"), folder, password="secret")
    scanned_pdf(folder)
    (folder / "notes.pdf").write_text("Plain notes.\n")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    report = index_files([folder], settings, HashEmbedder())
    assert report.added == [VI.name, "scan.pdf"] and len(report.failed) == 3  # the scan is read by OCR
    assert all(problem.count("\n") == 0 for problem in report.failed)


def test_upload_takes_pdf_and_docx_and_the_source_card_shows_the_page(fake_pipeline, paged: Path) -> None:
    from rag.web.chat import ChatState, respond
    from rag.web.service import Service
    from rag.web.uploads import upload

    ui = Service(fake_pipeline)
    report = upload(ui, [str(paged / EN.name), str(paged / DOCX.name)])
    assert f"`{EN.name}`" in report and f"`{DOCX.name}`" in report and "Skipped" not in report
    _, sources, _, _ = list(respond(ui, EN.facts[1].question, ChatState()))[-1]
    assert f'data-source="{EN.name}"' in sources and f"{EN.name} p. 3" in sources
