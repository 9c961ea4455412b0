"""The answer stage with the real models (slow): the semantic support check on real multilingual sentence pairs,
the span cut of a list (one separated by semicolons kept whole), translation checked against its original, replies
that depend on their prompt only (after any earlier prompt, and after warming up), the probability each piece
carries and the doubt it marks an answer with, and the sample question answered in English."""

from __future__ import annotations

import pytest

from rag.answer.ask import ask
from rag.answer.checks import support
from rag.answer.citations import without_markers
from rag.answer.prompt import build_prompt, fixed_prompts, translation_prompt
from rag.answer.translate import translate
from rag.config import PROJECT_DIR, load_settings
from rag.engines.protocols import joined
from rag.evaluation import load_gold
from rag.language import written_in
from rag.pipeline import make_generator
from rag.records import Chunk, Outcome, Passage
from rag.search.spans import focus

VI_PILLARS = (
    "Các nhà lãnh đạo ASEAN và New Zealand đã thông qua Tuyên bố Tầm nhìn chung, trong đó nhất trí nâng cấp quan hệ "
    "lên Đối tác Chiến lược toàn diện, cùng với bốn trụ cột hợp tác về Hòa bình, Thịnh vượng, Con người và Hành tinh."
)
ZH_TRADE = "双方同意设定2026年双边贸易额达到30亿美元的目标。"
VI_UPGRADE = (
    "Ngày 28/10/2025, các nhà lãnh đạo ASEAN và New Zealand nhất trí nâng cấp quan hệ lên Đối tác Chiến lược toàn diện."
)


def passage(text: str, language: str, title: str = "") -> Passage:
    chunk = Chunk("x.txt", 0, len(text), text, language, title, None, ((0, len(text)),))
    return Passage(1, chunk, 0, len(text), text, 0.7)


@pytest.mark.parametrize(
    ("evidence", "language", "backed", "unbacked"),
    [
        (
            VI_PILLARS,
            "vi",
            "ASEAN and New Zealand upgraded their relations to a Comprehensive Strategic Partnership [1].",
            "ASEAN and New Zealand signed a free trade agreement on fisheries [1].",
        ),
        (
            ZH_TRADE,
            "zh",
            "Hai nước đặt mục tiêu kim ngạch thương mại song phương năm 2026 [1].",
            "Hai nước nhất trí tăng cường hợp tác quốc phòng và an ninh biển [1].",
        ),
        pytest.param(
            VI_PILLARS,
            "vi",
            "双方同意将关系提升为全面战略伙伴关系[1]。",
            "双方讨论了朝鲜半岛无核化问题[1]。",
            marks=pytest.mark.xfail(
                strict=False,
                reason="a Chinese claim against Vietnamese evidence scores 0.46, under the hand-set min_support 0.50: "
                "the threshold is still to be chosen on the gold set",
            ),
        ),
    ],
)
def test_support_separates_a_translated_claim_from_an_unrelated_one(
    real_embedder, evidence, language, backed, unbacked
):
    threshold = load_settings().answer.min_support
    passages = [passage(evidence, language)]
    assert support(backed, passages, real_embedder)[0] >= threshold > support(unbacked, passages, real_embedder)[0]


@pytest.mark.parametrize(
    "question",
    [
        "What are the four pillars of cooperation agreed at the ASEAN–New Zealand Commemorative Summit?",
        "东盟与新西兰纪念峰会上确定的四大合作支柱是什么?",
    ],
)
def test_the_span_cut_keeps_the_clause_that_answers_a_list_question(real_embedder, question):
    """The seed sentence is longer than a span: without its document's title the clause naming the leaders scores
    above the bare list of pillars, and the list was cut away."""
    sentence = (
        "Các nhà lãnh đạo ASEAN và New Zealand đã thông qua Tuyên bố Tầm nhìn chung kỷ niệm 50 năm quan hệ đối thoại "
        "ASEAN-New Zealand, trong đó nhất trí nâng cấp quan hệ lên Đối tác Chiến lược toàn diện, cùng với bốn trụ cột "
        "hợp tác về Hòa bình, Thịnh vượng, Con người và Hành tinh."
    )
    whole = passage(sentence, "vi", title="Hội nghị Cấp cao Kỷ niệm ASEAN - New Zealand.")
    span_chars = load_settings().search.span_chars
    assert len(sentence) > span_chars
    span = focus(whole, real_embedder.embed_queries([question])[0], real_embedder, span_chars)
    assert "Hòa bình, Thịnh vượng, Con người và Hành tinh" in span.text, span.text


@pytest.mark.parametrize(
    "question",
    [
        "Which areas of common interest did ASEAN and New Zealand agree to consider for closer cooperation at the 2018 "
        "JCC meeting?",
        "2018年东盟-新西兰联合合作委员会会议上,双方同意考虑在哪些共同关心的领域加强合作?",
    ],
)
def test_the_span_cut_keeps_a_list_separated_by_semicolons_whole(real_embedder, question):
    """The seed sentence lists ten areas separated by semicolons; cut at the span's length, it stopped after the
    first ("phụ nữ, hòa bình và an ninh") and the model gave that as the whole answer."""
    sentence = (
        "Trong thời gian tới, cả hai khu vực đã đồng ý xem xét tăng cường hợp tác trong các lĩnh vực có lợi ích chung "
        "như phụ nữ, hòa bình và an ninh; tội phạm xuyên quốc gia bao gồm chống khủng bố và an ninh mạng; doanh "
        "nghiệp nhỏ, vừa; thanh niên, giáo dục và đào tạo nghề; khí hậu thay đổi; quản lý rủi ro thiên tai; phát "
        "triển bền vững; sức khỏe và lão hóa tích cực; bảo tồn di sản sinh vật; và kết nối."
    )
    whole = passage(
        sentence, "vi", title="Khẳng định cam kết tăng cường quan hệ đối tác chiến lược ASEAN - New Zealand"
    )
    span_chars = load_settings().search.span_chars
    assert len(sentence) > span_chars
    span = focus(whole, real_embedder.embed_queries([question])[0], real_embedder, span_chars)
    assert "phụ nữ" in span.text and "tội phạm" in span.text and "khí hậu thay đổi" in span.text, span.text


def test_a_translation_by_the_default_model_passes_its_checks(real_embedder, real_generator):
    similarity = load_settings().answer.min_translation_similarity
    english = translate(passage(VI_UPGRADE, "vi"), "en", real_generator, real_embedder, similarity)
    assert "2025" in english and "strategic partnership" in english.lower(), english


@pytest.mark.xfail(
    strict=False,
    reason="known miss: the 1.5B model renders 'nâng cấp quan hệ lên Đối tác Chiến lược toàn diện' as 'strengthening "
    "their strategic partnership', and the semantic check (cosine ≥ 0.70) accepts the lost 'comprehensive'",
)
def test_a_translation_keeps_every_qualifier_of_the_fact(real_embedder, real_generator):
    similarity = load_settings().answer.min_translation_similarity
    english = translate(passage(VI_UPGRADE, "vi"), "en", real_generator, real_embedder, similarity)
    assert english == "" or "comprehensive strategic partnership" in english.lower(), english


def test_a_translation_that_misreads_an_amount_is_refused_not_shown(real_embedder, real_generator):
    """30亿 is 3 billion; a small model often writes "30 billion", which the number check must refuse."""
    similarity = load_settings().answer.min_translation_similarity
    english = translate(passage(ZH_TRADE, "zh"), "en", real_generator, real_embedder, similarity)
    assert english == "" or ("3 billion" in english and "2026" in english), english


@pytest.mark.parametrize(
    ("question", "evidence"),
    [
        ("When did ASEAN and New Zealand upgrade their relations?", VI_UPGRADE),
        ("What are the four pillars of ASEAN–New Zealand cooperation?", VI_PILLARS),
    ],
)
def test_a_reply_depends_on_its_prompt_not_on_what_the_model_read_before(real_generator, question, evidence):
    """Greedy replies to the same prompt, first, after another answer, after a translation and again: each used to
    change with the KV cache the previous prompt left (both cases measured), so that asking twice differed."""
    answer = build_prompt(question, [passage(evidence, "vi", "ASEAN - New Zealand")], "en")
    other = build_prompt("双方的贸易目标是多少？", [passage(ZH_TRADE, "zh")], "zh")
    replies = []
    for before in (None, other, translation_prompt(VI_PILLARS, "en"), answer):
        if before is not None:
            joined(real_generator.stream(before))
        replies.append(joined(real_generator.stream(answer)))
    assert len(set(replies)) == 1, replies


def test_a_generator_warmed_up_for_the_first_question_replies_as_any_other(real_settings, real_generator):
    """Warming up reads the instructions ahead of the first question; the reply must not change with it."""
    answer = build_prompt("When did ASEAN and New Zealand upgrade their relations?", [passage(VI_UPGRADE, "vi")], "en")
    warmed = make_generator(real_settings.engines)
    warmed.warm_up(fixed_prompts())
    assert joined(warmed.stream(answer)) == joined(real_generator.stream(answer))


def test_each_piece_carries_the_probability_the_model_gave_it(real_generator):
    """Greedy decoding copies most tokens with near certainty and hesitates over a few: the probabilities the
    unsure-answer check reads must be the model's own, not a constant."""
    answer = build_prompt(
        "What are the four pillars of ASEAN–New Zealand cooperation?", [passage(VI_PILLARS, "vi")], "en"
    )
    probabilities = [piece.probability for piece in real_generator.stream(answer)]
    assert probabilities and all(0.0 < p <= 1.0 for p in probabilities), probabilities
    assert max(probabilities) > 0.9 and min(probabilities) < 0.9, probabilities


def test_an_answer_the_model_was_unsure_of_is_marked_and_a_copied_one_is_not(real_pipeline):
    """Whom Luxon held talks with: the 1.5B model writes "Nguyễn Minh Chính" for Phạm Minh Chính and gives "Nguyễn"
    a probability of 0.13. The year of the ASEAN–Korea upgrade is copied with certainty."""
    unsure = ask(
        "Trong chuyến thăm chính thức Việt Nam năm 2025, Thủ tướng Christopher Luxon hội đàm với ai?", real_pipeline
    )
    assert unsure.answer().outcome == Outcome.ANSWERED and unsure.answer().doubt, unsure.answer().text
    sure = ask("Quan hệ ASEAN - Hàn Quốc được nâng cấp lên Đối tác Chiến lược toàn diện vào năm nào?", real_pipeline)
    assert sure.answer().outcome == Outcome.ANSWERED and "2024" in sure.answer().text and not sure.answer().doubt


def test_the_sample_question_is_answered_in_english_with_the_summit_date_and_a_citation(sample_answer):
    result = sample_answer
    assert result.outcome in (Outcome.ANSWERED, Outcome.QUOTED) and result.citations
    assert any(day in result.text for day in ("28 October 2025", "October 28, 2025")), result.text
    assert "000_ce3c90c106d94d56.txt" in {c.source for c in result.citations}
    words = [w for w in result.text.split() if w[:1].islower()]
    assert not any(w in {"các", "và", "nhà", "quan", "hệ"} for w in words), result.text  # no Vietnamese quote


def test_cross_language_answers_are_written_in_the_askers_language(real_pipeline):
    """The first two answerable gold questions per language whose source is in another language: the whole answer
    (quotes included, markers and names aside) must read as the question's language for at least 4 of the 6; the
    full gold set measured 0.88 (eval/REPORT.md)."""
    sources = {c.source: c.language for c in real_pipeline.index.chunks}
    chosen = []
    for language in ("en", "vi", "zh"):
        foreign = [
            item
            for item in load_gold(PROJECT_DIR / "eval" / "gold.jsonl")
            if item.lang == language and item.answerable and all(sources.get(s) != language for s in item.sources)
        ]
        chosen += foreign[:2]
    answers = [ask(item.question, real_pipeline).answer() for item in chosen]
    in_language = [written_in(without_markers(a.text), item.lang) for item, a in zip(chosen, answers, strict=True)]
    assert len(chosen) == 6 and sum(in_language) >= 4, [a.text for a in answers]
