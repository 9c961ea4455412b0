"""Answer a question: read it, retrieve, gate, let the model read the passages, decide, and quote when the draft
is not kept."""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass

from rag.answer.checks import least_sure
from rag.answer.citations import citations_for
from rag.answer.decide import Decision, decide, gate, names_both_parties, states_the_ordinal, unused_passage
from rag.answer.prompt import build_prompt
from rag.answer.question import Question, read_question
from rag.answer.translate import quote_evidence, translate_passages
from rag.config import AnswerSettings
from rag.engines import protocols
from rag.engines.protocols import Embedder, Piece, joined
from rag.pipeline import Pipeline
from rag.records import Answer, Chunk, Outcome, Passage, Prompt, Reason, Retrieval
from rag.search.conversation import search_text
from rag.search.crosslingual import Translation, likely_language, translate_question
from rag.search.retrieve import retrieve
from rag.search.spans import answer_spans

CLOSE_SECOND = 0.05  # a second passage this close in relevance to the best is quoted too


class Response:
    """An answer in the making: `passages` are the sources the model reads, known before it writes; iterate the
    response for the model's draft as it streams; `answer()` for the checked Answer.

    Iterating stops when the draft is complete; `answer()` and `text()` run whatever is left and may be called
    any number of times.
    """

    def __init__(self, steps: Generator[str, None, Answer], passages: Sequence[Passage] = ()) -> None:
        self._steps = steps
        self._answer: Answer | None = None
        self.passages = tuple(passages)

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


@dataclass(frozen=True)
class Preparation:
    """Everything decided before the model writes: the question read once, what retrieval found, the passages the
    model reads (cut to their answering clauses), and either the prompt or the gate's decision not to generate."""

    question: Question
    translation: Translation | None  # the question in the language of the passages likely to answer it
    found: Retrieval
    passages: tuple[Passage, ...]
    prompt: Prompt | None
    gated: Decision | None
    started: float
    timings: dict[str, float]


@dataclass(frozen=True)
class Reader:
    """What reading the passages needs: the model that writes, the embedder that checks, and the answer settings."""

    generator: protocols.Generator
    embedder: Embedder
    settings: AnswerSettings

    @classmethod
    def of(cls, pipeline: Pipeline) -> Reader:
        return cls(pipeline.generator, pipeline.embedder, pipeline.settings.answer)


def prepare(question: str, pipeline: Pipeline, history: Sequence[str] = ()) -> Preparation:
    """Read the question, retrieve, gate, cut the passages, gate again on the names they hold and the ranks their
    documents state, and build the prompt; BadQuestion when there is nothing to answer. `history` holds the
    conversation's earlier questions: a follow-up is searched together with the one it follows."""
    started = time.perf_counter()
    settings = pipeline.settings
    asked = read_question(question, settings.answer.max_question_chars)
    searched = search_text(asked.text, history)
    query = pipeline.embedder.embed_queries([searched])[0]
    translation = None
    if settings.search.translate_questions and (other := likely_language(pipeline.index, query, asked.language)):
        minimum = settings.search.min_question_similarity
        translation = translate_question(searched, other, pipeline.generator, pipeline.embedder, minimum)
    margin = settings.answer.same_language_margin
    found = retrieve(
        searched,
        pipeline.index,
        pipeline.embedder,
        settings.search,
        margin,
        asked.language,
        query,
        translation=translation,
        terms=asked.terms,
    )
    unknown = [term for term in asked.terms if not pipeline.index.holds_term(term)]
    gated = gate(asked, found.passages, settings.answer, unknown)
    if gated:
        passages, prompt = found.passages, None
    else:
        spans = answer_spans(
            found.passages, query, pipeline.embedder, settings.search.span_chars, translation, asked.terms
        )
        passages = tuple(spans)
        gated = names_both_parties(asked, passages, pipeline.embedder, settings.answer) or states_the_ordinal(
            asked, passages, pipeline.index.document
        )
        prompt = None if gated else build_prompt(asked.text, passages, asked.language)
    timings = {"retrieve_s": time.perf_counter() - started}
    return Preparation(asked, translation, found, passages, prompt, gated, started, timings)


def ask(question: str, pipeline: Pipeline, history: Sequence[str] = ()) -> Response:
    """Answer `question` from the documents (see `prepare`): the response knows its sources at once, and the model
    writes as it is iterated."""
    prepared = prepare(question, pipeline, history)
    return Response(_answer(prepared, Reader.of(pipeline)), prepared.passages)


def _answer(prepared: Preparation, reader: Reader) -> Generator[str, None, Answer]:
    question, passages, timings = prepared.question, prepared.passages, prepared.timings
    pieces: list[Piece] = []
    draft, decision = "", prepared.gated
    if prepared.prompt is not None:
        for piece in reader.generator.stream(prepared.prompt):
            pieces.append(piece)
            yield piece.text
        timings["draft_s"] = time.perf_counter() - prepared.started
        draft = joined(pieces)
        decision = decide(draft, question, passages, relevant(prepared, reader), reader.embedder, reader.settings)
        if decision.outcome is Outcome.QUOTED and reader.settings.second_reading:
            decision, pieces = read_again(draft, decision, prepared, reader, pieces)
    assert decision is not None
    text, cited = decision.text, passages if decision.outcome is Outcome.ANSWERED else ()
    translations: Mapping[int, str] = {}
    if decision.outcome in (Outcome.QUOTED, Outcome.OVERRULED):
        text, cited, translations = quote_instead(passages, question.language, reader)
    unsure = doubt(pieces, question.text, reader.settings.doubt_below) if decision.outcome is Outcome.ANSWERED else ""
    timings["total_s"] = time.perf_counter() - prepared.started
    return Answer(
        question.text,
        text,
        question.language,
        decision.outcome,
        draft=draft,
        reason=decision.reason,
        detail=decision.detail,
        doubt=unsure,
        citations=citations_for(text, cited, translations),
        retrieved=prepared.found.hits,
        searched_as=prepared.translation.text if prepared.translation else "",
        passages=passages,
        timings=timings,
    )


def relevant(prepared: Preparation, reader: Reader) -> list[Chunk]:
    """The chunks retrieval found that pass the gate's floor: where a number a failed draft states may have come
    from (see `invented_number`). A chunk of an unrelated document, scored near zero, holds some number or other
    ("Debian Edu 12" in a title), and the more documents an index holds, the less a made-up number would show."""
    return [hit.chunk for hit in prepared.found.hits if hit.relevance >= reader.settings.min_relevance]


def read_again(
    draft: str, failed: Decision, prepared: Preparation, reader: Reader, pieces: list[Piece]
) -> tuple[Decision, list[Piece]]:
    """After a draft fails a check, the model reads the best passage it did not draw on alone, unless that passage
    is clearly weaker than the best (`unused_passage`): two sources side by side are where a small model takes a
    date from one for the fact of the other. The new draft is kept when it
    passes every check, else the first decision stands. Returns the decision and the pieces it was made from."""
    question = prepared.question
    other = unused_passage(draft, question, prepared.passages, reader.settings)
    if other is None:
        return failed, pieces
    prompt = build_prompt(question.text, (other,), question.language)
    again = list(reader.generator.stream(prompt))
    decision = decide(joined(again), question, (other,), relevant(prepared, reader), reader.embedder, reader.settings)
    if decision.outcome is not Outcome.ANSWERED:
        return failed, pieces
    detail = f"{failed.detail}; read [{other.n}] alone"
    return Decision(Outcome.ANSWERED, Reason.KEPT_ON_SECOND_READING, detail, decision.text), again


def doubt(pieces: Sequence[Piece], question: str, below: float) -> str:
    """The word of a draft that the reader should check against its source ("" if none): the one the model added to
    the question with the least probability, when that is under `below`. A small model's wrong answers are, far
    more often than its right ones, those it was unsure of while writing (eval/REPORT.md)."""
    weakest = least_sure(pieces, question)
    if weakest is None or weakest[1] >= below:
        return ""
    return f"“{weakest[0]}” (probability {weakest[1]:.2f})"


def quote_instead(
    passages: Sequence[Passage], language: str, reader: Reader
) -> tuple[str, tuple[Passage, ...], Mapping[int, str]]:
    """The best passage (and a runner-up of near-equal relevance) quoted, translated into `language` when it is
    written in another one and the translation checks out: the text, the passages it cites, their translations."""
    chosen = (*passages[:1], *(p for p in passages[1:2] if p.relevance >= passages[0].relevance - CLOSE_SECOND))
    translations: dict[int, str] = {}
    if reader.settings.translate_quotes:
        minimum = reader.settings.min_translation_similarity
        translations = translate_passages(chosen, language, reader.generator, reader.embedder, minimum)
    return quote_evidence(chosen, language, translations), chosen, translations
