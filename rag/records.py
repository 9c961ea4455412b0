"""Typed records passed from one pipeline stage to the next."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field


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

    @property
    def last_page(self) -> int | None:
        return None if self.page is None else self.page + len(self.page_breaks)

    def page_at(self, offset: int) -> int | None:
        """The page holding the character at `offset` (an offset into Document.text within this chunk)."""
        return None if self.page is None else self.page + bisect_right(self.page_breaks, offset)


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its scores."""

    row: int  # position in the index
    chunk: Chunk
    score: float  # fused rank score from dense and keyword search
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


@dataclass(frozen=True)
class Answer:
    """The final answer with its checked citations and what was retrieved."""

    question: str
    text: str
    language: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    retrieved: tuple[Hit, ...] = ()
    passages: tuple[Passage, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)  # retrieve_s, total_s

    @property
    def latency_s(self) -> float:
        return self.timings.get("total_s", 0.0)
