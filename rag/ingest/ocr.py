"""Read text from pixels with Tesseract: an image file, or a PDF page rendered with PDFium.

Runs in the reader's child process (pdf_worker.py) under its memory cap, so a hostile image ends the child, not the
indexer. Replies are JSON objects: {"text": str, "confidence": float} (mean word confidence, 0-100) or
{"error": "image" | "bomb" | "ocr-time" | "ocr-failed", "detail": str}. Standard library only at import.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import warnings
from typing import Any

TESSERACT = "tesseract"  # the command; Debian: apt-get install tesseract-ocr (and -eng, -vie, -chi-sim)
LANGUAGES = "chi_sim+vie+eng"  # Chinese first: with English first, Tesseract spaces out Chinese words
DPI = 300  # PDF pages are rendered at this resolution
MAX_PIXELS = 40_000_000  # a larger page is rendered at a lower resolution
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_SPACE_IN_CJK = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}\\d])|(?<=\\d) (?=[{_CJK}])")  # "在 2016 年" -> "在2016年"


def read_image(raw: bytes, seconds: float) -> dict[str, Any]:
    """OCR an image file (PNG, JPEG, TIFF; a multi-page TIFF's first page); Pillow's pixel limit guards against
    decompression bombs."""
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)  # over the limit is refused, not warned of
        try:
            with Image.open(io.BytesIO(raw)) as image:
                image.load()
                gray = image.convert("L")
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            return {"error": "bomb", "detail": f"over Pillow's {Image.MAX_IMAGE_PIXELS:,}-pixel limit"}
        except UnidentifiedImageError:
            return {"error": "image", "detail": "not an image Pillow can read"}
        except (OSError, ValueError, SyntaxError) as exc:
            return {"error": "image", "detail": f"damaged image ({type(exc).__name__})"}
    return recognize(gray, seconds, None)


def read_pdf_page(raw: bytes, number: int, seconds: float) -> dict[str, Any]:
    """OCR page `number` (0-based) of a PDF, rendered in gray at DPI (less for a huge page)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(raw)
    try:
        page = document[number]
        width, height = page.get_size()  # in points, 72 to the inch
        scale = min(DPI / 72, (MAX_PIXELS / max(1.0, width * height)) ** 0.5)
        image = page.render(scale=scale, grayscale=True).to_pil()
    finally:
        document.close()
    return recognize(image, seconds, round(72 * scale))


def recognize(image: Any, seconds: float, dpi: int | None) -> dict[str, Any]:
    """Tesseract's words as lines of text, and their mean confidence. A 3x3 median filter first clears speckle
    noise, which Tesseract reads as letters (on the noisy test scans it cut the
    character error rate from 0.04-0.6 to 0.01-0.02, tests/scans.py)."""
    from PIL import ImageFilter

    png = io.BytesIO()
    image.filter(ImageFilter.MedianFilter(3)).save(png, "PNG")
    command = [TESSERACT, "stdin", "stdout", "-l", LANGUAGES, *(["--dpi", str(dpi)] if dpi else []), "tsv"]
    try:
        done = subprocess.run(
            command,
            input=png.getvalue(),
            capture_output=True,
            timeout=seconds,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},  # one thread: faster on a shared CPU, and predictable
        )
    except subprocess.TimeoutExpired:
        return {"error": "ocr-time", "detail": f"OCR took over {seconds:g} s"}
    except OSError as exc:
        return {"error": "ocr-failed", "detail": f"cannot run {TESSERACT} ({exc.strerror})"}
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return {"error": "ocr-failed", "detail": lines[-1] if lines else f"exit status {done.returncode}"}
    text, confidence = parse_tsv(done.stdout.decode("utf-8", "replace"))
    return {"text": text, "confidence": confidence}


def parse_tsv(tsv: str) -> tuple[str, float]:
    """Text (one line per line Tesseract found, no spaces between Chinese characters) and the mean confidence
    of its words (0 when there are none)."""
    lines: dict[tuple[str, ...], list[str]] = {}
    confidences = []
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) == 12 and cells[0] == "5" and cells[11].strip():
            lines.setdefault(tuple(cells[1:5]), []).append(cells[11].strip())
            confidences.append(float(cells[10]))
    text = "\n".join(_SPACE_IN_CJK.sub("", " ".join(words)) for words in lines.values())
    return text, round(sum(confidences) / len(confidences), 1) if confidences else 0.0
