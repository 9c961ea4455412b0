"""BM25 keyword search with language-aware tokens: Chinese character bigrams, Vietnamese syllable bigrams."""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

import numpy as np

from rag.language import HAN

_TOKEN = re.compile(f"[{HAN}]+|[^\\W_{HAN}]+", re.UNICODE)  # a run of digits or letters stops where Chinese starts
_CJK = re.compile(f"[{HAN}]")


def tokenize(text: str) -> list[str]:
    """Words and their adjacent pairs for spaced scripts; single characters and bigrams for Chinese.

    Whitespace splitting would turn a Chinese sentence into one token and score nothing, and a
    Vietnamese word is often two syllables, so both scripts get bigrams.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    tokens: list[str] = []
    words: list[str] = []
    for run in _TOKEN.findall(text):
        if _CJK.match(run):
            tokens += list(run) + [run[i : i + 2] for i in range(len(run) - 1)]
        else:
            words.append(run)
    tokens += words + [f"{a}_{b}" for a, b in itertools.pairwise(words)]
    return tokens


class BM25:
    """Okapi BM25 over a fixed list of texts, scored through an inverted index (only texts sharing a term cost
    time, so a query stays fast over a large collection)."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        postings: dict[str, tuple[list[int], list[int]]] = {}
        lengths = np.zeros(len(texts), np.float32)
        for row, text in enumerate(texts):
            counts = Counter(tokenize(text))
            lengths[row] = sum(counts.values())
            for term, tf in counts.items():
                rows, tfs = postings.setdefault(term, ([], []))
                rows.append(row)
                tfs.append(tf)
        self.size = len(texts)
        self.norm = k1 * (1 - b + b * lengths / (lengths.mean() if len(texts) and lengths.mean() else 1.0))
        self.postings = {t: (np.array(r, np.int64), np.array(f, np.float32)) for t, (r, f) in postings.items()}
        self.idf = {t: math.log(1 + (self.size - len(r) + 0.5) / (len(r) + 0.5)) for t, (r, _) in postings.items()}

    def scores(self, query: str) -> np.ndarray:
        out = np.zeros(self.size, np.float32)
        for term in set(tokenize(query)) & self.postings.keys():
            rows, tf = self.postings[term]
            out[rows] += self.idf[term] * tf * (self.k1 + 1) / (tf + self.norm[rows])
        return out

    def top(self, query: str, k: int, allowed: Sequence[bool] | np.ndarray | None = None) -> list[tuple[int, float]]:
        """Best k (row, score) pairs with a positive score, among the allowed rows."""
        scores = self.scores(query)
        if allowed is not None:
            scores[~np.asarray(allowed, bool)] = 0.0
        rows = np.flatnonzero(scores > 0)
        best = rows[np.argsort(-scores[rows], kind="stable")[:k]]
        return [(int(r), float(scores[r])) for r in best]
