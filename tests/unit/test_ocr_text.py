"""Tesseract's TSV made into lines of text and a confidence, on hand-made rows."""

from __future__ import annotations

from rag.ingest.ocr import parse_tsv

HEAD = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"


def row(block: int, line: int, word: int, conf: float, text: str) -> str:
    return f"5\t1\t{block}\t1\t{line}\t{word}\t0\t0\t10\t10\t{conf}\t{text}"


def test_words_join_into_lines_without_spaces_inside_chinese() -> None:
    tsv = "\n".join(
        [
            HEAD,
            "1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t",  # the page, not a word
            row(1, 1, 1, 90, "Cống"),
            row(1, 1, 2, 80, "Cái"),
            row(1, 2, 1, 70, "大熊猫"),
            row(1, 2, 2, 60, "在"),
            row(1, 2, 3, 50, "2016"),
            row(1, 2, 4, 40, "年"),
            row(2, 1, 1, 30, " "),  # a blank word does not count
        ]
    )
    assert parse_tsv(tsv) == ("Cống Cái\n大熊猫在2016年", 65.0)


def test_a_page_without_words_has_no_text_and_no_confidence() -> None:
    assert parse_tsv(HEAD + "\n") == ("", 0.0)
