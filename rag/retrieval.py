"""Hybrid retrieval (dense + BM25 fused by reciprocal rank) and sentence-level passage selection."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from rag.index import VectorIndex
from rag.language import detect_language
from rag.lexical import BM25
from rag.records import Hit, Passage

RRF_K = 60
SHORT_SENTENCE = 60  # characters; a shorter best sentence is shown with its neighbour


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Fuse ranked row lists: score(row) = sum of 1 / (k + rank) over the lists holding it."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking, 1):
            scores[row] = scores.get(row, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])


@dataclass
class Retriever:
    """Finds the chunks and the answer-bearing sentences for a question vector."""

    index: VectorIndex
    candidates: int = 12
    lexical: bool = True
    _bm25: BM25 | None = field(default=None, repr=False)
    _languages: np.ndarray | None = field(default=None, repr=False)

    @property
    def bm25(self) -> BM25:
        if self._bm25 is None:
            self._bm25 = BM25([c.text for c in self.index.chunks])
        return self._bm25

    @property
    def languages(self) -> np.ndarray:
        """Each chunk's language, to keep keyword search to the question's language."""
        if self._languages is None:
            self._languages = np.array([c.language for c in self.index.chunks])
        return self._languages

    def search(self, question: str, query: np.ndarray) -> list[Hit]:
        """Dense hits fused with BM25 hits over chunks written in the question's language.

        BM25 cannot match an English question to Vietnamese text, so for a cross-lingual question
        the lexical list is empty and the ranking is dense only.
        """
        rankings = [[row for row, _ in self.index.search(query, self.candidates)]]
        if self.lexical:
            allowed = self.languages == detect_language(question)
            rankings.append([row for row, _ in self.bm25.top(question, self.candidates, allowed)])
        fused = reciprocal_rank_fusion(rankings)[: self.candidates]
        return [Hit(row, self.index.chunks[row], score) for row, score in fused]

    def rerank(self, hits: Sequence[Hit], query: np.ndarray) -> list[Hit]:
        """Order hits by their best sentence's cosine to the question: answer-bearing sentences first."""
        ranked = []
        for hit in hits:
            scores = self.index.sentence_scores(hit.row, query)
            best = int(np.argmax(scores))
            ranked.append(replace(hit, relevance=float(scores[best]), best_sentence=best))
        return sorted(ranked, key=lambda h: -h.relevance)


def passages(hits: Sequence[Hit], top_k: int) -> list[Passage]:
    """Numbered passages from reranked hits: each hit's best sentence, with a neighbour when it is short."""
    found: dict[tuple[str, int, int], Passage] = {}
    for hit in hits:
        start, end = _widen(hit.chunk.sentences, hit.best_sentence)
        key = (hit.chunk.source, start, end)
        if key not in found:
            text = hit.chunk.text[start - hit.chunk.start : end - hit.chunk.start]
            found[key] = Passage(len(found) + 1, hit.chunk, start, end, text, hit.relevance)
        if len(found) == top_k:
            break
    return list(found.values())


def _widen(sentences: tuple[tuple[int, int], ...], best: int) -> tuple[int, int]:
    start, end = sentences[best]
    if end - start < SHORT_SENTENCE and best + 1 < len(sentences):
        end = sentences[best + 1][1]
    return start, end
