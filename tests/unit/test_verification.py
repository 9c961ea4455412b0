"""The checks a draft answer must pass, on hand-made multilingual passages: citations, language, dates and numbers
across notations, names across scripts, restatements, and semantic support (with a bag-of-words stand-in)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from rag.answer.checks import cite_best, evidence_sentences, invented_number, support, unsupported_name
from rag.answer.decide import Draft, first_failure
from rag.answer.question import Question
from rag.config import AnswerSettings
from rag.engines.protocols import Embedder
from rag.records import Chunk, Passage
from rag.search.spans import clauses, focus
from tests.fakes import HashEmbedder


def failed_check(
    text: str,
    passages: list[Passage],
    question: str,
    language: str,
    embedder: Embedder | None = None,
    min_support: float = 0.0,
) -> str:
    """The detail of the first check `text` fails, "" when it passes them all."""
    settings = AnswerSettings(min_support=min_support, max_source_gap=0.0)
    draft = Draft(text, Question(question, language), tuple(passages), embedder or HashEmbedder(), settings)
    found = first_failure(draft)
    return found.detail if found else ""


VI = (
    "Các nhà lãnh đạo ASEAN và New Zealand nhất trí nâng cấp quan hệ lên Đối tác Chiến lược toàn diện, "
    "với bốn trụ cột hợp tác về Hòa bình, Thịnh vượng, Con người và Hành tinh."
)
ZH = "双方同意设定2026年双边贸易额达到30亿美元的目标。新西兰总理克里斯托弗·卢克松于2025年2月25日至28日访问越南。"


def passage(n: int, text: str, language: str, date: str | None = "2025-10-28", title: str = "") -> Passage:
    chunk = Chunk(f"{language}.txt", 0, len(text), text, language, title, date, ((0, len(text)),))
    return Passage(n, chunk, 0, len(text), text, 0.7)


PASSAGES = [
    passage(1, VI, "vi", title="Hội nghị Cấp cao Kỷ niệm ASEAN - New Zealand"),
    passage(2, ZH, "zh", "2025-02-28"),
]


@pytest.mark.parametrize(
    ("draft", "language", "reason"),
    [
        ("On 28 October 2025 the leaders agreed to a Comprehensive Strategic Partnership [1].", "en", ""),
        ("The four pillars are peace, prosperity, people and planet [1].", "en", ""),
        ("They set a US$3 billion trade target for 2026 [2].", "en", ""),
        ("Hai nước đặt mục tiêu thương mại 3 tỷ USD vào năm 2026 [2].", "vi", ""),
        ("Prime Minister Christopher Luxon visited Vietnam from 25 to 28 February 2025 [2].", "en", ""),
        ("双方同意将关系提升为全面战略伙伴关系，并确定和平、繁荣、人民和地球四大支柱[1]。", "zh", ""),
        ("They set a US$30 billion trade target for 2026 [2].", "en", "3e+10 is not in the cited passages"),
        ("The leaders met on 29 October 2025 [1].", "en", "2025-10-29 is not in the cited passages"),
        ("The leaders met in Kuala Lumpur [1].", "en", "Kuala Lumpur is not in the cited passages"),
        (
            "Luxon visited Vietnam on 25 February 2025 [2].",
            "en",
            "gives one end of the span 2025-02-25..2025-02-28 only",
        ),
        (
            "Ngày 28/2/2025, Thủ tướng Luxon rời Việt Nam [2].",
            "vi",
            "gives one end of the span 2025-02-25..2025-02-28 only",
        ),
        ("They agreed on four pillars [1] and five goals [1].", "en", "5 is not in the cited passages"),
        ("Bốn trụ cột là Hòa bình, Thịnh vượng, Con người và Hành tinh [1].", "en", "wrong language"),
        ("The leaders agreed to upgrade relations.", "en", "no citation"),
        ("[1]", "en", "empty answer"),
        ("When did ASEAN and New Zealand become partners? [1]", "en", "restates the question"),
        ("They agreed on the following pillars: [1]", "en", "announces what it does not give"),
    ],
)
def test_each_check_passes_translations_and_catches_inventions(draft, language, reason):
    question = "When did ASEAN and New Zealand become partners?"
    assert failed_check(draft, PASSAGES, question, language) == reason


def test_names_must_come_from_the_passages_but_translated_terms_may_be_english_words():
    vi, zh = [PASSAGES[0]], [PASSAGES[1]]
    assert unsupported_name("At the Commemorative Summit, South Korea and ASEAN", vi, "?", "en") == ""
    assert unsupported_name("The summit was held in Kuala Lumpur", vi, "?", "en") == "Kuala Lumpur"
    assert unsupported_name("Thủ tướng Ardern dự hội nghị", vi, "?", "vi") == "Ardern"
    assert unsupported_name("Thủ tướng Jacinda Ardern dự hội nghị", vi, "?", "vi") == "Jacinda Ardern"
    assert unsupported_name("Luxon visited Vietnam", zh, "Who visited?", "en") == ""  # 卢克松: left to support


def test_a_word_capitalized_by_its_place_in_the_sentence_is_not_part_of_the_name():
    text = "Quan hệ ASEAN - Hàn Quốc được nâng cấp lên Đối tác Chiến lược toàn diện năm 2024."
    korea = [passage(1, text, "vi")]
    assert unsupported_name("Khi ASEAN và Hàn Quốc nâng cấp quan hệ năm 2024 [1].", korea, "?", "vi") == ""
    assert unsupported_name("Năm 2024, ASEAN và Hàn Quốc nâng cấp quan hệ [1].", korea, "?", "vi") == ""
    assert unsupported_name("Khi ASEAN và Nhật Bản nâng cấp quan hệ [1].", korea, "?", "vi") == "Nhật Bản"
    assert unsupported_name("Ông Kishida và ASEAN nâng cấp quan hệ [1].", korea, "?", "vi") == "Ông Kishida"


def test_a_name_of_several_words_is_looked_up_whole_not_word_by_word():
    text = "Thủ tướng Phạm Minh Chính hội đàm với Thủ tướng Luxon theo nguyên tắc bình đẳng."
    talks = [passage(1, text, "vi")]
    assert unsupported_name("Ông Luxon hội đàm với Nguyễn Minh Chính [1].", talks, "?", "vi") == "Nguyễn Minh Chính"
    assert unsupported_name("Ông Luxon hội đàm với Phạm Minh Chính [1].", talks, "?", "vi") == ""
    assert unsupported_name("Luxon held talks with Prime Minister Pham Minh Chinh [1].", talks, "?", "en") == ""
    assert unsupported_name("Luxon held talks with Prime Minister Hoang Minh Chinh [1].", talks, "?", "en") != ""


def test_a_sentence_far_from_its_passage_fails_the_support_check():
    embedder = HashEmbedder()  # bag of words: shared words make sentences close
    close = "Các nhà lãnh đạo ASEAN và New Zealand nhất trí nâng cấp quan hệ [1]."
    far = "Giá vàng hôm nay tăng mạnh [1]."
    assert support(close, PASSAGES, embedder)[0] > 0.5 > support(far, PASSAGES, embedder)[0]
    reason = failed_check(far, PASSAGES, "Giá vàng?", "vi", embedder, min_support=0.5)
    assert reason.startswith("a sentence is not backed by its passage")
    assert failed_check(close, PASSAGES, "Quan hệ?", "vi", embedder, min_support=0.5) == ""


def test_support_compares_each_sentence_with_the_passages_it_cites():
    embedder = HashEmbedder()
    text = "Các nhà lãnh đạo ASEAN và New Zealand nhất trí nâng cấp quan hệ [2]."  # cites the wrong passage
    assert support(text, PASSAGES, embedder)[0] < 0.3
    assert evidence_sentences(PASSAGES[1]) == [
        "双方同意设定2026年双边贸易额达到30亿美元的目标。",
        "新西兰总理克里斯托弗·卢克松于2025年2月25日至28日访问越南。",
    ]


def test_clauses_split_at_latin_and_chinese_commas_but_keep_lists_whole():
    text = "Tại Hội nghị Cấp cao lần này, cùng với bốn trụ cột Hòa bình, Thịnh vượng, Con người và Hành tinh; 双方同意设定贸易目标，重点加强五大合作支柱"
    assert [text[a:b] for a, b in clauses(text)] == [
        "Tại Hội nghị Cấp cao lần này,",
        "cùng với bốn trụ cột Hòa bình, Thịnh vượng, Con người và Hành tinh;",
        "双方同意设定贸易目标，",
        "重点加强五大合作支柱",
    ]


def test_a_clause_does_not_end_inside_an_address_a_number_or_a_time():
    text = (
        "Ask on the list (http://lists.debian.org/debian-mentors/) at 10:30, or write to the 1,5 tỷ người of the team"
    )
    assert [text[a:b] for a, b in clauses(text)] == [
        "Ask on the list (http://lists.debian.org/debian-mentors/) at 10:30,",
        "or write to the 1,5 tỷ người of the team",
    ]


def test_focus_keeps_the_best_clause_and_exact_offsets():
    embedder = HashEmbedder()
    text = (
        "Tại Hội nghị, Chủ tịch ASEAN 2025 Malaysia, lãnh đạo các nước ASEAN đều cảm ơn nỗ lực của Việt Nam, "
        "trong vai trò nước điều phối quan hệ đối thoại ASEAN-New Zealand giai đoạn 7/2024-7/2027, "
        "đã tích cực điều phối và hoàn thành đàm phán các văn kiện quan trọng."
    )
    document = "Tiêu đề.\n" + text
    chunk = Chunk("a.txt", 9, len(document), text, "vi", "Tiêu đề", None, ((9, len(document)),))
    whole = Passage(1, chunk, 9, len(document), text, 0.7)
    query = embedder.embed_queries(["nước điều phối quan hệ đối thoại ASEAN-New Zealand giai đoạn nào"])[0]
    span = focus(whole, query, embedder, max_chars=120)
    assert "nước điều phối quan hệ đối thoại ASEAN-New Zealand giai đoạn 7/2024-7/2027" in span.text
    assert len(span.text) <= 120 and document[span.start : span.end] == span.text
    assert focus(whole, query, embedder, max_chars=1000) is whole


def test_focus_keeps_a_list_separated_by_semicolons_whole_up_to_twice_the_span():
    embedder = HashEmbedder()
    text = (
        "Cả hai khu vực đã đồng ý xem xét tăng cường hợp tác trong các lĩnh vực có lợi ích chung như phụ nữ, hòa bình "
        "và an ninh; tội phạm xuyên quốc gia bao gồm chống khủng bố và an ninh mạng; doanh nghiệp nhỏ, vừa; thanh niên, "
        "giáo dục và đào tạo nghề; khí hậu thay đổi; quản lý rủi ro thiên tai."
    )
    chunk = Chunk("a.txt", 0, len(text), text, "vi", "Tiêu đề", None, ((0, len(text)),))
    whole = Passage(1, chunk, 0, len(text), text, 0.7)
    query = embedder.embed_queries(["hợp tác trong các lĩnh vực có lợi ích chung nào"])[0]
    span = focus(whole, query, embedder, max_chars=len(text) // 2 + 10)
    assert span.text == text and (span.start, span.end) == (0, len(text))
    cut = focus(whole, query, embedder, max_chars=len(text) // 3)  # twice the span is too short for the whole list
    assert cut.text.startswith("Cả hai khu vực") and "phụ nữ" in cut.text and len(cut.text) <= 2 * (len(text) // 3)
    assert text[cut.start : cut.end] == cut.text


def test_focus_keeps_a_sentence_that_states_a_condition_whole():
    embedder = HashEmbedder()
    rule = (
        "If the Larger Work is a combination of Covered Software with a work governed by one or more Secondary "
        "Licenses, and the Covered Software is not Incompatible With Secondary Licenses, this License permits You "
        "to additionally distribute such Covered Software under the terms of such Secondary License(s)."
    )
    fact = (
        "Mozilla Foundation is the license steward, and except as provided in Section 10.3, no one other than the "
        "license steward has the right to modify or publish new versions of this License, and each version will "
        "be given a distinguishing version number."
    )
    query = embedder.embed_queries(["Covered Software not Incompatible With Secondary Licenses"])[0]
    for text in (f"Distribution of a Larger Work. {rule}", fact):
        bounds = [(m.start(), m.end()) for m in re.finditer(r"[^.]+(?:\.(?=\s|$)|$)\s*", text)]
        chunk = Chunk("a.txt", 0, len(text), text, "en", "", None, tuple(bounds))
        span = focus(Passage(1, chunk, 0, len(text), text, 0.7), query, embedder, max_chars=len(rule) // 2 + 10)
        assert text[span.start : span.end] == span.text
        if text == fact:  # no condition: cut to its clauses as before
            assert len(span.text) <= len(rule) // 2 + 10
        else:  # the condition keeps its consequence
            assert span.text == rule


@pytest.mark.parametrize(
    ("sentence", "conditional"),
    [
        ("If You become compliant, the rights are reinstated.", True),
        ("Nếu bên kia không thông báo, quyền được khôi phục.", True),
        ("若贡献者未通知您，则许可恢复。", True),
        ("双方签署了若干合作文件。", False),  # 若干, "several", is no condition
        ("The verifying gift is given.", False),
    ],
)
def test_a_condition_is_recognised_in_each_language(sentence: str, conditional: bool):
    from rag.search.spans import CONDITION

    assert bool(CONDITION.search(sentence)) is conditional


def test_an_answer_that_echoes_the_question_but_adds_the_fact_is_not_a_restatement():
    from rag.answer.checks import repeats_question

    question = "When was the 6th ASEAN–New Zealand Joint Cooperation Committee (JCC) meeting held?"
    assert not repeats_question(
        "The 6th ASEAN–New Zealand Joint Cooperation Committee (JCC) meeting was held on 2/7/2018.", question
    )
    assert repeats_question("The 6th ASEAN–New Zealand Joint Cooperation Committee (JCC) meeting was held.", question)
    asked = "When did ASEAN and New Zealand become Comprehensive Strategic Partners?"
    assert repeats_question("ASEAN and New Zealand became Comprehensive Strategic Partners on", asked)


@pytest.mark.parametrize(
    ("answer", "question", "restates"),
    [
        ("The summit was held in [1].", "In which city was the summit held?", True),
        ("The summit was held in Auckland [1].", "In which city was the summit held?", False),
        (
            "Luxon made his official visit to Vietnam on [2].",
            "When did Luxon make his official visit to Vietnam?",
            True,
        ),
        ("第26届东盟-韩国峰会在马来西亚的马来西亚举行。", "第26届东盟-韩国峰会在马来西亚哪个城市举行?", True),
        ("第26届东盟-韩国峰会在马来西亚的吉隆坡举行。", "第26届东盟-韩国峰会在马来西亚哪个城市举行?", False),
        (
            "Tuyên bố chung cho biết Hội nghị sẽ diễn ra vào thời gian [1].",
            "Theo tuyên bố chung, Hội nghị dự kiến diễn ra vào thời gian nào?",
            True,
        ),
        ("The summit, the minister said, was held in [1].", "Where did the minister say the summit was held?", True),
        ("Hội nghị diễn ra năm 2025 [1].", "Hội nghị diễn ra năm nào?", False),
        ("Hai bên nhấn mạnh ba trụ cột [1].", "Hai bên nhấn mạnh bao nhiêu trụ cột?", False),
        ("Hai bên nhấn mạnh các trụ cột [1].", "Hai bên nhấn mạnh bao nhiêu trụ cột?", True),
        (
            "Malaysia held the ASEAN Chairmanship in 2025 [1].",
            "Which country held the ASEAN Chairmanship in 2025?",
            False,
        ),
    ],
)
def test_an_answer_that_adds_nothing_to_the_question_is_a_restatement(answer, question, restates):
    from rag.answer.checks import repeats_question

    assert repeats_question(answer, question) is restates


def test_possessives_and_hyphenated_english_words_are_translated_terms_not_names():
    vi = [PASSAGES[0]]
    assert unsupported_name("At the High-level Meeting, New Zealand's Prime Minister spoke", vi, "?", "en") == ""
    assert unsupported_name("At the Kuala-Lumpur Meeting", vi, "?", "en") == "Kuala-Lumpur Meeting"


def test_a_document_date_line_is_not_part_of_the_span():
    text = "date 2025-10-28 Hội nghị Cấp cao Kỷ niệm ASEAN - New Zealand."
    chunk = Chunk("a.txt", 1, 1 + len(text), text, "vi", "", "2025-10-28", ((1, 1 + len(text)),))
    span = focus(
        Passage(1, chunk, 1, 1 + len(text), text, 0.6), np.ones(512, np.float32) / 512**0.5, HashEmbedder(), 240
    )
    assert (
        span.text == "Hội nghị Cấp cao Kỷ niệm ASEAN - New Zealand."
        and (" " + text)[span.start : span.end] == span.text
    )


def test_a_headline_passage_or_clause_gives_way_to_the_text_that_answers():
    from rag.search.spans import answer_spans

    embedder = HashEmbedder()
    title = "Hội nghị Cấp cao Kỷ niệm ASEAN - New Zealand."
    headline = Passage(
        1,
        Chunk("a.txt", 0, 60, f"date 2025-10-28 {title}", "vi", title, None, ((0, 60),)),
        0,
        60,
        f"date 2025-10-28 {title}",
        0.8,
    )
    body = (
        f"{title} Tại Hội nghị, Chủ tịch ASEAN 2025 Malaysia, cảm ơn nỗ lực của Việt Nam trong vai trò nước điều phối"
    )
    text = passage(2, body, "vi", title=title)
    query = embedder.embed_queries(["Hội nghị Cấp cao Kỷ niệm ASEAN - New Zealand Chủ tịch ASEAN 2025"])[0]
    spans = answer_spans([headline, text], query, embedder, max_chars=400)
    assert [s.chunk.source for s in spans] == ["vi.txt"] and spans[0].n == 1
    assert answer_spans([headline], query, embedder, max_chars=400)[0].chunk.source == "a.txt"


def test_a_latin_name_inside_chinese_text_ends_where_the_latin_script_does():
    vi = [passage(1, "Cuộc họp do Ade Padmo Sarwono và Đại sứ Pam Dunn đồng chủ trì.", "vi", "2020-05-29")]
    draft = "会议由印尼的 Ade Padmo Sarwono和新西兰的Pam Dunn共同主持[1]。"
    assert unsupported_name(draft, vi, "?", "zh") == ""
    assert unsupported_name("会议由Ade Padmo Sarwono和Jacinda Ardern共同主持[1]。", vi, "?", "zh") == "Jacinda Ardern"


def test_the_numbering_of_a_list_is_not_a_stated_number():
    zh = [passage(1, "重点加强五大合作支柱,包括:(一)政治合作;(二)防务、安全及海上合作。", "zh")]
    listed = "The five pillars are:\n(1) political cooperation;\n2. defence and maritime cooperation [1]."
    assert failed_check(listed, zh, "What are the pillars?", "en") == ""
    assert failed_check("There are six pillars (1) politics [1].", zh, "?", "en") == "6 is not in the cited passages"


def test_a_draft_without_a_marker_cites_the_passage_that_holds_its_numbers():
    embedder = HashEmbedder()
    near = passage(1, "Hội nghị tổng kết hợp tác ASEAN năm 2025 có nhiều đại biểu tham dự.", "vi")
    holds = passage(2, "Khoảng 60 đại biểu đến từ các bộ, ngành tham dự.", "vi")
    draft = "Hội nghị tổng kết hợp tác ASEAN năm 2025 có 60 đại biểu tham dự."
    assert support(f"{draft} [1]", [near], embedder)[0] > support(f"{draft} [2]", [holds], embedder)[0]
    assert cite_best(draft, [near, holds], embedder, min_support=0.1).endswith("[2].")


def test_a_draft_without_a_marker_whose_numbers_stand_in_two_passages_cites_both():
    embedder = HashEmbedder()
    interval = passage(1, "If ClientAliveInterval is set to 15, clients are disconnected after about 45 seconds.", "en")
    default = passage(2, "ClientAliveCountMax\nSets the number of client alive messages. The default value is 3.", "en")
    draft = "The default of ClientAliveCountMax is 3; with an interval of 15, clients go after 45 seconds."
    assert cite_best(draft, [interval, default], embedder, min_support=0.1).endswith("[1, 2].")
    assert failed_check(cite_best(draft, [interval, default], embedder, 0.1), [interval, default], "?", "en") == ""
    one = "The default of ClientAliveCountMax is 3."
    assert cite_best(one, [interval, default], embedder, min_support=0.1).endswith("[2].")


def test_a_draft_without_a_marker_cites_the_passage_that_holds_its_names_and_the_question_counts_as_evidence():
    embedder = HashEmbedder()
    dated = passage(1, "Hội nghị JCC lần thứ 6 năm 2018 tổ chức tại Ban thư ký ASEAN ở Jakarta.", "vi")
    named = passage(2, "Cuộc họp do Ade Padmo Sarwono và Pam Dunn đồng chủ trì.", "vi")
    draft = "Hội nghị JCC lần thứ 6 năm 2018 do Ade Padmo Sarwono và Pam Dunn đồng chủ trì."
    question = "Ai đồng chủ trì hội nghị JCC lần thứ 6 năm 2018?"
    assert cite_best(draft, [dated, named], embedder, 0.1, question, "vi").endswith("[2].")


def test_a_number_is_invented_only_when_no_retrieved_chunk_or_title_holds_it():
    text = "Thủ tướng Phạm Minh Chính phát biểu tại hội nghị."
    chunk = Chunk("a.txt", 0, len(text), text, "vi", "Hội nghị Cấp cao ASEAN - Hàn Quốc lần thứ 26", "2025-10-27", ())
    assert invented_number("Hội nghị lần thứ 26 [1].", "?", [chunk]) == ""  # from the title
    assert invented_number("Hội nghị năm 2025 có 14 nghị quyết [1].", "?", [chunk]) == "14"
    assert invented_number("Hội nghị có 14 nghị quyết [1].", "Hội nghị có 14 nghị quyết không?", [chunk]) == ""


def test_a_sentence_announcing_a_list_is_shown_with_its_items():
    from rag.records import Hit
    from rag.search.retrieve import passages

    text = (
        "Thủ tướng nêu 3 định hướng lớn nhằm thúc đẩy quan hệ. "
        "Thứ nhất, ưu tiên liên kết kinh tế xanh và số. Thứ hai, tăng cường hợp tác văn hóa. Ảnh: VGP"
    )
    ends = [text.index("Thứ nhất"), text.index("Thứ hai"), text.index("Ảnh"), len(text)]
    sentences = ((0, ends[0] - 1), (ends[0], ends[1] - 1), (ends[1], ends[2] - 1), (ends[2], ends[3]))
    chunk = Chunk("k.txt", 0, len(text), text, "vi", "", None, sentences)
    shown = passages([Hit(0, chunk, 0.7, best_sentence=0)], top_k=1)[0].text
    assert shown.endswith("tăng cường hợp tác văn hóa.")  # both items, not the caption after them


def test_a_sentence_announcing_lettered_items_is_shown_with_all_of_them():
    from rag.records import Hit
    from rag.search.retrieve import passages

    lines = [
        "Notwithstanding Section 2.1(b) above, no patent license is granted by a Contributor:",
        "(a) for any code that a Contributor has removed from Covered Software;",
        "or",
        "(b) for infringements caused by the combination of its Contributions with other software; or",
        "(c) under Patent Claims infringed by Covered Software in the absence of its Contributions.",
        "2.4. Subsequent Licenses",
    ]
    text = "\n".join(lines)
    starts = [text.index(line) for line in lines]
    sentences = tuple((a, a + len(line)) for a, line in zip(starts, lines, strict=True))
    chunk = Chunk("mpl.pdf", 0, len(text), text, "en", "", None, sentences)
    shown = passages([Hit(0, chunk, 0.7, best_sentence=0)], top_k=1)[0].text
    assert shown.endswith("in the absence of its Contributions.")  # (a), "or", (b) and (c); not the next heading


def test_a_sentence_that_qualifies_the_one_shown_travels_with_it():
    from rag.records import Hit
    from rag.search.retrieve import passages

    lines = [
        "You may choose to offer, and to charge a fee for, warranty, support, indemnity or liability obligations to "
        "one or more recipients of Covered Software.",
        "However, You may do so only on Your own behalf, and not on behalf of any Contributor.",
        "You must make it absolutely clear that any such warranty is offered by You alone.",
    ]
    text = " ".join(lines)
    starts = [text.index(line) for line in lines]
    sentences = tuple((a, a + len(line)) for a, line in zip(starts, lines, strict=True))
    chunk = Chunk("mpl.pdf", 0, len(text), text, "en", "", None, sentences)
    shown = passages([Hit(0, chunk, 0.7, best_sentence=0)], top_k=1, max_chars=160)[0]
    assert shown.text == " ".join(lines[:2])  # the qualification, not the sentence after it
    embedder = HashEmbedder()
    query = embedder.embed_queries(["may I charge a fee for warranty or support"])[0]
    cut = focus(shown, query, embedder, max_chars=160)
    assert cut.text.endswith("not on behalf of any Contributor.") and text[cut.start : cut.end] == cut.text


def test_the_clause_cut_keeps_the_items_an_announcing_clause_introduces():
    text = (
        "Trên tinh thần đó, Thủ tướng nêu 3 định hướng lớn nhằm thúc đẩy Đối tác Chiến lược toàn diện thời gian tới. "
        "Thứ nhất, ưu tiên đẩy mạnh liên kết kinh tế, thương mại, đầu tư theo hướng xanh, số, tuần hoàn; "
        "khởi động đàm phán nâng cấp hiệp định thương mại tự do."
    )
    embedder = HashEmbedder()
    cut = focus(passage(1, text, "vi"), embedder.embed_queries(["3 định hướng lớn nhằm thúc đẩy"])[0], embedder, 120)
    assert "Thứ nhất" in cut.text and "xanh" in cut.text


def test_a_passage_takes_the_heading_above_it_and_the_rest_of_its_paragraph_within_the_span():
    from rag.ingest.chunk import split_sentences
    from rag.records import Hit
    from rag.search.retrieve import passages

    text = (
        "MaxAuthTries\nSpecifies the maximum number of authentication attempts permitted per connection. "
        "The default is 6.\nMaxSessions\nSpecifies the maximum number of open sessions.\n\nA new paragraph."
    )
    chunk = Chunk("sshd.pdf", 0, len(text), text, "en", "", None, tuple(split_sentences(text)))
    shown = passages([Hit(0, chunk, 0.5, best_sentence=1)], top_k=1, max_chars=240)[0].text
    assert (
        shown
        == "MaxAuthTries\nSpecifies the maximum number of authentication attempts permitted per connection. The default is 6."
    )
    narrow = passages([Hit(0, chunk, 0.5, best_sentence=1)], top_k=1, max_chars=60)[0].text
    assert narrow.startswith("MaxAuthTries\nSpecifies") and "default" not in narrow


MANUAL = (
    "MaxStartups\nSpecifies the maximum number of unauthenticated connections. Additional connections are dropped "
    "until the LoginGraceTime expires. The default is 10:30:100.\nLoginGraceTime\nThe server disconnects after this "
    "time if the user has not logged in.\n\nThe default is 120 seconds.\nLogLevel\nGives the verbosity level."
)


def _manual_chunk(text: str, start: int = 0) -> Chunk:
    from rag.ingest.chunk import split_sentences

    spans = tuple((start + a, start + b) for a, b in split_sentences(text))
    return Chunk("sshd.pdf", start, start + len(text), text, "en", "", None, spans)


def test_a_question_naming_a_term_is_shown_that_terms_entry_whole():
    from rag.records import Hit
    from rag.search.retrieve import entries_first, passages

    entry_at = MANUAL.index("LoginGraceTime\nThe server")
    mention = _manual_chunk(MANUAL[:entry_at].rstrip())  # MaxStartups: "… until the LoginGraceTime expires."
    entry = _manual_chunk(MANUAL[entry_at:], entry_at)
    ranked = entries_first([Hit(0, mention, 0.7, 2), Hit(1, entry, 0.5, 4)], ["LoginGraceTime", "sshd_config"])
    assert [hit.row for hit in ranked] == [1, 0]  # the term's own entry first, though less close to the question
    assert ranked[0].best_sentence == 1 and ranked[1].best_sentence == 2  # a sentence naming the term stays
    shown = passages(ranked, top_k=1, max_chars=60, terms=["LoginGraceTime"])[0].text
    assert shown == (
        "LoginGraceTime\nThe server disconnects after this time if the user has not logged in.\n\n"
        "The default is 120 seconds."
    )  # over a blank line and past max_chars, up to the next heading
    unranked = [Hit(0, mention, 0.7, 2), Hit(1, entry, 0.5, 4)]
    assert entries_first(unranked, []) == unranked  # no term: retrieval's order stands


def test_a_terms_entry_runs_on_into_the_next_chunk_of_its_document():
    from rag.records import Hit
    from rag.search.retrieve import passages

    cut = MANUAL.index("The default is 10:30:100.")
    first, second = _manual_chunk(MANUAL[:cut].rstrip()), _manual_chunk(MANUAL[cut - 30 :], cut - 30)
    shown = passages([Hit(0, first, 0.6, 1)], 1, 120, ["MaxStartups"], {0: second}.get)[0]
    assert shown.text.endswith("LoginGraceTime expires. The default is 10:30:100.")
    assert MANUAL[shown.start : shown.end] == shown.text  # still an exact span of the document
    alone = passages([Hit(0, first, 0.6, 1)], 1, 120, ["MaxStartups"], lambda row: None)[0]
    assert alone.text.endswith("LoginGraceTime expires.")
    # an entry over three chunks (small chunks, a long entry): it runs on through each of them
    cut2 = MANUAL.index("Additional connections")
    head, middle = _manual_chunk(MANUAL[:cut2].rstrip()), _manual_chunk(MANUAL[cut2 - 20 : cut].rstrip(), cut2 - 20)
    chunks = {0: middle, 1: second}
    three = passages([Hit(0, head, 0.6, 1)], 1, 120, ["MaxStartups"], chunks.get)[0]
    assert three.text.endswith("LoginGraceTime expires. The default is 10:30:100.")
    assert MANUAL[three.start : three.end] == three.text


JOURNALD = (
    "Storage=\nControls where to store journal data.\n\n"
    "RateLimitIntervalSec=, RateLimitBurst=\nConfigures the rate limiting of all messages. Defaults to 10000 messages "
    "in 30s.\n\nSystemMaxUse=, SystemKeepFree=, SystemMaxFileSize=, SystemMaxFiles=, RuntimeMaxUse=\nEnforce limits."
)


def test_a_settings_heading_of_a_configuration_manual_is_the_entry_of_each_setting_it_lists():
    from rag.records import Hit
    from rag.search.retrieve import entries_first, passages

    chunk = _manual_chunk(JOURNALD)
    ranked = entries_first([Hit(0, chunk, 0.6, 0)], ["RateLimitBurst"])
    assert ranked[0].best_sentence == 3  # the paragraph under "RateLimitIntervalSec=, RateLimitBurst="
    shown = passages(ranked, top_k=1, max_chars=200, terms=["RateLimitBurst"])[0].text
    assert shown.startswith("RateLimitIntervalSec=, RateLimitBurst=\n") and shown.endswith("messages in 30s.")
    longest = entries_first([Hit(0, chunk, 0.6, 0)], ["SystemMaxFiles"])[0]
    assert chunk.text[slice(*[x - chunk.start for x in chunk.sentences[longest.best_sentence]])] == "Enforce limits."
    assert entries_first([Hit(0, chunk, 0.6, 0)], ["Rate"])[0].best_sentence == 0  # not a setting it lists


def test_a_sentence_two_overlapping_chunks_share_is_shown_once_and_no_weaker_passage_takes_its_place():
    from rag.records import Hit
    from rag.search.retrieve import passages

    text = (
        "Kiwi birds live in the forests of New Zealand. They eat worms, insects and spiders that they find on the forest floor at night. "
        "Kiwi eggs are very large for the size of the bird. Kiwi birds cannot fly."
    )
    cut, repeated = text.index("Kiwi eggs"), text.index("They eat")
    first, second = _manual_chunk(text[:cut].rstrip()), _manual_chunk(text[repeated:], repeated)  # share a sentence
    third = _manual_chunk("Moas were large birds.", len(text))
    hits = [Hit(0, first, 0.7, 1), Hit(1, second, 0.69, 0), Hit(2, third, 0.4, 0)]
    shown = passages(hits, top_k=2, max_chars=90)
    assert [(p.chunk, p.text) for p in shown] == [
        (first, "They eat worms, insects and spiders that they find on the forest floor at night.")
    ]
    assert [p.text for p in passages([hits[0], hits[2]], top_k=2, max_chars=90)][1] == "Moas were large birds."
