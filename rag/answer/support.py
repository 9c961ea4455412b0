"""Semantic support: does each sentence of an answer say what the passages it cites say, in any language?

A cross-lingual embedder puts a sentence and its translation close together, so the cosine between an answer
sentence and the best-matching sentence of its cited passages stands in for entailment: an answer sentence
that no cited sentence comes near is unsupported, whatever language either is written in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.answer.citations import MARKER, cited_numbers

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer (without its markers) and the passage numbers it cites."""

    text: str
    cites: tuple[int, ...]


def claims(answer: str) -> list[Claim]:
    """The answer's sentences; a sentence without a marker takes the markers of the next one, else the previous."""
    sentences = [s.strip() for s in _SENTENCE_END.split(answer) if s and MARKER.sub("", s).strip(" .。")]
    cites = [tuple(cited_numbers(s)) for s in sentences]
    for i in range(len(cites)):
        if not cites[i]:
            later = [c for c in cites[i + 1 :] if c]
            earlier = [c for c in cites[:i] if c]
            cites[i] = later[0] if later else earlier[-1] if earlier else ()
    return [Claim(_unmarked(s), c) for s, c in zip(sentences, cites)]


def _unmarked(sentence: str) -> str:
    return re.sub(r"\s+([.。,，!?！？])", r"\1", MARKER.sub("", sentence)).strip()


def support_scores(claim_vectors: np.ndarray, evidence_vectors: np.ndarray) -> np.ndarray:
    """For each claim (row), its highest cosine to any evidence row; vectors are L2-normalized. No evidence: 0."""
    if len(evidence_vectors) == 0:
        return np.zeros(len(claim_vectors), np.float32)
    return (np.asarray(claim_vectors) @ np.asarray(evidence_vectors).T).max(axis=1)
