"""Extract PDF text page by page with PDFium, and OCR scans and images (ocr.py), in a child process under a
memory cap.

The child (this file run as a script) serves one request at a time on stdin and stdout: a request is two lengths
(4 and 8 bytes), a JSON header and the file; a reply is a length (8 bytes) and JSON. The header's "kind" says what
to do: "pdf" (with "max_pages") replies {"pages": [text, ...], "scans": [page numbers without text that hold
pictures]} or {"error": "password" | "security" | "format" | "pages", "count": n}; "pdf-page" (with "page" and
"seconds") and "image" (with "seconds") reply as ocr.py describes. A decompression bomb or a PDFium crash ends the
child, not the indexer; the next request starts a new child. Standard library only at the top: the child runs
outside the package (it imports rag.ingest.ocr from this source tree when asked for OCR).
"""

from __future__ import annotations

import json
import os
import resource
import select
import struct
import subprocess
import sys
import threading
import time
from typing import Any

_REQUEST = struct.Struct("<IQ")  # header length, file length
_REPLY = struct.Struct("<Q")


class WorkerFailed(Exception):
    """The child crashed, went over its memory cap or over its time; it has been stopped."""


class PdfWorker:
    """The parent's side: one child, started on first use and again after a failure; one request at a time."""

    def __init__(self, memory_mb: int, command: list[str] | None = None) -> None:
        self.command = command or [sys.executable, "-P", __file__, str(memory_mb)]
        self._child: subprocess.Popen[bytes] | None = None
        self._owner = os.getpid()  # a forked copy of this object must not share the parent's child
        self._lock = threading.Lock()  # the UI may read uploads from several threads

    def extract(self, raw: bytes, max_pages: int, seconds: float) -> dict[str, Any]:
        """Each page's text of a PDF, and the pages to OCR (see the module's docstring)."""
        return self.request({"kind": "pdf", "max_pages": max_pages}, raw, seconds)

    def request(self, header: dict[str, Any], raw: bytes, seconds: float) -> dict[str, Any]:
        """The child's JSON reply; raises WorkerFailed (with "time" or "crash") and stops the child."""
        head = json.dumps(header).encode()
        with self._lock:
            if self._child is None or self._owner != os.getpid() or self._child.poll() is not None:
                pipe = subprocess.PIPE
                self._child = subprocess.Popen(self.command, stdin=pipe, stdout=pipe, stderr=subprocess.DEVNULL)
                self._owner = os.getpid()
            child, deadline = self._child, time.monotonic() + seconds
            assert child.stdin is not None and child.stdout is not None
            try:
                _write(child.stdin.fileno(), _REQUEST.pack(len(head), len(raw)) + head + raw, deadline)
                (size,) = _REPLY.unpack(_read(child.stdout.fileno(), _REPLY.size, deadline))
                return json.loads(_read(child.stdout.fileno(), size, deadline))
            except (OSError, EOFError, TimeoutError) as exc:
                child.kill()
                child.wait()
                self._child = None
                raise WorkerFailed("time" if isinstance(exc, TimeoutError) else "crash") from None

    def close(self) -> None:
        """End the child: it stops when its input closes."""
        with self._lock:
            if self._child is not None:
                self._child.communicate()
                self._child = None


def _write(fd: int, data: bytes, deadline: float) -> None:
    os.set_blocking(fd, False)
    view = memoryview(data)
    while view:
        if not select.select([], [fd], [], max(0.0, deadline - time.monotonic()))[1]:
            raise TimeoutError
        try:
            view = view[os.write(fd, view[: 1 << 16]) :]
        except BlockingIOError:
            continue


def _read(fd: int, size: int, deadline: float) -> bytes:
    chunks, left = [], size
    while left:
        if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
            raise TimeoutError
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def extract(raw: bytes, max_pages: int) -> dict[str, Any]:
    """The child's side: each page's text, and the pages without text that hold pictures (scans)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        document = pdfium.PdfDocument(raw)
    except pdfium.PdfiumError as exc:
        codes = {pdfium_c.FPDF_ERR_PASSWORD: "password", pdfium_c.FPDF_ERR_SECURITY: "security"}
        return {"error": codes.get(exc.err_code, "format")}
    if len(document) > max_pages:
        return {"error": "pages", "count": len(document)}
    pages, scans = [], []
    for number in range(len(document)):
        try:
            page = document[number]
            text = page.get_textpage().get_text_range()
            if not text.strip() and any(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2)):
                scans.append(number)
            page.close()
        except pdfium.PdfiumError:  # a damaged page reads as empty; the others keep their numbers
            text = ""
        pages.append(text)
    document.close()
    return {"pages": pages, "scans": scans}


def handle(header: dict[str, Any], raw: bytes) -> dict[str, Any]:
    """One request, by its kind."""
    if header["kind"] == "pdf":
        return extract(raw, header["max_pages"])
    from rag.ingest import ocr

    if header["kind"] == "image":
        return ocr.read_image(raw, header["seconds"])
    return ocr.read_pdf_page(raw, header["page"], header["seconds"])


def serve(memory_mb: int) -> None:
    """Answer requests until stdin closes (the parent ended)."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    while len(lengths := requests.read(_REQUEST.size)) == _REQUEST.size:
        head, size = _REQUEST.unpack(lengths)
        header = json.loads(requests.read(head))
        reply = json.dumps(handle(header, requests.read(size)), ensure_ascii=False).encode("utf-8", "replace")
        replies.write(_REPLY.pack(len(reply)) + reply)
        replies.flush()


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))  # this tree's rag
    serve(int(sys.argv[1]))
