"""Reading bad files: binary data, wrong encodings, empty and oversized files are refused with a reason or read right."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.errors import UnreadableDocument
from rag.ingest.read import decode, load_document

ZH = "越南与新西兰关系提升为全面战略伙伴关系。双方同意加强贸易合作。"
LATIN = "Müller, Straße und größer: über Äpfel. Le café à Noël était élevé, déjà vu."
MOSTLY_EN = "The ASEAN summit in Kuala Lumpur was attended by leaders from 越南 and 新西兰 in October 2025."
SMART = "He said “hello” — it costs €5 and that’s all."


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Xin chào Việt Nam".encode(), "Xin chào Việt Nam"),
        ("Xin chào Việt Nam".encode("utf-8-sig"), "Xin chào Việt Nam"),
        (ZH.encode("gbk"), ZH),
        (ZH.encode("gb18030"), ZH),
        (MOSTLY_EN.encode("gbk"), MOSTLY_EN),
        ("Xin chào Việt Nam".encode("utf-16"), "Xin chào Việt Nam"),  # with BOM
        ("Xin chào Việt Nam, ASEAN".encode("utf-16-le"), "Xin chào Việt Nam, ASEAN"),  # no BOM
        ("Xin chào Việt Nam, ASEAN".encode("utf-16-be"), "Xin chào Việt Nam, ASEAN"),
        (ZH.encode("utf-16-le"), None),  # no BOM and no NULs: cannot be told apart, refused not mis-read
        (LATIN.encode("latin-1"), LATIN),  # decodes as GB18030 gibberish ("M黮ler") unless refused
        ("Müller Straße größer über".encode("latin-1"), "Müller Straße größer über"),
        (SMART.encode("cp1252"), SMART),
    ],
    ids=[
        "utf8",
        "utf8-bom",
        "gbk",
        "gb18030",
        "gbk-mostly-english",
        "utf16-bom",
        "utf16le",
        "utf16be",
        "utf16le-cjk",
        "latin1",
        "de",
        "cp1252",
    ],
)
def test_encodings_are_decoded_or_refused_never_garbled(raw, expected):
    if expected is None:
        with pytest.raises(UnreadableDocument, match="unknown text encoding"):
            decode(raw, "f.txt")
    else:
        assert decode(raw, "f.txt") == expected


WESTERN_WORDS = [
    "Müller",
    "Straße",
    "größer",
    "über",
    "Äpfel",
    "Öl",
    "Mädchen",
    "schön",
    "Grüße",
    "café",
    "élevé",
    "Noël",
    "déjà",
    "été",
    "garçon",
    "français",
    "à",
    "où",
    "très",
    "niño",
    "señor",
    "año",
    "mañana",
    "corazón",
    "información",
    "pingüino",
    "São",
    "Paulo",
    "ação",
    "coração",
    "Ærø",
    "Øresund",
    "the",
    "and",
    "of",
    "ASEAN",
    "2025",
    "€",
    "“quoted”",
    "—",
    "…",
]


@given(st.lists(st.sampled_from(WESTERN_WORDS), min_size=1, max_size=60), st.sampled_from([" ", ", ", ". ", "\n"]))
def test_western_prose_in_cp1252_or_latin1_reads_back_unchanged(words, separator):
    text = separator.join(words)
    encoding = "cp1252" if any(c in text for c in "€“”—…") else "latin-1"
    assert decode(text.encode(encoding), "f.txt") == text


CHINESE_WORDS = ["越南", "新西兰", "全面战略伙伴关系", "东盟", "峰会", "合作"]
MIXED = ["2025年", "2月25日", "ASEAN", "summit", "the", "leaders", "of", "in", "2025"]


@given(
    st.sampled_from(CHINESE_WORDS),
    st.lists(st.sampled_from(CHINESE_WORDS + MIXED), max_size=60),
    st.sampled_from([" ", "，", "。", "\n"]),
)
def test_chinese_in_gbk_reads_back_unchanged_even_among_english_words(first, words, separator):
    text = separator.join([first, *words])
    assert decode(text.encode("gbk"), "f.txt") == text


@pytest.mark.parametrize(
    "raw",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8,
        b"%PDF-1.7\n" + bytes(range(256)) * 8,
        os.urandom(4096).replace(b"\x00", b"\x01"),  # binary without NULs
        b"\xff\xfe" + bytes(range(256)) * 8,  # a UTF-16 BOM in front of garbage
        b"\xff\xfeabc",  # odd length after a BOM
    ],
    ids=["png", "pdf", "random", "bom-garbage", "bom-odd"],
)
def test_binary_data_is_refused(raw):
    with pytest.raises(UnreadableDocument, match=r"binary file|unknown text encoding"):
        decode(raw, "f.txt")


def test_empty_blank_and_oversized_files_give_reasons(tmp_path: Path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_text(" \n\t\n")
    (tmp_path / "tags.html").write_text("<html><script>x=1</script></html>")
    big = tmp_path / "big.txt"
    with open(big, "wb") as handle:  # 50 MB of plain text, over the 20 MB default
        handle.write(b"ASEAN and New Zealand. " * (50 * 1024 * 1024 // 23))
    reasons = {p.name: _reason(p) for p in sorted(tmp_path.iterdir())}
    assert reasons == {
        "big.txt": "big.txt: larger than the 20 MB limit",
        "blank.txt": "blank.txt: no text",
        "empty.txt": "empty.txt: empty file",
        "tags.html": "tags.html: no text",
    }
    assert _reason(tmp_path / "gone.txt") == "gone.txt: cannot read (No such file or directory)"
    assert _reason(tmp_path) == f"{tmp_path.name}: cannot read (Is a directory)"


def _reason(path: Path) -> str:
    with pytest.raises(UnreadableDocument) as problem:
        load_document(path)
    return str(problem.value)
