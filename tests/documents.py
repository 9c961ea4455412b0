"""Build multilingual PDF and DOCX files with known facts on known pages (test fixtures and the reader bench).

Each PDF has a running header, a footer with the page number, a word hyphenated across a line break, and the
English one sets its second page in two columns. Fonts come from Debian: fonts-dejavu-core and fonts-noto-cjk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

LATIN_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CJK_SC = 2  # index of Noto Sans CJK SC in the collection


@dataclass(frozen=True)
class Fact:
    """A question, the sentence that answers it and the page that sentence is on (1-based)."""

    question: str
    sentence: str
    page: int


@dataclass(frozen=True)
class Sample:
    name: str
    language: str
    header: str
    footer: str  # formatted with the page number as {n}
    pages: tuple[tuple[str, ...], ...]  # paragraphs per page
    facts: tuple[Fact, ...]
    hyphenated: tuple[str, str] = ("", "")  # a word set as "first-" at a line end and "second" on the next line
    columns_on: int = 0  # page set in two columns (0: none)
    contents: tuple[str, ...] = ()  # lines of a table of contents set at the end of the first page


FILLER_EN = (
    "The delta is home to about seventeen million people who live along thousands of kilometres of canals. "
    "Farmers plant rice, fruit and shrimp, and the river carries silt from upstream every rainy season. "
)
EN = Sample(
    name="mekong-report.pdf",
    language="en",
    header="Mekong Delta Water Report 2024",
    footer="Page {n} of 3",
    pages=(
        ("Mekong Delta Water Report", FILLER_EN * 3, "The report was prepared by the Can Tho water office."),
        (
            "Sluice gates",
            FILLER_EN * 2,
            "The Cai Lon sluice gate opened on 14 March 2024 and now protects 384,000 hectares of rice fields.",
            FILLER_EN * 2,
        ),
        (
            "Salinity",
            "Salinity reached 4.2 grams per litre at Ben Tre in February, the highest reading of the year.",
            FILLER_EN * 2,
        ),
    ),
    facts=(
        Fact(
            "When did the Cai Lon sluice gate open?",
            "The Cai Lon sluice gate opened on 14 March 2024 and now protects 384,000 hectares of rice fields.",
            2,
        ),
        Fact(
            "What salinity was measured at Ben Tre in February?",
            "Salinity reached 4.2 grams per litre at Ben Tre in February, the highest reading of the year.",
            3,
        ),
    ),
    hyphenated=("irri", "gation"),
    columns_on=2,
)

FILLER_VI = (
    "Đồng bằng sông Cửu Long có mạng lưới kênh rạch dày đặc và đất phù sa màu mỡ. "
    "Người nông dân trồng lúa, cây ăn trái và nuôi tôm quanh năm. "
)
VI = Sample(
    name="bao-cao-nong-nghiep.pdf",
    language="vi",
    header="Báo cáo nông nghiệp Đồng bằng sông Cửu Long",
    footer="Trang {n}",
    pages=(
        ("Tổng quan", FILLER_VI * 4),
        ("Sản lượng lúa", FILLER_VI * 2, "Sản lượng lúa của tỉnh An Giang năm 2024 đạt 4,1 triệu tấn.", FILLER_VI),
        ("Xuất khẩu", "Kim ngạch xuất khẩu cà phê của Việt Nam năm 2024 đạt 5,4 tỷ đô la Mỹ.", FILLER_VI * 2),
    ),
    facts=(
        Fact(
            "Sản lượng lúa của tỉnh An Giang năm 2024 đạt bao nhiêu?",
            "Sản lượng lúa của tỉnh An Giang năm 2024 đạt 4,1 triệu tấn.",
            2,
        ),
        Fact(
            "Kim ngạch xuất khẩu cà phê của Việt Nam năm 2024 là bao nhiêu?",
            "Kim ngạch xuất khẩu cà phê của Việt Nam năm 2024 đạt 5,4 tỷ đô la Mỹ.",
            3,
        ),
    ),
)

FILLER_ZH = "湄公河三角洲河网密布，土地肥沃。当地农民种植水稻和水果，也养殖虾类。每年雨季，河水带来大量泥沙。"
ZH = Sample(
    name="meigonghe-baogao.pdf",
    language="zh",
    header="湄公河流域年度报告",
    footer="第 {n} 页",
    pages=(
        ("概况", FILLER_ZH * 4),
        ("粮食出口", FILLER_ZH * 2, "2024年，越南大米出口量达到九百万吨，创历史新高。", FILLER_ZH),
        ("水电", "老挝沙耶武里水电站的装机容量为一千二百八十五兆瓦。", FILLER_ZH * 2),
    ),
    facts=(
        Fact("越南大米出口量达到多少？", "2024年，越南大米出口量达到九百万吨，创历史新高。", 2),
        Fact("沙耶武里水电站的装机容量是多少？", "老挝沙耶武里水电站的装机容量为一千二百八十五兆瓦。", 3),
    ),
    contents=(
        "1 概况 . . . . . . . . . . . . . . . . 1",
        "2 粮食出口 . . . . . . . . . . . . . 2",
        "3 水电 . . . . . 3",
    ),
)

DOCX = Sample(
    name="ghi-chu-hop.docx",
    language="vi",
    header="",
    footer="",
    pages=(
        ("Ghi chú cuộc họp", FILLER_VI * 2),
        ("Cuộc họp tiếp theo sẽ diễn ra tại Cần Thơ vào ngày 12 tháng 9 năm 2025.", FILLER_VI),
        ("会议决定", "下次会议的预算为三十五万美元。", FILLER_ZH),
    ),
    facts=(
        Fact(
            "Cuộc họp tiếp theo diễn ra ở đâu?",
            "Cuộc họp tiếp theo sẽ diễn ra tại Cần Thơ vào ngày 12 tháng 9 năm 2025.",
            2,
        ),
        Fact("下次会议的预算是多少？", "下次会议的预算为三十五万美元。", 3),
    ),
)

PDF_SAMPLES = (EN, VI, ZH)


def fonts_or_fail() -> None:
    missing = [str(f) for f in (LATIN_FONT, CJK_FONT) if not f.exists()]
    if missing:
        raise FileNotFoundError(
            f"fonts missing ({', '.join(missing)}): apt-get install fonts-dejavu-core fonts-noto-cjk"
        )


def write_pdf(sample: Sample, folder: Path, password: str | None = None) -> Path:
    """Set `sample` as an A5 PDF: header, footer, paragraphs, the hyphenated word, an optional two-column page, a
    table of contents."""
    from fpdf import FPDF

    fonts_or_fail()

    class Report(FPDF):
        def header(self) -> None:
            self.set_font("body", size=8)
            self.cell(0, 6, sample.header, new_x="LMARGIN", new_y="NEXT")
            self.ln(2)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("body", size=8)
            self.cell(0, 6, sample.footer.format(n=self.page_no()), align="C")

    pdf = Report(format=(148, 210))  # A5
    pdf.add_font("body", fname=CJK_FONT if sample.language == "zh" else LATIN_FONT, collection_font_number=CJK_SC)
    pdf.set_auto_page_break(False)
    if password:
        pdf.set_encryption(owner_password="owner", user_password=password)
    for number, paragraphs in enumerate(sample.pages, 1):
        pdf.add_page()
        pdf.set_font("body", size=10)
        if number == sample.columns_on:
            with pdf.text_columns(ncols=2, gutter=6) as columns:
                for paragraph in paragraphs:
                    columns.write(paragraph + "\n\n")
        else:
            for paragraph in paragraphs:
                pdf.multi_cell(0, 5, paragraph, new_x="LMARGIN", new_y="NEXT")
                pdf.ln(2)
        if number == 1 and sample.hyphenated[0]:
            first, second = sample.hyphenated
            pdf.cell(0, 5, f"Planning of {first}-")
            pdf.ln(5)
            pdf.cell(0, 5, f"{second} works continues.")
            pdf.ln(5)
        for line in sample.contents if number == 1 else ():
            pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    target = folder / sample.name
    pdf.output(str(target))
    return target


def write_docx(sample: Sample, folder: Path) -> Path:
    """Write `sample` as a DOCX with a hard page break between its pages."""
    from docx import Document
    from docx.enum.text import WD_BREAK

    document = Document()
    for number, paragraphs in enumerate(sample.pages, 1):
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
        if number < len(sample.pages):
            document.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)
    target = folder / sample.name
    document.save(str(target))
    return target


def write_samples(folder: Path) -> Path:
    """The three sample PDFs (English, Vietnamese, Chinese) and the sample DOCX, written into `folder`."""
    for sample in PDF_SAMPLES:
        write_pdf(sample, folder)
    write_docx(DOCX, folder)
    return folder
