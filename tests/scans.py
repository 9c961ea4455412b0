"""Make scans with known text (the OCR tests and bench/ocr.py): lines of English, Vietnamese and Chinese drawn with
Pillow in Debian's fonts (fonts-dejavu-core, fonts-noto-cjk), some turned a few degrees, some with speckle noise;
saved as PNG, JPEG or TIFF, or as a page of a PDF without a text layer (fpdf2)."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.documents import CJK_FONT, CJK_SC, LATIN_FONT

LINES = {
    "en": (
        "The Varnholt Lighthouse was built in 1887 by the engineer Tamsin Oduya.",
        "Its lamp burns rapeseed oil and can be seen 31 kilometres out to sea.",
        "Storms closed the harbour for nine days in the winter of 1903.",
    ),
    "vi": (
        "Cống Cái Lớn mở cửa ngày 14 tháng 3 năm 2024 để ngăn mặn.",
        "Công trình bảo vệ 384.000 héc-ta lúa ở đồng bằng sông Cửu Long.",
        "Người nông dân trồng lúa, cây ăn trái và nuôi tôm quanh năm.",
    ),
    "zh": (
        "二〇一六年，大熊猫的受威胁等级从濒危降为易危。",
        "四川是大熊猫的主要栖息地，拥有最多的野生种群。",
        "保护区的竹林面积在过去十年中增加了三分之一。",
    ),
}


@dataclass(frozen=True)
class Scan:
    name: str  # the suffix picks the format: .png .jpg .tif, or .pdf for a one-page PDF of the image
    language: str
    angle: float = 0.0  # degrees turned
    noise: float = 0.0  # share of pixels flipped to black or white

    @property
    def text(self) -> str:
        return "\n".join(LINES[self.language])


SCANS = (
    Scan("en-straight.png", "en"),
    Scan("en-turned-noisy.pdf", "en", angle=2.0, noise=0.03),
    Scan("vi-straight.jpg", "vi"),
    Scan("vi-turned.tif", "vi", angle=-1.5),
    Scan("zh-straight.png", "zh"),
    Scan("zh-noisy.pdf", "zh", noise=0.03),
)


def render(lines: tuple[str, ...] | list[str], language: str, angle: float = 0.0, noise: float = 0.0) -> Any:
    """A white page (about 200 dpi for A4's width) with the lines in black, turned and speckled as asked."""
    from PIL import Image, ImageDraw, ImageFont

    font = (
        ImageFont.truetype(str(CJK_FONT), 40, index=CJK_SC)
        if language == "zh"
        else ImageFont.truetype(str(LATIN_FONT), 34)
    )
    page = Image.new("L", (1650, 150 + 80 * len(lines)), 255)
    draw = ImageDraw.Draw(page)
    for number, line in enumerate(lines):
        draw.text((90, 80 + 80 * number), line, font=font, fill=0)
    if angle:
        page = page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    if noise:
        dice = random.Random(len(lines))
        for _ in range(int(noise * page.width * page.height)):
            page.putpixel((dice.randrange(page.width), dice.randrange(page.height)), dice.choice((0, 255)))
    return page


def write_scan(scan: Scan, folder: Path) -> Path:
    image = render(LINES[scan.language], scan.language, scan.angle, scan.noise)
    path = folder / scan.name
    if path.suffix == ".pdf":
        return write_pdf(path, [image])
    image.save(path)
    return path


def write_pdf(path: Path, pages: list[Any]) -> Path:
    """A PDF of A4 pages: an image fills a page as a scan would (no text layer); a str is set as real text."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("DejaVu", fname=str(LATIN_FONT))
    for page in pages:
        pdf.add_page()
        if isinstance(page, str):
            pdf.set_font("DejaVu", size=12)
            pdf.multi_cell(0, 8, page)
        else:
            pdf.image(page, x=0, y=10, w=210)
    pdf.output(str(path))
    return path


def character_error_rate(expected: str, found: str, language: str) -> float:
    """Edit distance over the expected length, whitespace collapsed (and dropped in Chinese, which has none)."""
    a, b = (re.sub(r"\s+", "" if language == "zh" else " ", text).strip() for text in (expected, found))
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1] / max(1, len(a))
