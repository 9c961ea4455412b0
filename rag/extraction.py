"""Narrow a long passage to the clauses that answer the question, keeping exact offsets into the document."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from rag.models import Embedder
from rag.records import Passage

_CLAUSE_END = re.compile(r"(?<=[,;:，；：、])\s*")


def clauses(text: str) -> list[tuple[int, int]]:
    """Clause spans of `text`, cut after commas, semicolons and colons (Latin and CJK)."""
    spans, start = [], 0
    for match in _CLAUSE_END.finditer(text):
        if match.start() > start:
            spans.append((start, match.start()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def focus(passage: Passage, query: np.ndarray, embedder: Embedder, max_chars: int) -> Passage:
    """The passage cut to its best clause (by cosine to the question vector `query`) and the neighbours that fit in
    `max_chars`; a passage that fits already is returned as it is."""
    if len(passage.text) <= max_chars:
        return passage
    spans = clauses(passage.text)
    scores = embedder.embed_documents([passage.text[a:b] for a, b in spans]) @ query
    first = last = int(np.argmax(scores))
    while True:
        grow = [i for i in (first - 1, last + 1) if 0 <= i < len(spans)]
        fits = [i for i in grow if spans[max(i, last)][1] - spans[min(i, first)][0] <= max_chars]
        if not fits:
            break
        best = max(fits, key=lambda i: scores[i])
        first, last = min(first, best), max(last, best)
    start, end = spans[first][0], spans[last][1]
    text = passage.text[start:end].rstrip(",;:，；：、 ")
    return replace(passage, start=passage.start + start, end=passage.start + start + len(text), text=text)
