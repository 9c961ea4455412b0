"""Hybrid retrieval (dense + BM25 fused by reciprocal rank) and sentence-level passage selection."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from rag.config import Settings
from rag.engines.protocols import Embedder
from rag.language import detect_language
from rag.records import Hit, Passage, Retrieval
from rag.store.vectors import VectorIndex

RRF_K = 60
SHORT_SENTENCE = 60  # characters; a shorter best sentence is shown with its neighbour


def retrieve(
    question: str,
    index: VectorIndex,
    embedder: Embedder,
    settings: Settings,
    language: str | None = None,
    query: np.ndarray | None = None,
    top_k: int | None = None,
) -> Retrieval:
    """The reranked hits for `question` (written in `language`, detected when not given) and the numbered
    passages the generator is shown.

    `query` is the question's vector when the caller has embedded it already; `top_k` overrides the settings.
    """
    language = language or detect_language(question)
    if query is None:
        query = embedder.embed_queries([question])[0]
    found = search(index, question, query, settings.candidates, language if settings.lexical else None)
    hits = rerank(index, found, query, language, settings.same_language_margin)
    return Retrieval(tuple(hits), tuple(passages(hits, top_k or settings.top_k)))


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Fuse ranked row lists: score(row) = sum of 1 / (k + rank) over the lists holding it."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking, 1):
            scores[row] = scores.get(row, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])


def search(index: VectorIndex, question: str, query: np.ndarray, candidates: int, language: str | None) -> list[Hit]:
    """Dense hits fused with BM25 hits over chunks written in the question's `language` (None: dense only).

    BM25 cannot match an English question to Vietnamese text, so for a cross-lingual question
    the lexical list is empty and the ranking is dense only.
    """
    rankings = [[row for row, _ in index.search(query, candidates)]]
    if language:
        rankings.append([row for row, _ in index.bm25.top(question, candidates, index.languages == language)])
    fused = reciprocal_rank_fusion(rankings)[:candidates]
    return [Hit(row, index.chunks[row]) for row, _ in fused]


def rerank(
    index: VectorIndex, hits: Sequence[Hit], query: np.ndarray, language: str, same_language_margin: float
) -> list[Hit]:
    """Order hits by their best sentence's cosine to the question: answer-bearing sentences first.

    A sentence in the question's `language` scores about `same_language_margin` higher than an equally relevant one
    in another language, so that much is taken off it before the two are compared. Each hit keeps its own cosine.
    """
    ranked = []
    for hit in hits:
        scores = index.sentence_scores(hit.row, query)
        best = int(np.argmax(scores))
        ranked.append(replace(hit, relevance=float(scores[best]), best_sentence=best))
    return sorted(ranked, key=lambda h: -(h.relevance - same_language_margin * (h.chunk.language == language)))


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
