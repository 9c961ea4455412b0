"""BM25 keyword search with language-aware tokens: Chinese character bigrams, Vietnamese syllable bigrams."""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

from rag.language import HAN

_TOKEN = re.compile(f"[{HAN}]+|[^\\W_]+", re.UNICODE)
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
    """Okapi BM25 over a fixed list of texts."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.docs = [Counter(tokenize(t)) for t in texts]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg_length = sum(self.lengths) / max(1, len(self.docs))
        frequency: Counter[str] = Counter(term for d in self.docs for term in d)
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in frequency.items()}

    def scores(self, query: str) -> list[float]:
        terms = [t for t in set(tokenize(query)) if t in self.idf]
        out = []
        for doc, length in zip(self.docs, self.lengths):
            norm = self.k1 * (1 - self.b + self.b * length / (self.avg_length or 1))
            out.append(sum(self.idf[t] * doc[t] * (self.k1 + 1) / (doc[t] + norm) for t in terms if t in doc))
        return out

    def top(self, query: str, k: int, allowed: Sequence[bool] | None = None) -> list[tuple[int, float]]:
        """Best k (row, score) pairs with a positive score, among the allowed rows."""
        scored = [(i, s) for i, s in enumerate(self.scores(query)) if s > 0 and (allowed is None or allowed[i])]
        return sorted(scored, key=lambda pair: -pair[1])[:k]
