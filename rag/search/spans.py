"""Narrow a long passage to the clauses that answer the question, keeping exact offsets into the document."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from rag.engines.protocols import Embedder
from rag.language import DATE_MARK, HAN, fold
from rag.records import Passage
from rag.search.crosslingual import Translation
from rag.search.retrieve import ENTRY_CHARS, ENUMERATOR, QUALIFIER, is_entry

_CLAUSE_END = re.compile(r"(?<=[,;:])\s+|(?<=[，；：、])\s*")  # not inside "http://", "1,5 tỷ" or "10:30"
LIST_CHARS = 2  # a list, or a sentence that states a condition, cut by a span may grow to this many times its length
# A sentence that states a condition: cut at a comma, it reads as a rule the document does not make. (若干: "several")
CONDITION = re.compile(r"\b(?:if|unless|provided that|nếu|trừ khi)\b|如果|假如|若(?!干)|除非", re.IGNORECASE)


def clauses(text: str, min_chars: int = 30) -> list[tuple[int, int]]:
    """Clause spans of `text`, cut after commas, semicolons and colons (Latin and CJK); a piece shorter than
    `min_chars` stays with the one before it, so a list ("Hòa bình, Thịnh vượng, Con người và Hành tinh") holds."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in [*_CLAUSE_END.finditer(text), None]:
        end = match.start() if match else len(text)
        if end > start:
            if spans and _width(text[start:end]) < min_chars:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
        start = match.end() if match else end
    return spans


def whole_list(text: str, spans: Sequence[tuple[int, int]], first: int, last: int, max_chars: int) -> tuple[int, int]:
    """The clause range `first`..`last` grown over the items of a list separated by semicolons that it cuts
    ("phụ nữ, hòa bình và an ninh; tội phạm xuyên quốc gia; …; khí hậu"), while it stays within `max_chars`: a
    list question needs every item, and a cut list reads as complete."""

    def joined(i: int) -> bool:  # clause i ends with a semicolon and clause i + 1 follows it
        return 0 <= i < len(spans) - 1 and text[spans[i][0] : spans[i][1]].rstrip().endswith((";", "；"))

    while True:
        grow = [i for i, link in ((first - 1, first - 1), (last + 1, last)) if joined(link)]
        fits = [i for i in grow if _length(spans, min(i, first), max(i, last)) <= max_chars]
        if not fits:
            return first, last
        first, last = min(first, *fits), max(last, *fits)


def announced_list(text: str, spans: Sequence[tuple[int, int]], first: int, last: int, max_chars: int) -> int:
    """The last clause of the range `first`..`last` moved on over the items of a list the range announces (it ends
    with a colon, or ordinals follow it: "proposed three directions. First, …; Second, …"), while the range stays
    within `max_chars`: the announcing clause alone answers nothing."""
    later_sentences = re.split(r"(?<=[.。!?])\s+", text[spans[first][0] :])[1:]
    announcing = text[spans[first][0] : spans[last][1]].rstrip().endswith((":", "：")) or any(
        ENUMERATOR.match(sentence) for sentence in later_sentences
    )
    while announcing and last + 1 < len(spans) and _length(spans, first, last + 1) <= max_chars:
        last += 1
    return last


def whole_condition(passage: Passage, start: int, end: int, max_chars: int) -> tuple[int, int]:
    """The cut `start`..`end` of the passage's text grown to the whole sentences it cuts when they state a condition
    ("If the Larger Work is …, this License permits …"; "… are reinstated if …, and You become compliant prior to
    30 days …"), while it stays within `max_chars`: a condition without its consequence, or a consequence without
    its condition, says what the document does not."""
    sentences = [(a - passage.start, b - passage.start) for a, b in passage.chunk.sentences]
    cut = [(a, b) for a, b in sentences if a < end and b > start]
    if not cut:
        return start, end
    first, last = max(0, min(a for a, _ in cut)), min(len(passage.text), max(b for _, b in cut))
    whole = passage.text[first:last]
    if (first, last) == (start, end) or len(whole) > max_chars or not CONDITION.search(whole):
        return start, end
    return min(first, start), max(last, end)


def with_qualifier(passage: Passage, start: int, end: int, max_chars: int) -> int:
    """The end of the cut `start`..`end` moved on to the end of the sentence that qualifies the cut, the one it
    stops in or the next ("However, You may do so only on Your own behalf"; "Such description must be placed in a
    text file …"), while the cut stays within `max_chars`: a rule without its qualification says more than the
    document."""
    sentences = [(a - passage.start, b - passage.start) for a, b in passage.chunk.sentences]
    a, b = next(((a, b) for a, b in sentences if b > end), (0, 0))
    between = passage.text[end:a] if a >= end else ""
    if a <= start or between.strip() or between.count("\n") > 1 or b - start > max_chars:
        return end
    return min(b, len(passage.text)) if QUALIFIER.match(passage.text[a:b]) else end


def _length(spans: Sequence[tuple[int, int]], first: int, last: int) -> int:
    """Characters from the start of clause `first` to the end of clause `last`."""
    return spans[last][1] - spans[first][0]


def _width(text: str) -> int:
    """Length with a Chinese character counted as three letters (about one word)."""
    return len(text) + 2 * len(re.findall(f"[{HAN}]", text))


def _same_words(text: str, title: str) -> bool:
    return bool(title) and fold(text).strip(" .。…") == fold(title).strip(" .。…")


def focus(passage: Passage, query: np.ndarray, embedder: Embedder, max_chars: int) -> Passage:
    """The passage cut to its best clause (by cosine to the question vector `query`, each clause embedded with its
    document's title) and the neighbours that fit in `max_chars`, with the rest of a semicolon list that it cuts
    (see `whole_list`), the rest of a sentence that states a condition (see `whole_condition`) and a sentence that
    qualifies the cut (see `with_qualifier`); a passage that fits already is kept whole."""
    mark = DATE_MARK.match(passage.text)
    if mark:  # a document's "date yyyy-mm-dd" line is not text to quote; the date is shown apart
        passage = replace(passage, start=passage.start + mark.end(), text=passage.text[mark.end() :])
    if len(passage.text) <= max_chars:
        return passage
    spans = clauses(passage.text) or [(0, len(passage.text))]
    # Each clause carries its document's title, as each sentence does in the index: a bare list ("bốn trụ cột ...
    # Hòa bình, Thịnh vượng") says too little alone, and the clause naming the subject would win.
    texts = [passage.text[a:b] for a, b in spans]
    scores = embedder.embed_documents(texts, [passage.chunk.title] * len(texts)) @ query
    headline = [_same_words(text, passage.chunk.title) for text in texts]
    if any(headline) and not all(headline):  # the title is shown with every passage: a clause that only repeats it
        scores[np.array(headline)] = -1.0  # says nothing more, however close it is to the question
    first = last = int(np.argmax(scores))
    while True:
        grow = [i for i in (first - 1, last + 1) if 0 <= i < len(spans)]
        fits = [i for i in grow if _length(spans, min(i, first), max(i, last)) <= max_chars]
        if not fits:
            break
        best = max(fits, key=lambda i: scores[i])
        first, last = min(first, best), max(last, best)
    first, last = whole_list(passage.text, spans, first, last, LIST_CHARS * max_chars)
    last = announced_list(passage.text, spans, first, last, LIST_CHARS * max_chars)
    start, end = whole_condition(passage, spans[first][0], spans[last][1], LIST_CHARS * max_chars)
    end = with_qualifier(passage, start, end, LIST_CHARS * max_chars)
    text = passage.text[start:end].rstrip(",;:，；：、 ")
    return replace(passage, start=passage.start + start, end=passage.start + start + len(text), text=text)


def answer_spans(
    passages: Sequence[Passage],
    query: np.ndarray,
    embedder: Embedder,
    max_chars: int,
    translation: Translation | None = None,
    terms: Sequence[str] = (),
) -> list[Passage]:
    """Each passage cut to its answering clauses (see `focus`), in retrieval's order and numbered from 1: the
    best-ranked passage holds the answer more often than the one with the single closest clause. A passage written
    in the language of the question's `translation` is cut by its clauses' closeness to the translation.
    A passage that is only its document's title (a headline chunk) is left out when another one remains; the entry
    of one of the question's `terms` is kept whole (retrieval bounded it already)."""
    informative = [p for p in passages if not _same_words(DATE_MARK.sub("", p.text), p.chunk.title)] or passages

    def query_for(passage: Passage) -> np.ndarray:
        if translation is not None and passage.chunk.language == translation.language:
            return translation.query
        return query

    def limit(passage: Passage) -> int:
        return max_chars * ENTRY_CHARS if is_entry(passage.text, terms) else max_chars

    return [replace(focus(p, query_for(p), embedder, limit(p)), n=n) for n, p in enumerate(informative, 1)]
