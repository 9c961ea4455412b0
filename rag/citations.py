"""Parse the [n] markers of an answer, drop those that point nowhere, check what the answer claims, and quote the
evidence verbatim when the answer cannot be kept."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from rag.language import fold
from rag.records import Citation, Passage

MARKER = re.compile(r"\[\s*(\d+(?:\s*[,，;、]\s*\d+)*)\s*\]")
_NUMBER = re.compile(r"\d+")
_NAME = re.compile(r"\b[A-Z][\w'’-]*")
EVIDENCE_LEAD = {"en": "According to the documents:", "vi": "Theo tài liệu:", "zh": "根据文档："}
CLOSE_SECOND = 0.05  # a second passage this close in relevance is quoted too
_FUNCTION_WORDS = {"the", "in", "on", "at", "it", "its", "they", "this", "these", "a", "an", "yes", "no", "he", "she"}


def cited_numbers(text: str) -> list[int]:
    """Passage numbers cited in `text`, in order of first appearance ([1], [1, 2], [2，3] all count)."""
    seen: list[int] = []
    for match in MARKER.finditer(text):
        for n in map(int, _NUMBER.findall(match.group(1))):
            if n not in seen:
                seen.append(n)
    return seen


def strip_invalid(text: str, passages: Sequence[Passage]) -> str:
    """Remove citation numbers that point to no passage; a marker left empty disappears."""
    valid = {p.n for p in passages}

    def keep(match: re.Match[str]) -> str:
        numbers = [n for n in map(int, _NUMBER.findall(match.group(1))) if n in valid]
        return f"[{', '.join(map(str, numbers))}]" if numbers else ""

    return re.sub(r"\s+([.。,，])", r"\1", MARKER.sub(keep, text)).strip()


def citations_for(text: str, passages: Sequence[Passage]) -> tuple[Citation, ...]:
    """Citation records for the valid passage numbers cited in `text`."""
    by_number = {p.n: p for p in passages}
    return tuple(
        Citation(n, p.chunk.source, p.start, p.end, p.text, p.chunk.title, p.chunk.date)
        for n in cited_numbers(text)
        if (p := by_number.get(n))
    )


def without_markers(text: str) -> str:
    return MARKER.sub("", text).strip()


def numbers_supported(text: str, cited: Sequence[Citation]) -> bool:
    """Every number the answer states appears in a cited passage, its title or its date."""
    evidence = " ".join(f"{c.text} {c.title} {c.date or ''}" for c in cited)
    known = set(_NUMBER.findall(evidence)) | {n.lstrip("0") for n in _NUMBER.findall(evidence)}
    return all(n in known or n.lstrip("0") in known for n in _NUMBER.findall(without_markers(text)))


def names_supported(text: str, cited: Sequence[Citation], question: str) -> bool:
    """Every capitalized name in the answer occurs in the question or a cited passage (or its title).

    Compared after folding case, diacritics and spaces, so "Viet Nam" backs "Vietnam".
    """
    evidence = fold(" ".join([question, *(f"{c.text} {c.title}" for c in cited)])).replace(" ", "")
    names = {fold(n).replace(" ", "") for n in _NAME.findall(without_markers(text))}
    return all(n in evidence for n in names - _FUNCTION_WORDS)


def repeats_question(text: str, question: str) -> bool:
    """The answer mostly restates the question (a small model's common failure)."""
    answer, asked = fold(without_markers(text)).strip(" ?.。？"), fold(question).strip(" ?.。？")
    return difflib.SequenceMatcher(None, answer, asked).ratio() > 0.8


def quote_evidence(passages: Sequence[Passage], language: str) -> str:
    """An extractive answer: the best passage (and a runner-up of near-equal relevance) quoted verbatim,
    each with its title, date and citation, introduced in `language`."""
    chosen = [*passages[:1], *(p for p in passages[1:2] if p.relevance >= passages[0].relevance - CLOSE_SECOND)]
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
