"""The question-answering pipeline: check the question, retrieve, gate, prompt, generate, verify citations."""

from __future__ import annotations

import math
import re
import time
import unicodedata
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from rag.citations import citations_for, strip_invalid
from rag.config import Settings
from rag.conversation import search_text
from rag.errors import BadQuestion
from rag.extraction import answer_spans
from rag.language import detect_language
from rag.models import Embedder
from rag.pipeline import Pipeline
from rag.prompting import NOT_FOUND_MARK, build_prompt
from rag.records import Answer, Outcome, Passage
from rag.retrieval import retrieve
from rag.translation import quote_evidence, translate_passages
from rag.verification import cite_best, cut_off, failed_check, invented_number, least_sure

CLOSE_SECOND = 0.05  # a second passage this close in relevance to the best is quoted too
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

    def close(self) -> None:
        """Stop before the end: the model's stream is closed, so llama.cpp or a remote engine stops generating."""
        self._steps.close()


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
    """What the checks made of a draft: the text to show, how it came about, and what its citations point at."""

    text: str
    outcome: Outcome
    reason: str = ""
    cited: tuple[Passage, ...] = ()  # the passages (or the spans of them) that the text's markers point at
    translations: Mapping[int, str] = field(default_factory=dict)  # passage number -> its translation
    doubt: str = ""  # in a kept draft, the word the model was unsure of (see `doubt`)


def _answer(question: str, pipeline: Pipeline, history: Sequence[str]) -> Generator[str, None, Answer]:
    started = time.perf_counter()
    settings = pipeline.settings
    language = detect_language(question)
    searched = search_text(question, history)
    query = pipeline.embedder.embed_queries([searched])[0]
    found = retrieve(searched, pipeline, query=query)
    passages = list(found.passages)
    timings = {"retrieve_s": time.perf_counter() - started}
    draft = ""
    if not passages:
        verdict = Verdict(NOT_FOUND[language], Outcome.GATED, "nothing was retrieved")
    elif passages[0].relevance < (needed := gate(settings, passages[0], language)):
        shown = math.floor(passages[0].relevance * 1000) / 1000  # rounded down, so it never reads as enough
        verdict = Verdict(NOT_FOUND[language], Outcome.GATED, f"best passage relevance {shown:.3f} < {needed:.2f}")
    else:
        passages = answer_spans(passages, query, pipeline.embedder, settings.span_chars)
        pieces = []
        for piece in pipeline.generator.stream(build_prompt(question, passages, language)):
            pieces.append(piece)
            yield piece
        draft = "".join(pieces)
        timings["draft_s"] = time.perf_counter() - started
        trust_not_found = passages[0].relevance < settings.trust_not_found_below
        verdict = verify(draft, passages, question, language, trust_not_found, pipeline.embedder, settings.min_support)
        if verdict.outcome is Outcome.ANSWERED:
            verdict = replace(verdict, doubt=doubt(pieces, question, settings.doubt_below))
        retrieved = [hit.chunk for hit in found.hits]
        if verdict.outcome is Outcome.QUOTED and (invented := invented_number(draft, question, retrieved)):
            reason = f"{verdict.reason}; {invented} is in no retrieved passage"
            verdict = Verdict(NOT_FOUND[language], Outcome.INVENTED, reason)
        elif verdict.outcome in (Outcome.QUOTED, Outcome.OVERRULED):
            verdict = quote_instead(verdict, passages, language, pipeline)
    timings["total_s"] = time.perf_counter() - started
    return Answer(
        question,
        verdict.text,
        language,
        verdict.outcome,
        draft=draft,
        reason=verdict.reason,
        doubt=verdict.doubt,
        citations=citations_for(verdict.text, verdict.cited, verdict.translations),
        retrieved=found.hits,
        passages=tuple(passages),
        timings=timings,
    )


def gate(settings: Settings, best: Passage, language: str) -> float:
    """The relevance the best passage needs for the question to be answered at all."""
    same = best.chunk.language == language
    return settings.min_relevance_same_language if same else settings.min_relevance


def verify(
    raw: str,
    passages: Sequence[Passage],
    question: str,
    language: str,
    trust_not_found: bool = True,
    embedder: Embedder | None = None,
    min_support: float = 0.0,
) -> Verdict:
    """Keep the model's answer only when it passes every check (rag.verification); otherwise the verdict says
    which check failed and that the passages are to be quoted instead (its text is then empty).

    A small model often says "not found" when the passage is in another language; with `trust_not_found` False
    that verdict is overruled by the retrieval score and the passage is quoted. A draft cut off mid-sentence (out of
    tokens) is quoted too. With an `embedder`, a draft that forgot its marker is given that of the passage backing
    it best, and each sentence must come within `min_support` cosine of its passages.
    """
    text = strip_invalid(raw.strip(), passages)
    if NOT_FOUND_MARK in text.upper() or text in NOT_FOUND.values():
        if trust_not_found:
            return Verdict(NOT_FOUND[language], Outcome.REFUSED)
        return Verdict("", Outcome.OVERRULED)
    if cut_off(text):  # looked at before a forgotten marker is put at its end
        return Verdict("", Outcome.QUOTED, "cut off mid-sentence")
    if embedder is not None and min_support > 0:
        text = cite_best(text, passages, embedder, min_support, question, language)
    failed = failed_check(text, passages, question, language, embedder, min_support)
    if failed:
        return Verdict("", Outcome.QUOTED, failed)
    return Verdict(text, Outcome.ANSWERED, cited=tuple(passages))


def doubt(pieces: Sequence[str], question: str, below: float) -> str:
    """The word of a draft that the reader should check against its source ("" if none): the one the model added to
    the question with the least probability, when that is under `below`. A small model's wrong answers are, far
    more often than its right ones, those it was unsure of while writing (eval/REPORT.md)."""
    weakest = least_sure(pieces, question)
    if weakest is None or weakest[1] >= below:
        return ""
    return f"“{weakest[0]}” (probability {weakest[1]:.2f})"


def quote_instead(verdict: Verdict, passages: Sequence[Passage], language: str, pipeline: Pipeline) -> Verdict:
    """The verdict with the best passage (and a runner-up of near-equal relevance) quoted, translated into
    `language` when it is written in another one and the translation checks out."""
    settings = pipeline.settings
    chosen = [*passages[:1], *(p for p in passages[1:2] if p.relevance >= passages[0].relevance - CLOSE_SECOND)]
    translations = {}
    if settings.translate_quotes:
        generator, embedder = pipeline.generator, pipeline.embedder
        translations = translate_passages(chosen, language, generator, embedder, settings.min_translation_similarity)
    text = quote_evidence(chosen, language, translations)
    return replace(verdict, text=text, cited=tuple(chosen), translations=translations)
