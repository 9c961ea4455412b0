"""The question-answering pipeline: check the question, retrieve, gate, prompt, generate, verify citations."""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterator

from rag.citations import (
    citations_for,
    names_supported,
    numbers_supported,
    repeats_question,
    strip_invalid,
    without_markers,
)
from rag.config import Settings
from rag.errors import BadQuestion
from rag.language import detect_language
from rag.pipeline import Pipeline
from rag.prompting import NOT_FOUND_MARK, build_prompt
from rag.records import Answer, Passage
from rag.retrieval import passages as select_passages

NOT_FOUND = {
    "en": "The documents do not contain the answer to this question.",
    "vi": "Tài liệu không chứa câu trả lời cho câu hỏi này.",
    "zh": "文档中没有这个问题的答案。",
}
EVIDENCE_LEAD = {"en": "According to the documents:", "vi": "Theo tài liệu:", "zh": "根据文档："}
CLOSE_SECOND = 0.05  # a second passage this close in relevance is quoted too


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


def ask(question: str, pipeline: Pipeline, history: str = "") -> Iterator[str | Answer]:
    """Yield the model's text as it is written, then the checked Answer.

    `history` is earlier conversation text that helps retrieval of a follow-up question.
    """
    started = time.perf_counter()
    settings = pipeline.settings
    question = clean_question(question, settings.max_question_chars)
    language = detect_language(question)
    search_text = f"{history} {question}".strip() if history else question
    query = pipeline.embedder.embed_queries([search_text])[0]
    hits = pipeline.retriever.rerank(pipeline.retriever.search(search_text, query), query)
    passages = select_passages(hits, settings.top_k)
    timings = {"retrieve_s": time.perf_counter() - started}
    if not passages or passages[0].relevance < gate(settings, passages[0], language):
        text, citations, abstained = NOT_FOUND[language], (), True
    else:
        pieces: list[str] = []
        for piece in pipeline.generator.stream(build_prompt(question, passages, language)):
            pieces.append(piece)
            yield piece
        trust_not_found = passages[0].relevance < settings.trust_not_found_below
        text, abstained = verify("".join(pieces), passages, question, language, trust_not_found)
        citations = citations_for(text, passages)
    timings["total_s"] = time.perf_counter() - started
    yield Answer(question, text, language, abstained, citations, tuple(hits), tuple(passages), timings)


def gate(settings: Settings, best: Passage, language: str) -> float:
    """The relevance the best passage needs for the question to be answered at all."""
    same = best.chunk.language == language
    return settings.min_relevance_same_language if same else settings.min_relevance


def answer(question: str, pipeline: Pipeline, history: str = "") -> Answer:
    """Run `ask` to the end and return the Answer."""
    for event in ask(question, pipeline, history):
        if isinstance(event, Answer):
            return event
    raise AssertionError("ask() always ends with an Answer")


def verify(
    raw: str, passages: list[Passage], question: str, language: str, trust_not_found: bool = True
) -> tuple[str, bool]:
    """Keep the model's answer only when it cites a passage, states only numbers and names found in the cited
    passages (or the question) and is in the question's language; otherwise quote the best passages.
    Returns (text, abstained).

    A small model often says "not found" when the passage is in another language; with
    `trust_not_found` False that verdict is overruled by the retrieval score and the passage is quoted.
    """
    text = strip_invalid(raw.strip(), passages)
    if NOT_FOUND_MARK in text.upper() or text in NOT_FOUND.values():
        if trust_not_found:
            return NOT_FOUND[language], True
        return quote_evidence(passages, language), False
    cited = citations_for(text, passages)
    words = without_markers(text)
    right_language = detect_language(words) == language or not re.search(r"[^\W\d_]", words)
    supported = numbers_supported(text, cited) and names_supported(text, cited, question)
    supported = supported and not repeats_question(text, question)
    if cited and words and right_language and supported:
        return text, False
    return quote_evidence(passages, language), False


def quote_evidence(passages: list[Passage], language: str) -> str:
    """An extractive answer: the best passage (and a runner-up of near-equal relevance) quoted verbatim,
    each with its title, date and citation, introduced in `language`."""
    chosen = passages[:1] + [p for p in passages[1:2] if p.relevance >= passages[0].relevance - CLOSE_SECOND]
    quotes = [_quote(p, language) for p in chosen]
    return f"{EVIDENCE_LEAD.get(language, EVIDENCE_LEAD['en'])} " + ("；" if language == "zh" else "; ").join(quotes)


def _quote(passage: Passage, language: str) -> str:
    chunk = passage.chunk
    text = " ".join(passage.text.split())
    title = chunk.title if chunk.title and not passage.text.startswith(chunk.title.rstrip("…")) else ""
    if language == "zh":
        origin = "，".join(x for x in (f"《{title}》" if title else "", chunk.date or "") if x)
        return f"“{text}”" + (f"（{origin}）" if origin else "") + f"[{passage.n}]"
    origin = ", ".join(x for x in (f"“{title}”" if title else "", chunk.date or "") if x)
    return f"“{text}”" + (f" ({origin})" if origin else "") + f" [{passage.n}]"


def answer_json(result: Answer) -> dict[str, object]:
    """The machine-readable form of an answer shared by `ask --json` and the eval."""
    return {
        "answer": result.text,
        "abstained": result.abstained,
        "language": result.language,
        "citations": [
            {
                "n": c.n,
                "source": c.source,
                "start": c.start,
                "end": c.end,
                "text": c.text,
                "title": c.title,
                "date": c.date,
                "page": c.page,
            }
            for c in result.citations
        ],
        "retrieved": [
            {"source": h.chunk.source, "page": h.chunk.page, "score": round(h.relevance, 4), "text": h.chunk.text}
            for h in result.retrieved
        ],
        "latency_s": round(result.latency_s, 3),
    }
