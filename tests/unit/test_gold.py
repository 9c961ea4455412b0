"""The gold set keeps its promises, the language metric reads the whole answer, and a malformed gold file is
reported with the line at fault."""

from __future__ import annotations

import json
import re

import pytest

from rag.answer.citations import without_markers
from rag.config import PROJECT_DIR
from rag.errors import RagError
from rag.evaluation import load_gold, wholly_in
from rag.language import detect_language, fold, written_in

GOLD = PROJECT_DIR / "eval" / "gold.jsonl"


def test_gold_set_covers_what_it_promises():
    items = load_gold(GOLD)
    by_language = {lang: [i for i in items if i.lang == lang] for lang in ("en", "vi", "zh")}
    assert len(items) >= 60 and all(len(group) >= 20 for group in by_language.values())
    assert sum(not i.answerable for i in items) >= 10
    sources = {s for i in items for s in i.sources}
    assert sources == {p.name for p in (PROJECT_DIR / "seeds").glob("*.txt")}


def test_at_least_20_questions_need_a_fact_stated_only_in_another_language():
    """Such a question has a must group that its sources never state (a quote cannot match it), written in the
    question's own language."""
    seeds = {p.name: fold(p.read_text(encoding="utf-8")) for p in (PROJECT_DIR / "seeds").glob("*.txt")}
    translated = [
        item
        for item in load_gold(GOLD)
        for group in item.must
        if not any(fold(s) in seeds[source] for s in group for source in item.sources)
    ]
    assert len({item.id for item in translated}) >= 20
    for item in translated:
        for group in item.must:
            written = [detect_language(s) for s in group if re.search(r"[^\W\d_]", s)]
            expected = {"en": {"en"}, "vi": {"vi", "en"}, "zh": {"zh"}}[item.lang]  # "an ninh" reads as en
            assert set(written) <= expected, (item.id, group)


@pytest.mark.parametrize(
    ("answer", "language", "expected"),
    [
        ("Đặng Hoàng Giang chaired the meeting [1].", "en", True),
        ("The four pillars are Hòa bình, Thịnh vượng, Con người và Hành tinh [1].", "en", False),
        ("According to the documents: “Các nhà lãnh đạo ASEAN và New Zealand đã thông qua Tuyên bố” [1]", "en", False),
        ("2026 [1]", "vi", True),
        ("Lee Jae-myung [1]", "zh", True),
        ("双方设定了30亿美元的目标[1]。", "zh", True),
        ("Hai bên đặt mục tiêu 3 tỷ USD [1].", "zh", False),
    ],
)
def test_language_counts_the_whole_answer_less_markers_and_names(answer, language, expected):
    assert written_in(without_markers(answer), language) is expected
    assert wholly_in(answer, language) is expected


@pytest.mark.parametrize(
    ("answer", "language", "expected"),
    [
        (
            "Theo tài liệu: “You may choose to offer, and to charge a fee for, warranty or support. However, You may do"
            " so only on Your own behalf.” (nguyên văn tiếng Anh, chưa có bản dịch) [1]",
            "vi",
            False,
        ),
        (
            "Theo tài liệu: “Bạn có thể thu phí cho bảo hành hoặc hỗ trợ kỹ thuật.” (bản dịch máy từ tiếng Anh) [1]",
            "vi",
            True,
        ),
        ("Phần mềm được cung cấp trên cơ sở “as is” [1].", "vi", True),  # a term kept in its own words
    ],
)
def test_a_passage_quoted_untranslated_is_not_in_the_askers_language(answer, language, expected):
    assert wholly_in(answer, language) is expected


def test_malformed_gold_line_is_reported_with_its_number(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "a", "question": "q?", "must": [["x"]]}) + "\n{broken\n", encoding="utf-8")
    with pytest.raises(RagError, match=r"gold.jsonl:2: not a gold record"):
        load_gold(gold)
