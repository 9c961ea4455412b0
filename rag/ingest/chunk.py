"""Split documents into sentences and pack whole sentences into token-sized chunks."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable

from rag.language import detect_language
from rag.records import Chunk, Document

TokenCounter = Callable[[str], int]
# A sentence ends at a line break, at 。！？； (no space needed in Chinese), or at .!?… before a space; a remark in
# brackets that follows it stays with it ("… mailing list. (For beginners.)", "… chủ trì cuộc họp. (Ảnh: TTXVN)").
_SENTENCE_END = re.compile(r"\n+|(?<=[。！？；])(?![(（])|(?:(?<=[.!?…])|(?<=[.!?…][\"”’)]))(?=\s)(?!\s+[(（])")
_CLAUSE_END = re.compile(r"(?<=[，,、：:])")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans (start, end) of text[start:end], trimmed of surrounding whitespace; a piece without a letter
    or a digit (a bullet, a rule, a leader of dots) is no sentence, and its text goes with the chunk around it."""
    end = len(text) if end is None else end
    spans, cursor = [], start
    for match in _SENTENCE_END.finditer(text, start, end):
        spans.append((cursor, match.start()))
        cursor = match.end()
    spans.append((cursor, end))
    return [trimmed for span in spans if (trimmed := _trim(text, *span)) and _has_words(text, *trimmed)]


def _has_words(text: str, start: int, end: int) -> bool:
    return any(c.isalnum() for c in text[start:end])


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def _fit(text: str, span: tuple[int, int], budget: int, count: TokenCounter) -> list[tuple[int, int]]:
    """Cut an over-long sentence at clause marks (then at even widths) so each piece fits the budget."""
    start, end = span
    if count(text[start:end]) <= budget:
        return [span]
    pieces, piece_start, previous = [], start, start
    for bound in [m.start() for m in _CLAUSE_END.finditer(text, start, end)] + [end]:
        if count(text[piece_start:bound]) > budget:
            if previous > piece_start:
                pieces.append((piece_start, previous))
                piece_start = previous
            if count(text[piece_start:bound]) > budget:
                pieces += _even_cuts(text, piece_start, bound, budget, count)
                piece_start = bound
        previous = bound
    pieces.append((piece_start, end))
    return [trimmed for piece in pieces if (trimmed := _trim(text, *piece))]


def _even_cuts(text: str, start: int, end: int, budget: int, count: TokenCounter) -> list[tuple[int, int]]:
    width = max(1, (end - start) * budget // (count(text[start:end]) + 1))
    return [(i, min(i + width, end)) for i in range(start, end, width)]


def chunk_document(doc: Document, budget: int, count: TokenCounter) -> list[Chunk]:
    """Pack whole sentences into chunks of at most `budget` tokens; a short last sentence is repeated."""
    sentences = [piece for s in split_sentences(doc.text) for piece in _fit(doc.text, s, budget, count)]
    sizes = {s: count(doc.text[s[0] : s[1]]) for s in sentences}
    groups: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    for sentence in sentences:
        if current and sum(sizes[s] for s in current) + sizes[sentence] > budget:
            groups.append(current)
            last = current[-1]
            current = [last] if sizes[last] <= budget // 4 and sizes[last] + sizes[sentence] <= budget else []
        current.append(sentence)
    if current:
        groups.append(current)
    return [_make_chunk(doc, group) for group in groups]


MIN_WORDS_TO_DETECT = 8  # a shorter chunk ("Ảnh: TTXVN", a table row) is taken to be in its document's language


def chunk_language(text: str, document_language: str) -> str:
    """The language a chunk is written in: its document's, unless it has words enough to tell and they are in
    another (an English paragraph left untranslated in a Chinese manual, a licence quoted in a Vietnamese guide),
    so that it is neither translated from the wrong language nor searched as one."""
    if len(re.findall(r"[^\W\d_]+", text)) < MIN_WORDS_TO_DETECT:
        return document_language
    return detect_language(text)


def _make_chunk(doc: Document, sentences: list[tuple[int, int]]) -> Chunk:
    start, end = sentences[0][0], sentences[-1][1]
    first = bisect_right(doc.pages, start)  # pages starting at or before the chunk: its 1-based page
    return Chunk(
        source=doc.source,
        start=start,
        end=end,
        text=doc.text[start:end],
        language=chunk_language(doc.text[start:end], doc.language),
        title=doc.title,
        date=doc.date,
        sentences=tuple(sentences),
        page=first if doc.pages else None,
        page_breaks=doc.pages[first : bisect_left(doc.pages, end)],
    )
