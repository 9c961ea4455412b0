"""Questions before retrieval: cleaning and refusing, the relevance gate, follow-up detection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.answering import clean_question, gate
from rag.config import Settings
from rag.conversation import follow_up_context, search_text
from rag.errors import BadQuestion
from rag.records import Chunk, Passage


@pytest.mark.parametrize("question", ["", "   ", "\x00\x01", "???", "\n\t"])
def test_empty_questions_are_refused(question):
    with pytest.raises(BadQuestion, match="empty"):
        clean_question(question, 100)


def test_overlong_question_is_refused():
    with pytest.raises(BadQuestion, match="limit is 100"):
        clean_question("a" * 101, 100)


def test_question_is_cleaned():
    assert clean_question("  Khi nào\x07 ASEAN\n\n họp? 🙂 ", 100) == "Khi nào ASEAN họp? 🙂"


def test_gate_asks_more_of_a_passage_in_the_question_language():
    best = Passage(1, Chunk("a.txt", 0, 4, "Câu.", "vi", "", None, ((0, 4),)), 0, 4, "Câu.", 0.52)
    settings = Settings(min_relevance=0.5, min_relevance_same_language=0.55)
    assert gate(settings, best, "vi") == 0.55 > best.relevance  # same language: refused
    assert gate(settings, best, "en") == 0.5 < best.relevance  # cross-lingual: answered


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("and with Korea?", "When did ASEAN and NZ become partners?"),
        ("còn Hàn Quốc thì sao, năm nào được nâng cấp quan hệ?", "When did ASEAN and NZ become partners?"),
        ("那韩国呢？", "When did ASEAN and NZ become partners?"),
        ("Which country coordinated ASEAN–New Zealand dialogue relations?", ""),
    ],
)
def test_follow_up_questions_carry_the_previous_question(question: str, expected: str) -> None:
    assert follow_up_context(question, ["When did ASEAN and NZ become partners?"]) == expected
    assert follow_up_context(question, []) == ""
    assert search_text(question, ["When did ASEAN and NZ become partners?"]) == f"{expected} {question}".strip()


@given(st.text())
def test_clean_question_output_is_printable_trimmed_and_stable(question):
    try:
        cleaned = clean_question(question, 500)
    except BadQuestion:
        return
    assert cleaned == cleaned.strip() and "  " not in cleaned and 0 < len(cleaned) <= 500
    assert all(c.isprintable() for c in cleaned)
    assert clean_question(cleaned, 500) == cleaned
