"""Where an answer is decided: the gate before the model reads, then an ordered list of named checks of its draft.

Each check returns a `Finding` (a typed `Reason` and a line of detail) when the draft fails it; the first failure
decides. The reason is what the CLI, the UI, the API and the eval show. Each check's docstring says what it
prevents and names the test that shows it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.answer.checks import (
    cite_best,
    cut_off,
    evidence,
    has_ordinal,
    invented_number,
    names_beyond,
    repeats_question,
    stated_quantities,
    support,
    swapped_subject,
    unnamed_party,
    unstated_ordinal,
    unsupported_name,
)
from rag.answer.citations import cited_numbers, strip_invalid, without_markers
from rag.answer.prompt import NOT_FOUND_MARK
from rag.answer.quantities import read_quantities
from rag.answer.question import Kind, Question
from rag.config import AnswerSettings
from rag.engines.protocols import Embedder
from rag.language import written_in
from rag.records import Chunk, Outcome, Passage, Reason

YEARS = (1800, 2199)  # a bare number in this range may be the year a "when" question asks for
ASKING = re.compile(r"[?？]\s*$|吗\s*$")  # a reply that is itself a question
# A count of one, which quantities do not read as a number ("one" and "một" are mostly articles).
COUNT_OF_ONE = re.compile(r"\b(?:one|a single|một|duy nhất)\b|唯一|[一壹][个台位名家项次条种]", re.IGNORECASE)
LIST_SEPARATOR = re.compile(r"[,，、;；]|\s(?:and|và|hoặc|or)\s|和|与|及")
SAYS_NOT_FOUND = re.compile(  # a draft that says in its own words that its sources do not give the answer
    r"\bnot (?:specified|mentioned|stated|given|provided|found|available)\b[^.]{0,20}\b(?:in|by|from) (?:the |any )?"
    r"(?:given |provided |available )?(?:information|documents?|passages?|sources?|context|text)\b"
    r"|\b(?:information|documents?|passages?|sources?|context|text) (?:do|does) not (?:specify|mention|state|say"
    r"|contain|provide|give)\b|\bthere is no (?:information|mention)\b|\bno information (?:is )?(?:about|on|given"
    r"|provided|available)\b"
    r"|không (?:được )?(?:đề cập|nêu|nói|cung cấp|chỉ rõ)\b.{0,30}(?:tài liệu|thông tin|văn bản|đoạn văn)"
    r"|(?:tài liệu|thông tin|văn bản|đoạn văn)[^.]{0,30}không (?:đề cập|nêu|nói|cung cấp|chỉ rõ)"
    r"|(?:không|chưa) có thông tin"
    r"|(?:文档|资料|信息|文中|文本|来源|上下文)[^。]{0,12}(?:未|没有|并未)(?:提及|提到|说明|指明|给出|明确)"
    r"|(?:未|没有|并未)(?:提及|提到|说明|指明|给出|明确)[^。]{0,12}(?:文档|资料|信息|文中|文本|来源)"
    r"|没有(?:相关)?信息",
    re.IGNORECASE,
)
NOT_FOUND = {
    "en": "The documents do not contain the answer to this question.",
    "vi": "Tài liệu không chứa câu trả lời cho câu hỏi này.",
    "zh": "文档中没有这个问题的答案。",
}


@dataclass(frozen=True)
class Finding:
    """Why a draft is not kept, or why nothing was generated."""

    reason: Reason
    detail: str = ""


@dataclass(frozen=True)
class Decision:
    """What becomes of a question: the outcome, its reason, and the text when it is already known (a kept draft or
    an abstention); a quoted outcome leaves the text to be composed from the passages."""

    outcome: Outcome
    reason: Reason
    detail: str = ""
    text: str = ""


@dataclass(frozen=True)
class Draft:
    """A draft as the checks read it: its text (invalid markers dropped), its words without markers, the passages
    it cites, the question and passages it answers, and the settings its checks are tuned by."""

    text: str
    question: Question
    passages: tuple[Passage, ...]
    embedder: Embedder
    settings: AnswerSettings

    @property
    def words(self) -> str:
        return without_markers(self.text)

    @property
    def cited(self) -> list[Passage]:
        numbers = cited_numbers(self.text)
        return [p for p in self.passages if p.n in numbers]


Check = Callable[[Draft], Finding | None]


def gate(
    question: Question, passages: Sequence[Passage], settings: AnswerSettings, unknown_terms: Sequence[str] = ()
) -> Decision | None:
    """Abstain before the model reads when nothing relevant enough was found, or when the question names a term
    that no document holds (`unknown_terms`); None lets the model read.

    Prevents: an answer made up from passages that are not about the question, and one about a near-namesake
    ("ClientAliveTimeout" answered from ClientAliveInterval's paragraph).
    Tests: tests/pipeline/test_answering.py::test_weak_evidence_is_gated_in_the_question_language,
    tests/pipeline/test_answering.py::test_a_term_no_document_holds_is_gated.
    """
    if not passages:
        return Decision(Outcome.GATED, Reason.NOTHING_RETRIEVED, "nothing was retrieved", NOT_FOUND[question.language])
    if unknown_terms:
        detail = f"no document holds {unknown_terms[0]}"
        return Decision(Outcome.GATED, Reason.UNKNOWN_TERM, detail, NOT_FOUND[question.language])
    best = strongest(passages, question.language, settings)
    needed = settings.min_relevance + _margin(best, question.language, settings)
    if best.relevance >= needed:
        return None
    shown = math.floor(best.relevance * 1000) / 1000  # rounded down, so it never reads as enough
    detail = f"best passage relevance {shown:.3f} < {needed:.2f}"
    return Decision(Outcome.GATED, Reason.BELOW_GATE, detail, NOT_FOUND[question.language])


def names_both_parties(
    question: Question, passages: Sequence[Passage], embedder: Embedder, settings: AnswerSettings
) -> Decision | None:
    """Abstain before the model reads when the question asks of a pair ("ASEAN and Japan") and the passages it
    would read name one of them and never the other: they are about a neighbouring relation (ASEAN and Korea),
    and a small model answers from it with the question's names. None lets the model read.

    Prevents: "ASEAN and Japan upgraded their relationship … in 2024 [1]" from a passage about ASEAN and Korea.
    Tests: tests/pipeline/test_answering.py::test_a_pair_the_passages_name_half_of_is_not_answered,
    tests/models/test_real_models.py::test_a_name_is_recognised_in_another_language.
    """
    names = settings.min_name_similarity, settings.min_country_similarity
    if absent := unnamed_party(question.text, passages, embedder, *names):
        detail = f"no passage names {absent}"
        return Decision(Outcome.GATED, Reason.UNNAMED_PARTY, detail, NOT_FOUND[question.language])
    return None


def states_the_ordinal(
    question: Question, passages: Sequence[Passage], document: Callable[[str], str]
) -> Decision | None:
    """Abstain before the model reads when the question gives an event or a member a rank ("the 7th JCC",
    "第七届", "lần thứ 7") that the documents of the passages (`document(source)`, their whole text) never state:
    they are about another one of the series, and a small model answers with its date. None lets the model read.

    Prevents: "The 7th ASEAN–New Zealand JCC was held on 2 July 2018 [1]" from the article on the 6th.
    Tests: tests/unit/test_answers.py::test_a_rank_the_documents_never_state_is_not_answered,
    tests/pipeline/test_answering.py::test_a_rank_the_documents_never_state_is_not_answered.
    """
    if not has_ordinal(question.text):
        return None
    documents = [document(source) for source in dict.fromkeys(p.chunk.source for p in passages)]
    if rank := unstated_ordinal(question.text, documents):
        detail = f"no document found states {rank}"
        return Decision(Outcome.GATED, Reason.UNSTATED_ORDINAL, detail, NOT_FOUND[question.language])
    return None


def decide(
    raw: str,
    question: Question,
    passages: Sequence[Passage],
    retrieved: Sequence[Chunk],
    embedder: Embedder,
    settings: AnswerSettings,
) -> Decision:
    """The fate of the model's draft: kept, refused, quoted instead, or taken as a sign that the documents do not
    hold the answer. The checks run in `CHECKS` order; the first that fails decides."""
    text = strip_invalid(raw.strip(), passages)
    if says_not_found(text):
        if trusts_not_found(question, passages, settings):
            return Decision(Outcome.REFUSED, Reason.NOT_FOUND, text=NOT_FOUND[question.language])
        return Decision(Outcome.OVERRULED, Reason.NOT_FOUND_OVERRULED)
    if not cut_off(text) and settings.min_support > 0:  # a forgotten marker is put at the end of a finished draft
        text = cite_best(text, passages, embedder, settings.min_support, question.text, question.language)
    failed = first_failure(Draft(text, question, tuple(passages), embedder, settings))
    if failed is None:
        return Decision(Outcome.ANSWERED, Reason.KEPT, text=text)
    if invented := invented_number(raw, question.text, retrieved):
        detail = f"{failed.detail}; {invented} is in no retrieved passage"
        return Decision(Outcome.INVENTED, failed.reason, detail, NOT_FOUND[question.language])
    return Decision(Outcome.QUOTED, failed.reason, failed.detail)


def says_not_found(draft: str) -> bool:
    """The model's NOT FOUND, as the mark the prompt asks for or in its own words ("The maximum length … is not
    specified in the given information", "Tài liệu không đề cập …", "文档中没有提到 …"); it is then weighed as
    the mark is (`trusts_not_found`).

    Prevents: "The maximum length of PRETTY_NAME is not specified in the given information [1]." kept as an answer.
    Test: tests/unit/test_answers.py::test_the_models_not_found_in_its_own_words_is_read_as_not_found.
    """
    bare = re.sub(r"[\W_]+", " ", without_markers(draft)).strip()
    return (
        NOT_FOUND_MARK in draft
        or bare.upper() == NOT_FOUND_MARK
        or draft in NOT_FOUND.values()
        or bool(SAYS_NOT_FOUND.search(draft))
    )


def trusts_not_found(question: Question, passages: Sequence[Passage], settings: AnswerSettings) -> bool:
    """The model's NOT FOUND is the answer to a question that asks for a fact (when, who, how many, which): the
    model read the passages shown and found no such fact in them. A yes/no question's NOT FOUND is trusted only
    below `trust_not_found_below`: its passage often states the rule without a yes or a no in it, and a small
    model then finds nothing to copy; the passage is quoted instead.

    Prevents: a passage quoted as the answer to a question the documents do not answer ("In which year was MPL 2.0
    first published?" answered with its definition of the Secondary Licenses), and a yes/no question refused when
    its passage says "This License does not grant any rights in the trademarks".
    Tests: tests/unit/test_answers.py::test_the_models_not_found_is_trusted_for_a_fact_and_weighed_for_a_yes_or_no,
    tests/pipeline/test_answering.py::test_model_not_found_is_refused_or_overruled_by_its_relevance_bound.
    """
    if question.kind is not Kind.YES_NO or not passages:
        return True
    best = strongest(passages, question.language, settings)
    return best.relevance < settings.trust_not_found_below + _margin(best, question.language, settings)


def strongest(passages: Sequence[Passage], language: str, settings: AnswerSettings) -> Passage:
    """The passage the gate judges by: the most relevant once a passage in the question's own `language` has the
    same-language margin taken off (retrieval ranks this way, but may put a term's entry first)."""
    return max(passages, key=lambda p: _ranked(p, language, settings))


def _margin(passage: Passage, language: str, settings: AnswerSettings) -> float:
    return settings.same_language_margin if passage.chunk.language == language else 0.0


def unused_passage(
    draft: str, question: Question, passages: Sequence[Passage], settings: AnswerSettings
) -> Passage | None:
    """The best-ranked passage that `draft` did not draw on (one it does not cite and that holds none of the dates
    and numbers it states), when it is the best passage or within `max_source_gap` of it; None when the draft drew
    on every passage, or there is only one. A clearly weaker passage read alone answers with whatever it holds,
    which `drawn_from_the_best_source` would not keep beside the best one."""
    cited = set(cited_numbers(draft))
    stated = stated_quantities(without_markers(draft))

    def drawn_on(passage: Passage) -> bool:
        held = read_quantities(evidence([passage], question.text))
        return passage.n in cited or (bool(stated.dates or stated.numbers) and not stated.unsupported(held))

    unused = [p for p in passages if not drawn_on(p)]
    if len(passages) < 2 or not unused:
        return None
    best, language = strongest(passages, question.language, settings), question.language
    behind = _ranked(best, language, settings) - _ranked(unused[0], language, settings)
    return unused[0] if unused[0] is passages[0] or behind <= settings.max_source_gap else None


def first_failure(draft: Draft) -> Finding | None:
    """The finding of the first check in `CHECKS` that the draft fails; None when it passes them all."""
    return next((found for check in CHECKS if (found := check(draft))), None)


def finished(draft: Draft) -> Finding | None:
    """Prevents: a draft the model stopped mid-sentence at its token limit ("… Nguyễn Minh Khê, Nguyễn Minh").
    Test: tests/unit/test_answers.py::test_decide_names_how_the_answer_came_about."""
    return Finding(Reason.CUT_OFF, "cut off mid-sentence") if cut_off(draft.text) else None


def has_words(draft: Draft) -> Finding | None:
    """Prevents: an answer that is only a marker ("[1]").
    Test: tests/pipeline/test_answering.py::test_decide_keeps_a_grounded_answer_and_names_the_failed_check."""
    return None if draft.words else Finding(Reason.EMPTY, "empty answer")


def cites_a_passage(draft: Draft) -> Finding | None:
    """Prevents: a claim that points at no passage, which the reader cannot check.
    Test: tests/unit/test_answers.py::test_decide_names_how_the_answer_came_about."""
    return None if draft.cited else Finding(Reason.NO_CITATION, "no citation")


def in_the_question_language(draft: Draft) -> Finding | None:
    """Prevents: an English question answered in Vietnamese (names aside, which keep their own spelling).
    Test: tests/unit/test_answers.py::test_decide_names_how_the_answer_came_about."""
    if written_in(draft.words, draft.question.language):
        return None
    return Finding(Reason.WRONG_LANGUAGE, "wrong language")


def adds_to_the_question(draft: Draft) -> Finding | None:
    """Prevents: a non-answer that restates the question ("The summit was held in [1]."), or repeats it as a question.
    A yes/no question is answered by restating it as a statement ("Giấy phép này không trao quyền …").
    Tests: tests/unit/test_answers.py::test_decide_names_how_the_answer_came_about,
    tests/unit/test_answers.py::test_a_yes_no_question_is_answered_by_a_statement_of_it."""
    if draft.question.kind is Kind.YES_NO and not ASKING.search(draft.words):
        return None
    if repeats_question(draft.words, draft.question.text):
        return Finding(Reason.RESTATES_QUESTION, "restates the question")
    return None


def gives_what_it_announces(draft: Draft) -> Finding | None:
    """Prevents: a draft that announces a list and stops ("… in the following areas: [1]").
    Test: tests/unit/test_verification.py::test_each_check_passes_translations_and_catches_inventions."""
    if draft.words.rstrip().endswith((":", "：")):
        return Finding(Reason.ANNOUNCES_ONLY, "announces what it does not give")
    return None


def numbers_in_passages(draft: Draft) -> Finding | None:
    """Prevents: a date or number that the cited passages do not state, in any notation ("2018" for "2025"), or one
    end of a span of days given as the date ("on 25 February" for "from 25 to 28 February").
    Test: tests/unit/test_answers.py::test_decide_names_how_the_answer_came_about."""
    stated = stated_quantities(draft.words)
    known = read_quantities(evidence(draft.cited, draft.question.text))
    if missing := stated.unsupported(known):
        return Finding(Reason.NUMBER_NOT_IN_PASSAGES, f"{missing[0]} is not in the cited passages")
    if half := stated.half_span(known):
        return Finding(Reason.HALF_SPAN, f"gives one end of the span {half} only")
    return None


def names_in_passages(draft: Draft) -> Finding | None:
    """Prevents: a name the cited passages do not hold ("Kuala Lumpur" where the source says Malaysia).
    Test: tests/pipeline/test_answering.py::test_a_hallucinated_name_or_number_is_caught_across_languages."""
    question = draft.question
    if name := unsupported_name(draft.words, draft.cited, question.text, question.language):
        return Finding(Reason.NAME_NOT_IN_PASSAGES, f"{name} is not in the cited passages")
    return None


def answers_the_kind_asked(draft: Draft) -> Finding | None:
    """Prevents: an answer of another kind than the question asks for: "when" without a date or year, "how many"
    without a number (a count of one, "only one main server", is one), "which areas" with a single item, "who" or "which country" with only names the question gives
    (Chinese writes names without capitals, so there that is left to the other checks).
    Test: tests/unit/test_answers.py::test_an_answer_of_the_wrong_kind_or_subject_is_not_kept."""
    kind, stated = draft.question.kind, stated_quantities(draft.words)
    if kind is Kind.DATE and not (stated.dates or any(YEARS[0] <= n <= YEARS[1] for n in stated.numbers)):
        return Finding(Reason.WRONG_KIND, "asked when, answered without a date")
    if kind is Kind.NUMBER and not stated.numbers and not COUNT_OF_ONE.search(draft.words):
        return Finding(Reason.WRONG_KIND, "asked how many or how much, answered without a number")
    if kind is Kind.LIST and not LIST_SEPARATOR.search(draft.words):
        return Finding(Reason.WRONG_KIND, "asked for several, answered with one")
    if kind is Kind.ENTITY and draft.question.language != "zh" and not names_beyond(draft.words, draft.question.text):
        return Finding(Reason.WRONG_KIND, "asked who or which, answered with no name the question lacks")
    return None


def keeps_the_subject(draft: Draft) -> Finding | None:
    """Prevents: an answer about another pair than the question asks of ("Vietnam and New Zealand" became partners,
    for a question about ASEAN and New Zealand), a fact from a neighbouring document.
    Test: tests/unit/test_answers.py::test_an_answer_of_the_wrong_kind_or_subject_is_not_kept."""
    if swapped := swapped_subject(draft.words, draft.question.text):
        return Finding(Reason.SWAPPED_SUBJECT, f"answers about {swapped}")
    return None


def backed_by_passages(draft: Draft) -> Finding | None:
    """Prevents: a sentence that says something its passage does not, judged by the cross-lingual embedder.
    Test: tests/unit/test_verification.py::test_a_sentence_far_from_its_passage_fails_the_support_check."""
    minimum = draft.settings.min_support
    if minimum <= 0:
        return None
    weakest = min(support(draft.text, draft.passages, draft.embedder), default=0.0)
    if weakest < minimum:
        detail = f"a sentence is not backed by its passage (similarity {weakest:.2f} < {minimum:.2f})"
        return Finding(Reason.UNSUPPORTED_SENTENCE, detail)
    return None


def drawn_from_the_best_source(draft: Draft) -> Finding | None:
    """Prevents: a fact taken from a passage clearly less relevant than the best one, which a small model reads for
    the fact the question asks about ("the four pillars" answered with another list of the weaker passage); the
    draft is then read again from the best passage alone (`second_reading`).
    Test: tests/unit/test_answers.py::test_a_draft_drawn_only_from_a_clearly_weaker_source_is_not_kept."""
    gap, language = draft.settings.max_source_gap, draft.question.language
    if gap <= 0 or not draft.cited or draft.passages[0] in draft.cited:  # retrieval's first choice is never weaker
        return None
    best = strongest(draft.passages, language, draft.settings)
    closest = strongest(draft.cited, language, draft.settings)
    behind = _ranked(best, language, draft.settings) - _ranked(closest, language, draft.settings)
    if behind > gap:
        return Finding(Reason.WEAKER_SOURCE, f"cites only [{closest.n}], {behind:.2f} less relevant than [{best.n}]")
    return None


def _ranked(passage: Passage, language: str, settings: AnswerSettings) -> float:
    return passage.relevance - _margin(passage, language, settings)


CHECKS: tuple[Check, ...] = (
    finished,
    has_words,
    cites_a_passage,
    in_the_question_language,
    adds_to_the_question,
    gives_what_it_announces,
    numbers_in_passages,
    names_in_passages,
    answers_the_kind_asked,
    keeps_the_subject,
    drawn_from_the_best_source,
    backed_by_passages,
)
