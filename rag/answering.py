"""The question-answering pipeline: check the question, retrieve, gate, prompt, generate, verify citations."""

from __future__ import annotations

import math
import re
import time
import unicodedata
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass

from rag.citations import (
    citations_for,
    names_supported,
    numbers_supported,
    quote_evidence,
    repeats_question,
    strip_invalid,
    without_markers,
)
from rag.config import Settings
from rag.conversation import search_text
from rag.errors import BadQuestion
from rag.language import detect_language
from rag.pipeline import Pipeline
from rag.prompting import NOT_FOUND_MARK, build_prompt
from rag.records import Answer, Outcome, Passage
from rag.retrieval import retrieve

NOT_FOUND = {
    "en": "The documents do not contain the answer to this question.",
    "vi": "Tài liệu không chứa câu trả lời cho câu hỏi này.",
    "zh": "文档中没有这个问题的答案。",
}


class Response:
    """An answer in the making: iterate it for the model's draft as it streams; `answer()` for the checked Answer.

    Iterating stops when the draft is complete; `answer()` and `text()` run whatever is left and may be called
    any number of times.
    """

    def __init__(self, steps: Generator[str, None, Answer]) -> None:
        self._steps = steps
        self._answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        while self._answer is None:
            try:
                piece = next(self._steps)
            except StopIteration as done:
                self._answer = done.value
                return
            yield piece

    def answer(self) -> Answer:
        for _ in self:
            pass
        assert self._answer is not None
        return self._answer

    def text(self) -> str:
        return self.answer().text


def ask(question: str, pipeline: Pipeline, history: Sequence[str] = ()) -> Response:
    """Answer `question` from the documents; a question with nothing to answer raises BadQuestion at once.

    `history` holds the conversation's earlier questions: a follow-up is searched together with the one it follows.
    """
    question = clean_question(question, pipeline.settings.max_question_chars)
    return Response(_answer(question, pipeline, history))


def clean_question(question: str, max_chars: int) -> str:
    """NFC text without control characters; refuse empty, unreadable and over-long questions."""
    text = unicodedata.normalize("NFC", question)
    text = "".join(c if c.isprintable() or c in "\n\t" else " " for c in text)
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > max_chars:
        raise BadQuestion(f"question is {len(text)} characters long; the limit is {max_chars}")
    if not any(c.isalnum() for c in text):
        raise BadQuestion("question is empty: type a question with words in it")
    return text


@dataclass(frozen=True)
class Verdict:
    """What the checks made of a draft: the text to show and how it came about."""

    text: str
    outcome: Outcome
    reason: str = ""


def _answer(question: str, pipeline: Pipeline, history: Sequence[str]) -> Generator[str, None, Answer]:
    started = time.perf_counter()
    settings = pipeline.settings
    language = detect_language(question)
    found = retrieve(search_text(question, history), pipeline)
    passages = list(found.passages)
    timings = {"retrieve_s": time.perf_counter() - started}
    draft = ""
    if not passages:
        verdict = Verdict(NOT_FOUND[language], Outcome.GATED, "nothing was retrieved")
    elif passages[0].relevance < (needed := gate(settings, passages[0], language)):
        shown = math.floor(passages[0].relevance * 1000) / 1000  # rounded down, so it never reads as enough
        verdict = Verdict(NOT_FOUND[language], Outcome.GATED, f"best passage relevance {shown:.3f} < {needed:.2f}")
    else:
        for piece in pipeline.generator.stream(build_prompt(question, passages, language)):
            draft += piece
            yield piece
        trust_not_found = passages[0].relevance < settings.trust_not_found_below
        verdict = verify(draft, passages, question, language, trust_not_found)
    timings["total_s"] = time.perf_counter() - started
    citations = citations_for(verdict.text, passages)
    return Answer(
        question,
        verdict.text,
        language,
        verdict.outcome,
        draft=draft,
        reason=verdict.reason,
        citations=citations,
        retrieved=found.hits,
        passages=found.passages,
        timings=timings,
    )


def gate(settings: Settings, best: Passage, language: str) -> float:
    """The relevance the best passage needs for the question to be answered at all."""
    same = best.chunk.language == language
    return settings.min_relevance_same_language if same else settings.min_relevance


def verify(
    raw: str, passages: Sequence[Passage], question: str, language: str, trust_not_found: bool = True
) -> Verdict:
    """Keep the model's answer only when it passes every check (see `failed_check`); otherwise quote the best
    passages, and say which check failed.

    A small model often says "not found" when the passage is in another language; with
    `trust_not_found` False that verdict is overruled by the retrieval score and the passage is quoted.
    """
    text = strip_invalid(raw.strip(), passages)
    if NOT_FOUND_MARK in text.upper() or text in NOT_FOUND.values():
        if trust_not_found:
            return Verdict(NOT_FOUND[language], Outcome.REFUSED)
        return Verdict(quote_evidence(passages, language), Outcome.OVERRULED)
    failed = failed_check(text, passages, question, language)
    if failed:
        return Verdict(quote_evidence(passages, language), Outcome.QUOTED, failed)
    return Verdict(text, Outcome.ANSWERED)


def failed_check(text: str, passages: Sequence[Passage], question: str, language: str) -> str:
    """The first check a draft fails, as a short reason; "" when it cites a passage, is in the question's language,
    states only numbers and names found in the cited passages (or the question) and does not restate the question."""
    words = without_markers(text)
    cited = citations_for(text, passages)
    if not words:
        return "empty answer"
    if not cited:
        return "no citation"
    if detect_language(words) != language and re.search(r"[^\W\d_]", words):
        return "wrong language"
    if not numbers_supported(text, cited):
        return "number not in cited passage"
    if not names_supported(text, cited, question):
        return "name not in cited passage"
    if repeats_question(text, question):
        return "restates the question"
    return ""
