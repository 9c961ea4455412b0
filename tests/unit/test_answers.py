"""The answer record and the response that streams it, on hand-made passages: outcomes, notes, JSON, HTML."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from rag.answer.ask import Response, doubt
from rag.answer.checks import least_sure, support
from rag.answer.citations import citations_for
from rag.answer.decide import NOT_FOUND, decide, says_not_found, states_the_ordinal, unused_passage
from rag.answer.question import Question, read_question
from rag.answer.translate import quote_evidence
from rag.config import AnswerSettings
from rag.engines.protocols import Piece
from rag.records import Answer, Chunk, Outcome, Passage, Reason
from rag.web.render import answer_html
from tests.fakes import HashEmbedder

TEXT = "Thủ tướng New Zealand Christopher Luxon thăm Việt Nam năm 2024."
CHUNK = Chunk("nz.txt", 0, len(TEXT), TEXT, "vi", "Luxon thăm Việt Nam", "2024-02-27", ((0, len(TEXT)),))
PASSAGES = [Passage(1, CHUNK, 0, len(TEXT), TEXT, 0.71)]
QUESTION = "When did Luxon visit Vietnam?"


def steps(pieces: list[str], answer: Answer) -> Generator[str, None, Answer]:
    yield from pieces
    return answer


def test_a_response_yields_the_pieces_then_keeps_the_answer() -> None:
    final = Answer(QUESTION, "In 2024 [1].", "en", Outcome.ANSWERED, draft="In 2024 [1].")
    response = Response(steps(["In 2024", " [1]."], final))
    assert list(response) == ["In 2024", " [1]."]
    assert response.answer() is final and response.text() == "In 2024 [1]." and list(response) == []


def test_a_response_read_only_for_its_answer_runs_to_the_end() -> None:
    final = Answer(QUESTION, "x", "en", Outcome.ANSWERED)
    response = Response(steps(["a", "b", "c"], final))
    assert next(iter(response)) == "a"
    assert response.answer() is final


@pytest.mark.parametrize(
    ("draft", "trusted", "outcome", "reason", "detail"),
    [
        ("Luxon visited Vietnam in 2024 [1].", False, Outcome.ANSWERED, Reason.KEPT, ""),
        ("Luxon visited Vietnam on 27 February 2024 [1].", False, Outcome.ANSWERED, Reason.KEPT, ""),  # its date
        (
            "Luxon visited Vietnam in 2023 [1].",  # a year in no retrieved passage: the documents lack the answer
            False,
            Outcome.INVENTED,
            Reason.NUMBER_NOT_IN_PASSAGES,
            "2023 is not in the cited passages; 2023 is in no retrieved passage",
        ),
        (
            "Luxon visited Vietnam with Ardern [1].",
            False,
            Outcome.QUOTED,
            Reason.NAME_NOT_IN_PASSAGES,
            "Ardern is not in the cited passages",
        ),
        ("Luxon visited Vietnam.", False, Outcome.QUOTED, Reason.NO_CITATION, "no citation"),
        ("Luxon thăm Việt Nam [1].", False, Outcome.QUOTED, Reason.WRONG_LANGUAGE, "wrong language"),
        ("When did Luxon visit Vietnam? [1]", False, Outcome.QUOTED, Reason.RESTATES_QUESTION, "restates the question"),
        (
            "Luxon visited Vietnam in 2024 [1] and met Prime Minister",
            False,
            Outcome.QUOTED,
            Reason.CUT_OFF,
            "cut off mid-sentence",
        ),
        (
            "Luxon visited Vietnam in 2024 and met Prime Minister",
            False,
            Outcome.QUOTED,
            Reason.CUT_OFF,
            "cut off mid-sentence",
        ),
        ("NOT FOUND", True, Outcome.REFUSED, Reason.NOT_FOUND, ""),
    ],
)
def test_decide_names_how_the_answer_came_about(draft, trusted, outcome, reason, detail) -> None:
    settings = AnswerSettings(min_support=0.0, trust_not_found_below=1.0 if trusted else 0.0)
    decision = decide(draft, Question(QUESTION, "en"), PASSAGES, [CHUNK], HashEmbedder(), settings)
    assert (decision.outcome, decision.reason, decision.detail) == (outcome, reason, detail)
    expected = {Outcome.ANSWERED: draft, Outcome.REFUSED: NOT_FOUND["en"], Outcome.INVENTED: NOT_FOUND["en"]}.get(
        outcome, ""
    )  # "": quote instead
    assert decision.text == expected


def test_the_models_not_found_is_trusted_for_a_fact_and_weighed_for_a_yes_or_no() -> None:
    overruling = AnswerSettings(min_support=0.0, trust_not_found_below=0.0)  # every passage relevant enough
    fact = decide("NOT FOUND", read_question(QUESTION, 200), PASSAGES, [CHUNK], HashEmbedder(), overruling)
    assert (fact.outcome, fact.reason, fact.text) == (Outcome.REFUSED, Reason.NOT_FOUND, NOT_FOUND["en"])
    yes_no = read_question("Did Luxon visit Vietnam in 2024?", 200)
    weighed = decide("NOT FOUND", yes_no, PASSAGES, [CHUNK], HashEmbedder(), overruling)
    assert (weighed.outcome, weighed.reason, weighed.text) == (Outcome.OVERRULED, Reason.NOT_FOUND_OVERRULED, "")
    trusting = AnswerSettings(min_support=0.0, trust_not_found_below=1.0)  # no passage relevant enough
    assert decide("NOT FOUND", yes_no, PASSAGES, [CHUNK], HashEmbedder(), trusting).outcome is Outcome.REFUSED


@pytest.mark.parametrize(
    "draft",
    [
        "The maximum length of the PRETTY_NAME field is not specified in the given information [1].",
        "There is no information about the TCP port [1].",
        "Tài liệu không đề cập đến độ dài tối đa của trường này [1].",
        "文档中没有提到默认权限 [1]。",
        "Not found.",
    ],
)
def test_the_models_not_found_in_its_own_words_is_read_as_not_found(draft) -> None:
    overruling = AnswerSettings(min_support=0.0, trust_not_found_below=0.0)
    decision = decide(draft, read_question(QUESTION, 200), PASSAGES, [CHUNK], HashEmbedder(), overruling)
    assert (decision.outcome, decision.reason, decision.text) == (Outcome.REFUSED, Reason.NOT_FOUND, NOT_FOUND["en"])


@pytest.mark.parametrize(
    "draft",
    [
        "If /etc/os-release is not found, applications read /usr/lib/os-release [1].",
        "journald uses auto when Storage= is not specified [1].",
        "It ensures that no information is lost [1].",
        "No, the license does not grant trademark rights [1].",
    ],
)
def test_an_answer_that_only_uses_the_words_not_found_is_not_taken_for_one(draft) -> None:
    assert not says_not_found(draft)


def test_a_failed_draft_is_read_again_from_the_best_passage_or_one_nearly_as_relevant() -> None:
    second = Chunk("b.txt", 0, len(TEXT), TEXT, "vi", "Luxon", None, ((0, len(TEXT)),))
    question, settings = Question(QUESTION, "en"), AnswerSettings(max_source_gap=0.05)
    best, near, weaker = (
        PASSAGES[0],
        Passage(2, second, 0, 9, "Hà Nội.", 0.68),
        Passage(2, second, 0, 9, "Hà Nội.", 0.6),
    )
    assert unused_passage("Luxon visited Hanoi [2].", question, [best, near], settings) is best
    assert unused_passage("Luxon visited Hanoi [1].", question, [best, near], settings) is near
    assert unused_passage("Luxon visited Hanoi [1].", question, [best, weaker], settings) is None
    assert unused_passage("Luxon visited Hanoi [1].", question, [best], settings) is None


UNSURE = [
    Piece("Luxon", 0.05),
    Piece(" visited", 0.9),
    Piece(" Hanoi", 0.2),
    Piece(" in 2024", 0.97),
    Piece(" [1].", 0.3),
]


def test_the_least_sure_piece_is_one_the_model_added_to_the_question() -> None:
    # "Luxon" is copied from the question and " [1]." has no word: only what the answer adds is weighed
    assert least_sure(UNSURE, QUESTION) == ("Hanoi", 0.2)
    assert least_sure([Piece("Luxon visited Hanoi [1].")], QUESTION) is None  # an engine that gives no probabilities
    assert least_sure([Piece(" Hanoi", None)], QUESTION) is None


def test_a_kept_answer_names_the_word_the_model_was_unsure_of_under_the_bar() -> None:
    assert doubt(UNSURE, QUESTION, below=0.25) == "“Hanoi” (probability 0.20)"
    assert doubt(UNSURE, QUESTION, below=0.2) == ""  # 0.20 is not under 0.20
    assert doubt(UNSURE, QUESTION, below=0.0) == ""  # never
    assert doubt([Piece("Luxon visited Hanoi [1].")], QUESTION, below=0.25) == ""
    answer = Answer(QUESTION, "Luxon visited Hanoi [1].", "en", Outcome.ANSWERED, doubt="“Hanoi” (probability 0.20)")
    assert answer.note() == "the model was unsure of “Hanoi” (probability 0.20): check it against the source"
    assert answer.to_dict()["doubt"] == "“Hanoi” (probability 0.20)"
    assert "unsure of “Hanoi”" in answer_html(answer, 1)
    assert Answer(QUESTION, "Luxon visited Vietnam in 2024 [1].", "en", Outcome.ANSWERED).note() == ""


def test_quoted_evidence_is_marked_as_untranslated_or_as_a_machine_translation() -> None:
    assert quote_evidence(PASSAGES, "en") == (
        f"According to the documents: “{TEXT}” (in Vietnamese; no translation available, 27 February 2024) [1]"
    )
    assert quote_evidence(PASSAGES, "vi") == f"Theo tài liệu: “{TEXT}” (“Luxon thăm Việt Nam”, 27/2/2024) [1]"
    translated = quote_evidence(PASSAGES, "zh", {1: "新西兰总理卢克松于2024年访问越南。"})
    assert translated == "根据文档： “新西兰总理卢克松于2024年访问越南。”（机器翻译自越南文，2024年2月27日）[1]"


def test_the_note_tells_why_the_draft_is_not_the_answer() -> None:
    def answer(outcome: Outcome, detail: str = "") -> Answer:
        return Answer(QUESTION, "text", "en", outcome, draft="draft", detail=detail)

    assert answer(Outcome.ANSWERED).note() == ""
    assert "(no citation)" in answer(Outcome.QUOTED, "no citation").note()
    assert "NOT FOUND" in answer(Outcome.OVERRULED).note()
    assert "0.412 < 0.55" in answer(Outcome.GATED, "best passage relevance 0.412 < 0.55").note()
    assert "no answer" in answer(Outcome.REFUSED).note()
    assert "documents are taken not to hold" in answer(Outcome.INVENTED, "12 is in no retrieved passage").note()
    assert [answer(o).abstained for o in Outcome] == [False, False, False, True, True, True]


def test_the_answer_html_links_valid_citations_and_shows_the_note() -> None:
    cited = citations_for("[1]", PASSAGES)
    quoted = Answer(QUESTION, "See [1] and [2] <b>", "en", Outcome.QUOTED, detail="no citation", citations=cited)
    html = answer_html(quoted, turn=3)
    assert '<a class="cite" href="#src-3-1">[1]</a>' in html and "[2]" in html and 'href="#src-3-2"' not in html
    assert "&lt;b&gt;" in html and '<em class="note">(the draft failed a check (no citation)' in html
    assert "note" not in answer_html(Answer(QUESTION, "ok [1]", "en", Outcome.ANSWERED), turn=1)


@pytest.mark.parametrize(
    ("reply", "kept"),
    [
        ("Luxon visited Vietnam in 2024.", "Luxon visited Vietnam in 2024."),
        (
            "Here is the translation into English:\n\n“Luxon visited Vietnam in 2024.”",
            "“Luxon visited Vietnam in 2024.”",
        ),
        ("Luxon visited Vietnam in 2024.\n\nNote: the year is as written.", "Luxon visited Vietnam in 2024."),
        ("  \n", ""),
        (
            "Hai bên tập trung vào năm trụ cột, bao gồm:\n\n(1) Chính trị;\n(2) Quốc phòng.\n\nNote: as written.",
            "Hai bên tập trung vào năm trụ cột, bao gồm: (1) Chính trị; (2) Quốc phòng.",
        ),
    ],
)
def test_a_translation_is_the_replys_first_paragraph_of_content(reply: str, kept: str) -> None:
    from rag.answer.translate import one_paragraph

    assert one_paragraph(reply) == kept


def test_chat_models_get_the_fixed_instructions_as_the_system_message() -> None:
    from rag.answer.prompt import build_prompt, translation_prompt

    for prompt in (build_prompt(QUESTION, PASSAGES, "en"), translation_prompt(TEXT, "en")):
        system, user = prompt.messages()
        assert (system["role"], system["content"], user["role"]) == ("system", prompt.system, "user")
        assert TEXT in user["content"] and TEXT not in system["content"]
    assert "Chinese characters" in translation_prompt(TEXT, "en").user
    assert "Chinese characters" not in translation_prompt(TEXT, "zh").user


def test_the_model_reads_a_chinese_amount_in_the_scale_of_the_language_it_writes() -> None:
    from rag.answer.prompt import build_prompt, translation_prompt

    text = "双方同意设定2026年双边贸易额达到30亿美元的目标。"
    chunk = Chunk("zh.txt", 0, len(text), text, "zh", "联合声明", "2025-02-25", ((0, len(text)),))
    passages = [Passage(1, chunk, 0, len(text), text, 0.7)]
    assert "3 billion 美元" in build_prompt("What trade target was set?", passages, "en").user
    assert "3 tỷ 美元" in translation_prompt(text, "vi").user
    assert "30亿美元" in build_prompt("设定了什么贸易目标?", passages, "zh").user


PARTNERS = (
    "Các nhà lãnh đạo ASEAN và New Zealand nâng cấp quan hệ lên Đối tác Chiến lược toàn diện năm 2025; "
    "Việt Nam và New Zealand là Đối tác Chiến lược toàn diện từ năm 2025."
)
PARTNER_CHUNK = Chunk("p.txt", 0, len(PARTNERS), PARTNERS, "vi", "ASEAN - New Zealand", "2025-10-28", ((0, 90),))


PILLARS = "Hai bên thống nhất bốn trụ cột hợp tác: Hòa bình, Thịnh vượng, Con người và Hành tinh."
OTHER_LIST = "Hai nước tăng cường hợp tác chính trị, quốc phòng, kinh tế và giáo dục."


@pytest.mark.parametrize(
    ("weaker", "draft", "reason"),
    [
        (0.55, "The four pillars are politics, defence, economy and education [2].", Reason.WEAKER_SOURCE),
        (0.55, "The four pillars are peace, prosperity, people and planet [1].", Reason.KEPT),
        (0.55, "The pillars are peace and prosperity [1], besides politics [2].", Reason.KEPT),  # cites the best too
        (0.66, "The four pillars are politics, defence, economy and education [2].", Reason.KEPT),  # close behind
    ],
)
def test_a_draft_drawn_only_from_a_clearly_weaker_source_is_not_kept(weaker: float, draft: str, reason: Reason):
    best = Chunk("a.txt", 0, len(PILLARS), PILLARS, "vi", "ASEAN - New Zealand", None, ((0, len(PILLARS)),))
    other = Chunk("b.txt", 0, len(OTHER_LIST), OTHER_LIST, "vi", "Việt Nam - New Zealand", None, ((0, 70),))
    passages = [Passage(1, best, 0, len(PILLARS), PILLARS, 0.68), Passage(2, other, 0, 70, OTHER_LIST, weaker)]
    asked = read_question("What are the four pillars of ASEAN–New Zealand cooperation?", 200)
    decision = decide(draft, asked, passages, [best, other], HashEmbedder(), AnswerSettings(min_support=0.0))
    assert decision.reason == reason, decision.detail
    off = decide(draft, asked, passages, [best, other], HashEmbedder(), AnswerSettings(min_support=0, max_source_gap=0))
    assert off.reason == Reason.KEPT  # the check can be turned off


@pytest.mark.parametrize(
    ("question", "draft", "reason"),
    [
        (
            "When did ASEAN and New Zealand upgrade relations?",
            "They upgraded relations in Vietnam [1].",
            Reason.WRONG_KIND,
        ),
        ("When did ASEAN and New Zealand upgrade relations?", "They upgraded relations in 2025 [1].", Reason.KEPT),
        (
            "How many pillars did ASEAN and New Zealand agree?",
            "They agreed on the pillars of peace and trade [1].",
            Reason.WRONG_KIND,
        ),
        (  # a count of one is a number, though "one" and "một" are not read as numbers elsewhere
            "How many summits did ASEAN and New Zealand hold?",
            "ASEAN and New Zealand held only one summit [1].",
            Reason.KEPT,
        ),
        ("ASEAN và New Zealand tổ chức bao nhiêu hội nghị?", "Hai bên tổ chức một hội nghị cấp cao [1].", Reason.KEPT),
        ("东盟与新西兰举行了多少次峰会？", "双方举行了一次峰会[1]。", Reason.KEPT),
        ("Which areas did ASEAN and New Zealand choose?", "They chose the strategic area [1].", Reason.WRONG_KIND),
        ("Which areas did ASEAN and New Zealand choose?", "Strategy, trade and people [1].", Reason.KEPT),
        (
            "When did ASEAN and New Zealand upgrade relations?",
            "Vietnam and New Zealand upgraded relations in 2025 [1].",
            Reason.SWAPPED_SUBJECT,
        ),
        (  # the question's own pair, repeated in a longer name, is no swap
            "When was the ASEAN–New Zealand Commemorative Summit held?",
            "The ASEAN–New Zealand Commemorative Summit was held in 2025 [1].",
            Reason.KEPT,
        ),
        (
            "Who upgraded relations with New Zealand in 2025?",
            "New Zealand upgraded them to a comprehensive strategic partnership [1].",
            Reason.WRONG_KIND,
        ),
        (
            "Who upgraded relations with New Zealand in 2025?",
            "ASEAN upgraded relations with New Zealand [1].",
            Reason.KEPT,
        ),
        (
            "Ai nâng cấp quan hệ với New Zealand năm 2025?",
            "New Zealand nâng cấp quan hệ lên đối tác chiến lược toàn diện [1].",
            Reason.WRONG_KIND,
        ),
        (  # "Khi" (when) is capitalized by its place, not part of a name
            "Khi nào ASEAN và New Zealand nâng cấp quan hệ?",
            "Khi ASEAN và New Zealand nâng cấp quan hệ lên Đối tác Chiến lược toàn diện năm 2025 [1].",
            Reason.KEPT,
        ),
        ("东盟与新西兰何时升级关系？", "2025年，越南与新西兰升级为全面战略伙伴[1]。", Reason.SWAPPED_SUBJECT),
        ("东盟与新西兰升级为什么关系？", "它们升级为Đối tác Chiến lược toàn diện [1]。", Reason.WRONG_LANGUAGE),
        ("东盟与新西兰何时升级关系？", "2025年，新西兰与东盟升级为全面战略伙伴[1]。", Reason.KEPT),
    ],
)
def test_an_answer_of_the_wrong_kind_or_subject_is_not_kept(question: str, draft: str, reason: Reason) -> None:
    passages = [Passage(1, PARTNER_CHUNK, 0, len(PARTNERS), PARTNERS, 0.7)]
    asked = read_question(question, 200)
    decision = decide(draft, asked, passages, [PARTNER_CHUNK], HashEmbedder(), AnswerSettings(min_support=0.0))
    assert decision.reason == reason, decision.detail


@pytest.mark.parametrize(
    ("question", "draft", "reason"),
    [
        (  # restating a yes/no question as a statement answers it
            "ASEAN và New Zealand có nâng cấp quan hệ lên Đối tác Chiến lược toàn diện không?",
            "ASEAN và New Zealand có nâng cấp quan hệ lên Đối tác Chiến lược toàn diện [1].",
            Reason.KEPT,
        ),
        ("东盟与新西兰是否升级了关系？", "东盟与新西兰升级了关系[1]。", Reason.KEPT),
        (
            "Did ASEAN and New Zealand upgrade relations?",
            "Yes. ASEAN and New Zealand upgraded relations [1].",
            Reason.KEPT,
        ),
        (  # repeating it as a question does not
            "Did ASEAN and New Zealand upgrade relations?",
            "Did ASEAN and New Zealand upgrade relations? [1]",
            Reason.RESTATES_QUESTION,
        ),
        (
            "When did ASEAN and New Zealand upgrade relations?",
            "ASEAN and New Zealand upgraded relations [1].",
            Reason.RESTATES_QUESTION,
        ),
    ],
)
def test_a_yes_no_question_is_answered_by_a_statement_of_it(question: str, draft: str, reason: Reason) -> None:
    passages = [Passage(1, PARTNER_CHUNK, 0, len(PARTNERS), PARTNERS, 0.7)]
    asked = read_question(question, 200)
    decision = decide(draft, asked, passages, [PARTNER_CHUNK], HashEmbedder(), AnswerSettings(min_support=0.0))
    assert decision.reason == reason, decision.detail


def test_a_sentence_that_only_says_yes_or_no_is_not_compared_with_the_sources() -> None:
    passages = [Passage(1, PARTNER_CHUNK, 0, len(PARTNERS), PARTNERS, 0.7)]
    for said in ("Yes.", "Không.", "是的。"):
        assert len(support(f"{said} ASEAN và New Zealand nâng cấp quan hệ [1].", passages, HashEmbedder())) == 1


def test_a_rank_the_documents_never_state_is_not_answered() -> None:
    jcc = "Cuộc họp lần thứ 6 Ủy ban Hợp tác chung ASEAN - New Zealand diễn ra ngày 2/7/2018."
    texts = {"nz.txt": "JCC\n" + jcc, "summit.txt": "The 26th ASEAN–Korea Summit was held on the 27th."}

    def document(source: str) -> str:
        return texts[source]

    chunk = Chunk("nz.txt", 0, len(jcc), jcc, "vi", "JCC", None, ((0, len(jcc)),))
    passages = [Passage(1, chunk, 0, len(jcc), jcc, 0.7)]
    seventh = states_the_ordinal(
        read_question("第七届东盟-新西兰联合合作委员会会议是在何时举行的?", 200), passages, document
    )
    assert seventh is not None and (seventh.outcome, seventh.reason) == (Outcome.GATED, Reason.UNSTATED_ORDINAL)
    assert seventh.detail == "no document found states 第七届" and seventh.text == NOT_FOUND["zh"]
    for held in ("When was the 6th ASEAN–New Zealand JCC held?", "第六届会议在哪里举行?", "JCC lần thứ 6 họp ở đâu?"):
        assert states_the_ordinal(read_question(held, 200), passages, document) is None
    assert states_the_ordinal(read_question("When was the JCC held?", 200), passages, document) is None
    summit = Chunk("summit.txt", 0, 10, "The 26th", "en", "", None, ((0, 10),))
    on_the_day = [Passage(1, summit, 0, 10, "The 26th", 0.7)]  # "the 27th" of a month: a day the text states
    assert (
        states_the_ordinal(read_question("What happened at the 26th summit on the 27th?", 200), on_the_day, document)
        is None
    )
