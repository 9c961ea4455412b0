"""Section 12: OCR of scans, character error rate per language and pages per second, on scans drawn with known text.

`python -m bench.ocr` measures and updates the section in bench/REPORT.md. Needs Tesseract with the eng, vie and
chi_sim data (make install), fpdf2 and the fonts of tests/scans.py.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from bench.report import Section, write_sections
from bench.timing import load_average
from rag.ingest.ocr import LANGUAGES
from rag.ingest.read import load_document
from tests.scans import LINES, Scan, character_error_rate, render, write_pdf, write_scan

REPORT = Path(__file__).parent / "REPORT.md"
VARIANTS = {"straight": (0.0, 0.0), "turned 2°": (2.0, 0.0), "turned -1.5°": (-1.5, 0.0), "noise 3 %": (0.0, 0.03)}
CONTAINERS = {"PNG file": ".png", "PDF page": ".pdf"}
MULTI_PAGE = 6  # pages of the scanned PDF read as one file


def read_scans(folder: Path) -> list[tuple[str, str, str, float, float, float]]:
    """(language, variant, container, character error rate, confidence, seconds) for every scan."""
    rows: list[tuple[str, str, str, float, float, float]] = []
    for language in LINES:
        for variant, (angle, noise) in VARIANTS.items():
            for container, suffix in CONTAINERS.items():
                scan = Scan(f"{language}-{len(rows)}{suffix}", language, angle, noise)
                path = write_scan(scan, folder)
                started = time.perf_counter()
                doc = load_document(path)
                seconds = time.perf_counter() - started
                error = character_error_rate(scan.text, doc.text, language)
                rows.append((language, variant, container, error, doc.ocr[0][1], seconds))
    return rows


def multi_page(folder: Path) -> tuple[float, float]:
    """(seconds, mean character error rate) for one scanned PDF of MULTI_PAGE pages in turn of each language."""
    languages = [list(LINES)[i % len(LINES)] for i in range(MULTI_PAGE)]
    pages = [render(LINES[lang], lang, angle=(-1) ** i * 1.0) for i, lang in enumerate(languages)]
    path = write_pdf(folder / "scanned-report.pdf", pages)
    started = time.perf_counter()
    doc = load_document(path)
    seconds = time.perf_counter() - started
    ends = [*doc.pages[1:], len(doc.text)]
    errors = [
        character_error_rate("\n".join(LINES[lang]), doc.text[start:end], lang)
        for lang, start, end in zip(languages, doc.pages, ends)
    ]
    return seconds, sum(errors) / len(errors)


def ocr_section() -> Section:
    with tempfile.TemporaryDirectory() as folder:
        load_document(write_scan(Scan("warm.png", "en"), Path(folder)))  # starts the reader child
        rows = read_scans(Path(folder))
        whole_s, whole_error = multi_page(Path(folder))
    version = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    s = Section("12. OCR: character error rate and pages per second")
    s.text(
        f"Measured with `python -m bench.ocr` ({version}, languages {LANGUAGES}, one OCR thread, load average "
        f"{load_average()}). Three lines of known text per page in each language (tests/scans.py: DejaVu Sans for "
        "English and Vietnamese, Noto Sans CJK SC for Chinese, drawn at about 200 dpi), straight, turned or with 3 % "
        "of pixels flipped to black or white; each read as a PNG file and as a PDF page without a text layer "
        "(rendered at 300 dpi). Character error rate is the edit distance over the expected length, whitespace "
        "collapsed (dropped for Chinese). Seconds are `load_document` end to end: the reader child, rendering, "
        "a 3x3 median filter, Tesseract, reflow. A page here holds three lines, so a full page of dense text "
        "takes longer; on a shared machine the seconds vary, the error rates do not.",
    )
    summary = []
    for language in LINES:
        mine = [r for r in rows if r[0] == language]
        seconds = sum(r[5] for r in mine)
        summary.append(
            (language, len(mine), sum(r[3] for r in mine) / len(mine), max(r[3] for r in mine), len(mine) / seconds)
        )
    s.table(["language", "pages", "mean CER", "worst CER", "pages / s"], summary)
    s.text(
        f"One scanned PDF of {MULTI_PAGE} pages (the three languages in turn, turned ±1°): {whole_s:.1f} s, "
        f"{MULTI_PAGE / whole_s:.2f} pages/s, mean CER {whole_error:.3f}."
    )
    s.table(
        ["language", "variant", "as", "CER", "confidence", "s"],
        [(lang, variant, container, error, conf, sec) for lang, variant, container, error, conf, sec in rows],
    )
    return s


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ocr", description=__doc__)
    parser.add_argument("--out", type=Path, default=REPORT, help=f"report to update (default {REPORT})")
    args = parser.parse_args()
    section = ocr_section()
    print(section.markdown())
    write_sections(args.out, [section])


if __name__ == "__main__":
    main()
