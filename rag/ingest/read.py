"""Load files into Documents: decoding (or PDF/DOCX reading), NFC normalization, pages, title, date, language."""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path

from rag.errors import UnreadableDocument
from rag.ingest.pdf import SHORT_LINE, Ocr, read_image, read_pdf
from rag.ingest.word import read_docx
from rag.language import HAN, detect_language
from rag.records import Document

TITLE_CHARS = 90
MAX_PAGES = 2000
IMAGES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}  # read by OCR, one page each
SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", *IMAGES}
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DMY_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_ZH_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_DATE_LINE = re.compile(r"^\s*date\s+\d{4}-\d{2}-\d{2}\s*")
_HAN = f"[{HAN}]"
_HAN_RUN = re.compile(_HAN + "{2,}")
_LONE_HAN_IN_WORD = re.compile(f"(?<=[A-Za-z]){_HAN}(?!{_HAN})|(?<!{_HAN}){_HAN}(?=[A-Za-z])")


def find_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders into the supported files they hold, sorted; keep explicit files as given."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        else:
            found.append(path)
    return found


def load_document(path: Path, max_mb: float = 20.0, max_pages: int = MAX_PAGES) -> Document:
    """Read one file; raise UnreadableDocument with the reason when it is not usable text."""
    limit = int(max_mb * 1024 * 1024)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(limit + 1)  # never more than the limit, however large the file
    except OSError as exc:
        raise UnreadableDocument(f"{path.name}: cannot read ({exc.strerror})") from None
    if len(raw) > limit:
        raise UnreadableDocument(f"{path.name}: larger than the {max_mb:g} MB limit")
    if not raw:
        raise UnreadableDocument(f"{path.name}: empty file")
    text, pages, ocr = read_text(raw, path, max_mb, max_pages)
    if not text.strip():
        raise UnreadableDocument(f"{path.name}: no text")
    return Document(
        source=path.name,
        path=str(path),
        text=text,
        title=find_title(text),
        date=find_date(text),
        language=detect_language(text[:4000]),
        fingerprint=hashlib.sha256(raw).hexdigest(),
        pages=pages,
        ocr=ocr,
    )


def read_text(raw: bytes, path: Path, max_mb: float, max_pages: int) -> tuple[str, tuple[int, ...], Ocr]:
    """The NFC text of a file, the offset where each page starts (every PDF page, an image's one page, DOCX pages
    when the file marks page breaks, none for text formats) and the confidence of each page read by OCR. A PDF
    is known by its suffix or its header."""
    suffix = path.suffix.lower()
    if suffix == ".pdf" or raw.startswith(b"%PDF-"):
        texts, ocr = read_pdf(raw, path.name, max_pages)
        return (*join_pages(texts), ocr)
    if suffix in IMAGES:
        text, confidence = read_image(raw, path.name)
        return (*join_pages([text]), ((1, confidence),))
    if suffix == ".docx":
        text, pages = join_pages(read_docx(raw, path.name, max_mb))
        return text, pages if len(pages) > 1 else (), ()
    text = decode(raw, path.name)
    if suffix in {".html", ".htm"}:
        text = html_to_text(text)
    return unwrap(unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")), (), ()


WRAPPED_WIDTH = 100  # characters; a text whose usual line is no longer than this was wrapped by hand
_LINE_END = tuple(".!?:;…。！？：；=|")  # a sentence's end, a setting heading ("RateLimitBurst="), a table row
_BLOCK = re.compile(
    r"\s*(?:[-*+>#]\s|\d+[.)]\s|\||```)"
)  # a line that opens a list item, quote, heading, table or code


def unwrap(text: str) -> str:
    """A hand-wrapped text (a man page, a licence, a README) with each paragraph's lines joined, as PDF lines are:
    a line runs on into the next unless it ends a sentence, is short against the text's usual line, or a blank
    line, a list item, a table row or a code block follows (or it is in a code block). Without it every line would count as a sentence, and a wrapped line as a heading. A text written
    a paragraph to a line is returned as it is."""
    lines = text.split("\n")
    lengths = sorted(len(line.strip()) for line in lines if line.strip())
    if len(lengths) < 10 or (usual := lengths[len(lengths) * 3 // 4]) > WRAPPED_WIDTH:
        return text
    joined, running, code = [], False, False
    for line, following in zip(lines, [*lines[1:], ""], strict=True):
        body = line.strip() if running else line.rstrip()
        code ^= body.lstrip().startswith("```")
        running = bool(
            body
            and following.strip()
            and not (code or body.endswith(_LINE_END) or _BLOCK.match(following))
            and len(body.strip()) >= SHORT_LINE * usual
        )
        cjk = running and bool(re.match(f"[{HAN}]", body[-1]) or re.match(f"[{HAN}]", following.strip()[0]))
        joined.append(body + ("" if cjk else " " if running else "\n"))
    return "".join(joined)[:-1]  # the last line is given no line break of its own


def join_pages(pages: list[str]) -> tuple[str, tuple[int, ...]]:
    """One NFC text from page texts, and the offset where each page starts in it."""
    pages = [unicodedata.normalize("NFC", page) for page in pages]
    return "".join(pages), tuple(itertools.accumulate((len(p) for p in pages[:-1]), initial=0))


def decode(raw: bytes, name: str) -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 (with or without BOM), GB18030 when the result reads as
    Chinese, else cp1252; refuse binary data."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates: tuple[str, ...] = ("utf-16",)
    elif b"\x00" in raw[:8192]:
        candidates = _utf16_without_bom(raw[:8192])
    else:
        candidates = ("utf-8-sig", "gb18030", "cp1252")
    for encoding in candidates:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        # Latin-1 bytes often form valid GB18030 pairs ("Müller" -> "M黮ler"): accept Chinese only when it is.
        if _printable_share(text) > 0.95 and (encoding != "gb18030" or _reads_as_chinese(text)):
            return text
    if b"\x00" in raw[:8192]:
        raise UnreadableDocument(f"{name}: binary file, not text")
    raise UnreadableDocument(f"{name}: unknown text encoding (save it as UTF-8)")


def _utf16_without_bom(head: bytes) -> tuple[str, ...]:
    """UTF-16 of mostly Latin text has a NUL in every other byte: the odd ones for LE, the even ones for BE."""
    half = max(1, len(head) // 2)
    even, odd = head[0::2].count(0) / half, head[1::2].count(0) / half
    if odd > 0.3 and even < 0.05:
        return ("utf-16-le",)
    if even > 0.3 and odd < 0.05:
        return ("utf-16-be",)
    return ()


def _reads_as_chinese(text: str) -> bool:
    """More ideographs stand in runs than alone inside Latin words, as Latin-1 read as GB18030 leaves them
    ("Müller" -> "M黮ler")."""
    sample = text[:20000]
    in_runs = sum(len(run) for run in _HAN_RUN.findall(sample))
    return in_runs > len(_LONE_HAN_IN_WORD.findall(sample))


def _printable_share(text: str) -> float:
    sample = text[:20000]
    good = sum(c.isprintable() or c in "\n\r\t" for c in sample)
    return good / max(1, len(sample))


def find_title(text: str) -> str:
    """The first non-empty line without a leading 'date yyyy-mm-dd' marker, its spacing collapsed ("OS-RELEASE(5)\t\t
    os-release"), cut to its first sentence and to TITLE_CHARS."""
    for line in text.splitlines():
        line = " ".join(_DATE_LINE.sub("", line).split())
        if line:
            first = re.split(r"(?<=[.!?。！？])\s", line, maxsplit=1)[0]
            return first if len(first) <= TITLE_CHARS else first[:TITLE_CHARS].rsplit(" ", 1)[0] + "…"
    return ""


def find_date(text: str) -> str | None:
    """The first date written in the opening lines, as yyyy-mm-dd."""
    head = "\n".join(text.splitlines()[:4])
    for pattern, order in ((_ISO_DATE, (0, 1, 2)), (_ZH_DATE, (0, 1, 2)), (_DMY_DATE, (2, 1, 0))):
        match = pattern.search(head)
        if match:
            y, m, d = (int(match.group(i + 1)) for i in order)
            if 1 <= m <= 12 and 1 <= d <= 31:
                return f"{y:04d}-{m:02d}-{d:02d}"
    return None


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._skip += tag in ("script", "style")
        if tag in ("p", "br", "div", "li", "h1", "h2", "h3", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML page, one block a line."""
    parser = _TextExtractor()
    parser.feed(html)
    return re.sub(r"\n\s*\n+", "\n\n", "".join(parser.parts)).strip()
