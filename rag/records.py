"""Typed records passed from one pipeline stage to the next."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class Document:
    """A loaded, NFC-normalized text file (PDF and DOCX files are read into text first)."""

    source: str  # file name, e.g. 000_ce3c90c106d94d56.txt
    path: str
    text: str
    title: str
    date: str | None  # ISO yyyy-mm-dd when the document states one
    language: str  # en | vi | zh
    fingerprint: str  # sha256 of the raw bytes
    pages: tuple[int, ...] = ()  # offset into text where each page starts; empty for formats without pages
    ocr: tuple[tuple[int, float], ...] = ()  # (1-based page, mean word confidence 0-100) of each page read by OCR


@dataclass(frozen=True)
class Chunk:
    """A span of a document, sized in embedding-model tokens, made of whole sentences."""

    source: str
    start: int  # character offsets into Document.text
    end: int
    text: str
    language: str
    title: str
    date: str | None
    sentences: tuple[tuple[int, int], ...]  # sentence offsets into Document.text
    page: int | None = None  # 1-based page the chunk starts on; None for formats without pages
    page_breaks: tuple[int, ...] = ()  # offsets into Document.text where a later page starts inside the chunk

    def page_at(self, offset: int) -> int | None:
        """The page holding the character at `offset` (an offset into Document.text within this chunk)."""
        return None if self.page is None else self.page + bisect_right(self.page_breaks, offset)


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its scores."""

    row: int  # position in the index
    chunk: Chunk
    relevance: float = 0.0  # cosine between question and the chunk's best sentence (set by reranking)
    best_sentence: int = 0  # index into chunk.sentences


@dataclass(frozen=True)
class Passage:
    """Answer-bearing text shown to the model as [n]; offsets point into the source document."""

    n: int
    chunk: Chunk
    start: int
    end: int
    text: str
    relevance: float  # cosine between question and its best sentence


@dataclass(frozen=True)
class Prompt:
    """The same request as chat messages (for instruct models) and as plain text (for base models)."""

    system: str
    user: str
    completion: str
    language: str = ""  # the language the reply must be written in ("" when any will do)
    head: str = ""  # the start of `completion` that every prompt of its kind shares (instructions, examples)

    def messages(self) -> list[dict[str, str]]:
        """The prompt as chat messages, the same for a local chat-template model and a remote engine: the fixed
        instructions as the system message (small instruct models follow them better there), the request as the
        user's."""
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]


@dataclass(frozen=True)
class Citation:
    """A passage the answer cites."""

    n: int
    source: str
    start: int
    end: int
    text: str
    title: str
    date: str | None
    page: int | None = None  # 1-based page where the cited text starts; None for formats without pages
    translation: str = ""  # the text in the asker's language, when it is in another and has been translated


@dataclass(frozen=True)
class Retrieval:
    """What retrieval found for a question: reranked hits, best first, and the passages numbered from them."""

    hits: tuple[Hit, ...]
    passages: tuple[Passage, ...]


class Outcome(StrEnum):
    """How the answer's text came about."""

    ANSWERED = "answered"  # the model's draft passed every check and is the answer
    QUOTED = "quoted"  # the draft failed a check (see Answer.reason): the best passages are quoted (translated) instead
    OVERRULED = "overruled"  # the model said "not found" but the passages are relevant enough: they are quoted
    GATED = "gated"  # no passage was relevant enough: abstained before generating
    REFUSED = "refused"  # the model said "not found" and that verdict was trusted
    INVENTED = "invented"  # the draft failed a check and stated a number that no retrieved passage holds: abstained


class Reason(StrEnum):
    """Why an answer came out as it did: the check a draft failed, or why nothing was generated (rag.answer.decide)."""

    KEPT = "kept"  # the draft passed every check
    KEPT_ON_SECOND_READING = "kept_on_second_reading"  # the draft failed; the model read another passage alone
    NOTHING_RETRIEVED = "nothing_retrieved"  # the index gave nothing for the question
    BELOW_GATE = "below_gate"  # no passage was relevant enough to answer from
    UNKNOWN_TERM = "unknown_term"  # the question names a term (an option, a model) that no document holds
    UNNAMED_PARTY = "unnamed_party"  # the passages name one of the pair the question asks of, never the other
    UNSTATED_ORDINAL = "unstated_ordinal"  # the question's "7th meeting" is in none of the passages' documents
    NOT_FOUND = "not_found"  # the model found no answer, and that was trusted
    NOT_FOUND_OVERRULED = "not_found_overruled"  # the model found no yes or no, but the passages are relevant enough
    CUT_OFF = "cut_off"  # the draft stops mid-sentence
    EMPTY = "empty"  # the draft is only markers
    NO_CITATION = "no_citation"  # the draft cites no passage
    WRONG_LANGUAGE = "wrong_language"  # the draft is not in the question's language
    RESTATES_QUESTION = "restates_question"  # the draft adds nothing to the question
    ANNOUNCES_ONLY = "announces_only"  # the draft announces a list and stops
    NUMBER_NOT_IN_PASSAGES = "number_not_in_passages"  # a date or number the cited passages do not state
    HALF_SPAN = "half_span"  # one end of a span of days given as the date
    NAME_NOT_IN_PASSAGES = "name_not_in_passages"  # a name the cited passages do not hold
    WRONG_KIND = "wrong_kind"  # not the kind of answer the question asks for (a date for "when", a number, a list)
    SWAPPED_SUBJECT = "swapped_subject"  # about another pair of names than the question ("Vietnam and …")
    WEAKER_SOURCE = "weaker_source"  # cites only a passage clearly less relevant than the best one
    UNSUPPORTED_SENTENCE = "unsupported_sentence"  # a sentence its passage does not back


@dataclass(frozen=True)
class Answer:
    """The final answer with its checked citations, the model's draft, and what was retrieved."""

    question: str
    text: str
    language: str
    outcome: Outcome
    draft: str = ""  # the model's text as it streamed ("" when gated)
    reason: Reason = Reason.KEPT  # the check the draft failed, or why nothing was generated
    detail: str = ""  # the reason in words, with what it found ("2018 is not in the cited passages")
    doubt: str = ""  # the word of a kept draft that the model was unsure of, with its probability ("" if none)
    citations: tuple[Citation, ...] = ()
    retrieved: tuple[Hit, ...] = ()
    searched_as: str = ""  # the question as also searched in another language ("" when it was not translated)
    passages: tuple[Passage, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)  # retrieve_s, total_s

    @property
    def abstained(self) -> bool:
        return self.outcome in (Outcome.GATED, Outcome.REFUSED, Outcome.INVENTED)

    @property
    def latency_s(self) -> float:
        return self.timings.get("total_s", 0.0)

    def note(self) -> str:
        """One line on why the text differs from the model's draft, or on the word of a kept draft to check against
        its source ("" when there is nothing to say)."""
        return {
            Outcome.ANSWERED: "; ".join(
                note
                for note in (
                    f"the first draft failed a check ({self.detail})"
                    if self.reason is Reason.KEPT_ON_SECOND_READING
                    else "",
                    f"the model was unsure of {self.doubt}: check it against the source" if self.doubt else "",
                )
                if note
            ),
            Outcome.QUOTED: f"the draft failed a check ({self.detail}), so the documents are quoted instead",
            Outcome.OVERRULED: "the model said NOT FOUND, but the passages are relevant enough, so they are quoted",
            Outcome.GATED: f"the passages found do not answer it: {self.detail}",
            Outcome.REFUSED: "the model found no answer in the passages",
            Outcome.INVENTED: f"the draft failed a check ({self.detail}), so the documents are taken not to hold the answer",
        }[self.outcome]

    def to_dict(self) -> dict[str, Any]:
        """The machine-readable form shared by `rag ask --json` and the eval."""
        return {
            "answer": self.text,
            "abstained": self.abstained,
            "outcome": self.outcome.value,
            "reason": self.reason.value,
            "detail": self.detail,
            "doubt": self.doubt,
            "draft": self.draft,
            "language": self.language,
            "citations": [asdict(c) for c in self.citations],
            "retrieved": [
                {"source": h.chunk.source, "page": h.chunk.page, "score": round(h.relevance, 4), "text": h.chunk.text}
                for h in self.retrieved
            ],
            "searched_as": self.searched_as,
            "sources_s": round(self.timings.get("retrieve_s", 0.0), 3),
            "latency_s": round(self.latency_s, 3),
        }
