"""Questions before retrieval: cleaning and refusing, the relevance gate, follow-up detection."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.answer.decide import gate
from rag.answer.question import Kind, Question, read_question
from rag.config import AnswerSettings
from rag.errors import BadQuestion
from rag.records import Chunk, Hit, Passage
from rag.search.conversation import follow_up_context, search_text
from rag.search.retrieve import rerank
from rag.store.vectors import BuildInfo, VectorIndex, make_faiss


@pytest.mark.parametrize("question", ["", "   ", "\x00\x01", "???", "\n\t"])
def test_empty_questions_are_refused(question):
    with pytest.raises(BadQuestion, match="empty"):
        read_question(question, 100)


def test_overlong_question_is_refused():
    with pytest.raises(BadQuestion, match="limit is 100"):
        read_question("a" * 101, 100)


def test_question_is_cleaned():
    assert read_question("  Khi nào\x07 ASEAN\n\n họp? 🙂 ", 100).text == "Khi nào ASEAN họp? 🙂"


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("RateLimitIntervalSec 和 RateLimitBurst 的默认值是多少？", "zh"),  # the option names outweigh the Chinese
        ("sshd_config 中 PermitRootLogin 的默认值是什么？", "zh"),
        ("Giá trị mặc định của Storage= là gì?", "vi"),
        ("What does 和平 mean?", "en"),
        ("What is /run/log/journal for?", "en"),
    ],
)
def test_a_question_is_read_in_the_language_of_its_words_not_of_its_code_terms(question: str, language: str) -> None:
    assert read_question(question, 200).language == language


def test_gate_asks_more_of_a_passage_in_the_question_language():
    best = Passage(1, Chunk("a.txt", 0, 4, "Câu.", "vi", "", None, ((0, 4),)), 0, 4, "Câu.", 0.52)
    settings = AnswerSettings(min_relevance=0.5, min_relevance_same_language=0.55)
    refused = gate(Question("Câu?", "vi"), [best], settings)  # same language: 0.52 < 0.55
    assert refused is not None and refused.detail == "best passage relevance 0.520 < 0.55"
    assert gate(Question("Sentence?", "en"), [best], settings) is None  # cross-lingual: 0.52 >= 0.50


def test_ranking_takes_the_same_language_margin_off_a_passage_in_the_question_language():
    chunks = [Chunk(f"{lang}.txt", 0, 4, "Câu.", lang, "", None, ((0, 4),)) for lang in ("zh", "vi")]
    index = VectorIndex(BuildInfo("test", 2, 160), chunks, make_faiss(np.eye(2, dtype=np.float32)))
    query = np.array([0.60, 0.57], np.float32)  # the Chinese sentence scores 0.60, the Vietnamese one 0.57
    hits = [Hit(row, chunk) for row, chunk in enumerate(chunks)]
    margin = AnswerSettings(min_relevance=0.5, min_relevance_same_language=0.55).same_language_margin
    ranked = rerank(index, hits, query, "zh", margin)
    assert [h.chunk.language for h in ranked] == ["vi", "zh"]  # 0.57 against 0.60 - 0.05
    assert [h.relevance for h in ranked] == pytest.approx([0.57, 0.60], abs=1e-3)  # each keeps its own cosine
    assert [h.chunk.language for h in rerank(index, hits, query, "vi", margin)] == ["zh", "vi"]
    assert [h.chunk.language for h in rerank(index, hits, query, "zh", 0.0)] == ["zh", "vi"]


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
        cleaned = read_question(question, 500).text
    except BadQuestion:
        return
    assert cleaned == cleaned.strip() and "  " not in cleaned and 0 < len(cleaned) <= 500
    assert all(c.isprintable() for c in cleaned)
    assert read_question(cleaned, 500).text == cleaned


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When did Luxon visit Vietnam?", Kind.DATE),
        ("When ForceCommand is used, which variable holds the original command?", Kind.OTHER),  # a condition
        ("In which year did Vietnam and New Zealand establish their Strategic Partnership?", Kind.DATE),
        ("Việt Nam và New Zealand thiết lập quan hệ ngoại giao vào năm nào?", Kind.DATE),
        ("越南和新西兰设定在哪一年实现目标?", Kind.DATE),
        ("How many delegates attended?", Kind.NUMBER),
        ("Kim ngạch thương mại đạt bao nhiêu?", Kind.NUMBER),
        ("Timor-Leste trở thành thành viên thứ mấy của ASEAN?", Kind.OTHER),  # an ordinal, not a count
        ("新西兰每年向越南提供多少官方发展援助?", Kind.NUMBER),
        ("What are the four pillars of cooperation?", Kind.LIST),
        ("Việt Nam và New Zealand hợp tác trong những lĩnh vực nào?", Kind.LIST),
        ("双方同意在哪些领域加强合作?", Kind.LIST),
        ("Who co-chaired the meeting?", Kind.ENTITY),
        ("Tổng Thư ký ASEAN hiện nay là ai?", Kind.ENTITY),
        ("第26届东盟-韩国峰会在哪个国家举行?", Kind.ENTITY),
        ("Which leaders did Luxon meet?", Kind.LIST),  # several names: a list first
        ("What does the AI acronym stand for?", Kind.OTHER),
    ],
)
def test_the_kind_of_answer_is_read_from_the_question_in_each_language(question: str, kind: Kind) -> None:
    assert read_question(question, 500).kind is kind


def test_code_like_terms_are_read_from_the_question_in_any_language() -> None:
    assert read_question("What is the default of LoginGraceTime in sshd_config?", 500).terms == (
        "LoginGraceTime",
        "sshd_config",
    )
    assert read_question("Ed25519 密钥的默认长度是多少位？IPv6呢？", 500).terms == ("Ed25519", "IPv6")
    assert read_question("Who chaired the 26th ASEAN–Korea Summit in 2025 (30m)?", 500).terms == ()
    assert read_question("Storage= 选项的默认值是什么？", 500).terms == ("Storage",)  # a setting as a file writes it
