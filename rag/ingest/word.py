"""Read the body text of a DOCX file (python-docx), split where its pages break."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

from rag.errors import UnreadableDocument

DOCX_UNZIPPED_RATIO = 10  # a DOCX may unpack to this many times the file size limit
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"  # a second copy of a text box


def read_docx(raw: bytes, name: str, max_mb: float) -> list[str]:
    """The text of each page: paragraphs and table rows, one a line. Pages are split where Word last laid them
    out (when it recorded that), else at hard page and section breaks; without either the text is one page."""
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    _check_zip(raw, name, max_mb)
    try:
        body = Document(io.BytesIO(raw)).element.body
    except KeyError as exc:
        missing = re.findall(r"'([^']+)'", str(exc)) or ["a part"]
        raise UnreadableDocument(f"{name}: damaged DOCX (missing {missing[0]})") from None
    except ValueError as exc:  # python-docx: "file ... is not a Word file, content type is ..."
        kind = re.findall(r"content type is '([^']+)'", str(exc))
        reason = f"not a Word document (content type {kind[0]})" if kind else "damaged DOCX (ValueError)"
        raise UnreadableDocument(f"{name}: {reason}") from None
    except (SyntaxError, zipfile.BadZipFile, zlib.error, EOFError, PackageNotFoundError) as exc:
        raise UnreadableDocument(f"{name}: damaged DOCX ({type(exc).__name__})") from None
    rendered = body.find(f".//{_W}lastRenderedPageBreak") is not None
    pages: list[str] = []
    current: list[str] = []
    for block in _blocks(body):
        pieces = _paragraph(block, rendered) if block.tag == f"{_W}p" else _table(block, rendered)
        for piece in pieces:
            if piece is None:
                pages.append("".join(current))
                current = []
            else:
                current.append(piece)
    return [*pages, "".join(current)]


def _blocks(parent: Any) -> Iterator[Any]:
    """Paragraphs and tables in document order, also inside content controls (a cover page, a table of contents)."""
    for child in parent:
        if child.tag in (f"{_W}p", f"{_W}tbl"):
            yield child
        elif child.tag == f"{_W}sdt" and (content := child.find(f"{_W}sdtContent")) is not None:
            yield from _blocks(content)


def _check_zip(raw: bytes, name: str, max_mb: float) -> None:
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableDocument(f"{name}: encrypted DOCX or old Word format (save it as .docx without a password)")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unzipped = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile:
        raise UnreadableDocument(f"{name}: damaged DOCX (not a zip archive, or truncated)") from None
    if unzipped > DOCX_UNZIPPED_RATIO * max_mb * 1024 * 1024:
        limit = DOCX_UNZIPPED_RATIO * max_mb
        raise UnreadableDocument(f"{name}: DOCX unpacks to more than {limit:g} MB (a zip bomb?)")


def _paragraph(p: Any, rendered: bool) -> list[str | None]:
    """A paragraph's text pieces and page breaks (None), ending with a line break."""
    pieces: list[str | None] = []
    props = p.find(f"{_W}pPr")
    if not rendered and _is_on(props, "pageBreakBefore"):
        pieces.append(None)
    for run in p.iter(f"{_W}r"):
        if any(True for _ in run.iterancestors(_FALLBACK)):
            continue
        for item in run:
            tag = item.tag[len(_W) :] if isinstance(item.tag, str) else ""  # an XML comment has no name
            kind = item.get(f"{_W}type")
            if tag == "t":
                pieces.append(item.text or "")
            elif tag == "tab":
                pieces.append("\t")
            elif tag == "cr" or (tag == "br" and kind in (None, "textWrapping")):
                pieces.append("\n")
            elif (tag == "br" and kind == "page" and not rendered) or (tag == "lastRenderedPageBreak" and rendered):
                pieces.append(None)
    end = len(pieces)
    while end and pieces[end - 1] is None:
        end -= 1
    pieces.insert(end, "\n")  # page breaks that end a paragraph come after its line break
    if not rendered and _new_section(props):
        pieces.append(None)
    return pieces


def _is_on(props: Any, flag: str) -> bool:
    element = props.find(f"{_W}{flag}") if props is not None else None
    return element is not None and element.get(f"{_W}val", "true") not in ("0", "false", "off")


def _new_section(props: Any) -> bool:
    """The paragraph ends a section, and the next one starts on a new page (all but continuous sections do)."""
    section = props.find(f"{_W}sectPr") if props is not None else None
    kind = section.find(f"{_W}type") if section is not None else None
    return section is not None and (kind is None or kind.get(f"{_W}val") != "continuous")


def _table(table: Any, rendered: bool) -> list[str | None]:
    """One line per row, its cells' text joined by ' | '; a row Word put on a new page starts that page."""
    pieces: list[str | None] = []
    for row in table.iterchildren(f"{_W}tr"):
        if rendered and row.find(f".//{_W}lastRenderedPageBreak") is not None:
            pieces.append(None)
        cells = [" ".join(_text(p) for p in cell.iter(f"{_W}p")) for cell in row.iterchildren(f"{_W}tc")]
        pieces.append(" | ".join(cell for cell in cells if cell.strip()) + "\n")
    return pieces


def _text(p: Any) -> str:
    return "".join(t.text or "" for t in p.iter(f"{_W}t"))
