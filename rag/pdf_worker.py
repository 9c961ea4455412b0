"""Extract the text of a PDF, page by page, in a child process under a memory cap.

Run as `python -P pdf_worker.py MAX_PAGES MEMORY_MB` with the PDF on stdin; prints one JSON object:
{"pages": [text, ...], "images": bool} or {"error": "password" | "security" | "format" | "pages", "count": n}.
A decompression bomb or a PDFium crash ends this process, not the indexer that started it.
"""

import json
import resource
import sys


def extract(raw: bytes, max_pages: int) -> dict[str, object]:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        document = pdfium.PdfDocument(raw)
    except pdfium.PdfiumError as exc:
        codes = {pdfium_c.FPDF_ERR_PASSWORD: "password", pdfium_c.FPDF_ERR_SECURITY: "security"}
        return {"error": codes.get(exc.err_code, "format")}
    if len(document) > max_pages:
        return {"error": "pages", "count": len(document)}
    pages, images = [], False
    for number in range(len(document)):
        try:
            page = document[number]
            text = page.get_textpage().get_text_range()
            if not text.strip():  # a page without text but with pictures is a scan
                images = images or any(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2))
            page.close()
        except pdfium.PdfiumError:  # a damaged page reads as empty; the others keep their numbers
            text = ""
        pages.append(text)
    return {"pages": pages, "images": images}


if __name__ == "__main__":
    max_pages, memory_mb = int(sys.argv[1]), int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    result = extract(sys.stdin.buffer.read(), max_pages)
    sys.stdout.buffer.write(json.dumps(result, ensure_ascii=False).encode("utf-8", "replace"))
