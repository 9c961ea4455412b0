"""Hybrid retrieval (dense + BM25 fused by reciprocal rank) and sentence-level passage selection."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from rag.config import SearchSettings
from rag.engines.protocols import Embedder
from rag.language import question_language
from rag.records import Chunk, Hit, Passage, Retrieval
from rag.search.crosslingual import Translation
from rag.store.vectors import VectorIndex

RRF_K = 60
SHORT_SENTENCE = 60  # characters; a shorter best sentence is shown with its neighbour
LIST_SENTENCES = 4  # items of an announced list shown after the sentence announcing it
ENTRY_CHARS = 3  # a term's entry is shown whole up to this many times the passage length (see `entries_first`)
# An ordinal or a lettered item opening a sentence ("Second,", "(b)", "(ii)"); numbered paragraphs ("3.", "一、")
# are a document's structure, not a list's items.
ENUMERATOR = re.compile(
    r"\W*(?:thứ (?:nhất|hai|ba|tư|năm|sáu),|first(?:ly)?,|second(?:ly)?,|third(?:ly)?,|finally,|cuối cùng,|"
    r"第[一二三四五六]，|[一二三四五六]是|首先|其次)|\s*\((?:[a-h]|[ivx]{1,4})\)\s",
    re.IGNORECASE,
)
CONNECTIVES = {"or", "and", "hoặc", "và", "或", "或者", "和", "以及"}  # a line of its own between two items
# A sentence opening this way qualifies the one before it ("However, You may do so only on Your own behalf").
QUALIFIER = re.compile(r"\W*(?:however|such|tuy nhiên|但是|然而|此类)\b", re.IGNORECASE)
QUALIFIED_CHARS = 2  # a sentence with its qualifier may grow the passage to this many times its length


def retrieve(
    question: str,
    index: VectorIndex,
    embedder: Embedder,
    settings: SearchSettings,
    margin: float,
    language: str | None = None,
    query: np.ndarray | None = None,
    top_k: int | None = None,
    translation: Translation | None = None,
    terms: Sequence[str] = (),
) -> Retrieval:
    """The reranked hits for `question` (written in `language`, detected when not given) and the numbered
    passages the generator is shown. Same-language sentences are ranked with `margin` taken off (see
    `AnswerSettings.same_language_margin`).

    `query` is the question's vector when the caller has embedded it already; `top_k` overrides the settings;
    `translation` is the question in another language, searched and compared with that language's text too;
    `terms` are the question's code-like terms, whose own entries in a reference document come first (see
    `entries_first`).
    """
    language = language or question_language(question)
    if query is None:
        query = embedder.embed_queries([question])[0]
    found = search(index, question, query, settings.candidates, language if settings.lexical else None)
    if translation is not None:
        lexical = translation.language if settings.lexical else None
        found = fuse(found, search(index, translation.text, translation.query, settings.candidates, lexical))
    hits = entries_first(rerank(index, found, query, language, margin, translation), terms)
    shown = passages(hits, top_k or settings.top_k, settings.span_chars, terms, index.following)
    return Retrieval(tuple(hits), tuple(shown))


def fuse(first: Sequence[Hit], second: Sequence[Hit]) -> list[Hit]:
    """Two searches' hits as one list, by reciprocal rank."""
    chunks = {hit.row: hit for hit in (*first, *second)}
    fused = reciprocal_rank_fusion([[hit.row for hit in first], [hit.row for hit in second]])
    return [chunks[row] for row, _ in fused]


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
    index: VectorIndex,
    hits: Sequence[Hit],
    query: np.ndarray,
    language: str,
    same_language_margin: float,
    translation: Translation | None = None,
) -> list[Hit]:
    """Order hits by their best sentence's cosine to the question: answer-bearing sentences first.

    A sentence in the question's `language` scores about `same_language_margin` higher than an equally relevant one
    in another language, so that much is taken off it before the two are compared. A sentence in the language of
    the question's `translation` is compared with the translation as well (less the margin), and keeps the better
    of the two scores: a chunk's relevance is thus always on the cross-lingual scale unless it is written in the
    question's own language.
    """
    ranked = []
    for hit in hits:
        relevance = index.sentence_scores(hit.row, query)
        ranking = relevance - same_language_margin if hit.chunk.language == language else relevance
        if translation is not None and hit.chunk.language == translation.language != language:
            ranking = relevance = np.maximum(
                relevance, index.sentence_scores(hit.row, translation.query) - same_language_margin
            )
        best = int(np.argmax(ranking))
        ranked.append((float(ranking[best]), replace(hit, relevance=float(relevance[best]), best_sentence=best)))
    return [hit for _, hit in sorted(ranked, key=lambda pair: -pair[0])]


def entries_first(hits: Sequence[Hit], terms: Sequence[str]) -> list[Hit]:
    """Hits holding the entry of a term the question names (a heading line that is the term, its paragraph after
    it: "LoginGraceTime / The server disconnects after …") moved to the front, in their order; in each, the entry
    becomes the best sentence unless the best one (other than its heading) names a term itself. A manual answers a question about an option
    in that option's entry, while the sentences closest to the question often belong to a neighbour that mentions
    it ("… until the LoginGraceTime expires. The default is 10:30:100.", from MaxStartups)."""
    named = {term.casefold() for term in terms}
    if not named:
        return list(hits)
    entries, others = [], []
    for hit in hits:
        entry = _entry(hit.chunk, named)
        if entry is None:
            others.append(hit)
        elif hit.best_sentence != entry - 1 and _names(_sentence(hit.chunk, hit.best_sentence), named):
            entries.append(hit)
        else:
            entries.append(replace(hit, best_sentence=entry))
    return entries + others


def _names(sentence: str, terms: set[str]) -> bool:
    return any(term in sentence.casefold() for term in terms)


def _entry(chunk: Chunk, terms: set[str]) -> int | None:
    """The first sentence of the paragraph under a heading line that is one of `terms`, or a list of settings that
    holds one (None if the chunk has no such heading followed by its paragraph)."""
    for i in range(len(chunk.sentences) - 1):
        if is_entry(_sentence(chunk, i), terms) and heading(chunk, i) and joined(chunk, i):
            after = i + 1
            while after < len(chunk.sentences) - 1 and _settings(_sentence(chunk, after)):  # the heading's next line
                after += 1
            return after
    return None


_SETTING = re.compile(r"[A-Za-z][\w.-]*=")  # "Storage=": a setting as a configuration manual heads its entry


def is_entry(text: str, terms: Sequence[str] | set[str]) -> bool:
    """`text` opens with a line that is one of `terms` (compared without case), or that lists settings one of which
    is a term ("RateLimitIntervalSec=, RateLimitBurst="): a reference entry's heading."""
    lines = text.strip().splitlines()
    named = {term.casefold() for term in terms}
    if not lines:
        return False
    items = _settings(lines[0])
    return lines[0].strip().casefold() in named or any(item[:-1].casefold() in named for item in items)


def _settings(line: str) -> list[str]:
    """The settings a heading line lists ("SystemMaxUse=, SystemKeepFree=,"); none when it is not such a list."""
    items = [item.strip() for item in line.strip().rstrip(",").split(",")]
    return items if all(_SETTING.fullmatch(item) for item in items) else []


def passages(
    hits: Sequence[Hit],
    top_k: int,
    max_chars: int = 0,
    terms: Sequence[str] = (),
    following: Callable[[int], Chunk | None] | None = None,
) -> list[Passage]:
    """Numbered passages from reranked hits: each hit's best sentence, with a neighbour when it is short, with the
    items of a list that it announces ("proposed three directions. First, …"), within `max_chars` with the heading
    line just above it and the rest of its paragraph ("MaxAuthTries / Specifies … The default is 6."), and within
    twice that with a sentence that qualifies its last ("However, You may do so only on Your own behalf"). Of the
    `top_k` best hits, one that a passage before it already shows whole (the sentence an overlapping chunk repeats)
    is left out: the model reads one passage rather than the same one twice, and no weaker one in its place.

    The entry of one of the question's `terms` runs on to the next heading, over blank lines and into the chunks
    that follow it in its document (`following(row)`), within `ENTRY_CHARS` times `max_chars`: an option's default or its
    caveat is often its last paragraph."""
    found: dict[tuple[str, int, int], Passage] = {}
    for hit in hits[:top_k]:
        chunk, best = hit.chunk, hit.best_sentence
        entry = best > 0 and is_entry(_sentence(chunk, best - 1), terms)
        limit = max_chars * (ENTRY_CHARS if entry else 1)
        start, end = _widen(chunk, best, limit, entry)
        text = chunk.text[start - chunk.start : end - chunk.start]
        row, last = hit.row, chunk
        while entry and end == last.sentences[-1][1] and following and (after := following(row)):
            more = _run_on(after, end, limit - len(text))
            if not more:
                break
            text, end, row, last = text + more, end + len(more), row + 1, after
        shown = any(p.chunk.source == chunk.source and p.start <= start and end <= p.end for p in found.values())
        if not shown:  # overlapping chunks find the same sentence: a passage already shown whole is not repeated
            found[(chunk.source, start, end)] = Passage(len(found) + 1, chunk, start, end, text, hit.relevance)
    return list(found.values())


def _run_on(chunk: Chunk, offset: int, room: int) -> str:
    """The text of `chunk` from document offset `offset` (which it covers) through its last whole sentence before a
    heading, within `room` characters ("" when it covers nothing from there)."""
    end = offset
    for i, (a, b) in enumerate(chunk.sentences):
        if b <= offset:
            continue
        if a < offset or heading(chunk, i) or b - offset > room:
            break
        end = b
    return chunk.text[offset - chunk.start : end - chunk.start] if chunk.start <= offset else ""


def _widen(chunk: Chunk, best: int, max_chars: int, entry: bool = False) -> tuple[int, int]:
    sentences = chunk.sentences
    start, end = sentences[best]
    last = best + 1 if end - start < SHORT_SENTENCE and best + 1 < len(sentences) else best
    while last + 1 < len(sentences) and last - best < LIST_SENTENCES and announces(chunk, last, last + 1):
        last += 1
    first = best - 1 if best > 0 and heading(chunk, best - 1) and joined(chunk, best - 1) else best
    while (
        last + 1 < len(sentences)
        and (entry or joined(chunk, last))
        and not heading(chunk, last + 1)
        and sentences[last + 1][1] - sentences[first][0] <= max_chars
    ):
        last += 1
    if qualified(chunk, last) and sentences[last + 1][1] - sentences[first][0] <= QUALIFIED_CHARS * max_chars:
        last += 1
    return sentences[first][0], sentences[last][1]


def qualified(chunk: Chunk, i: int) -> bool:
    """The sentence after sentence `i`, in the same paragraph, qualifies it ("However, …", "Such description …")."""
    return joined(chunk, i) and bool(QUALIFIER.match(_sentence(chunk, i + 1)))


def _sentence(chunk: Chunk, i: int) -> str:
    a, b = chunk.sentences[i]
    return chunk.text[a - chunk.start : b - chunk.start]


def heading(chunk: Chunk, i: int) -> bool:
    """Sentence `i` is a short line without a sentence's end: a heading, such as an option's name in a manual."""
    line = _sentence(chunk, i).rstrip()
    return (len(line) < SHORT_SENTENCE or bool(_settings(line))) and not line.endswith(
        tuple(".!?。！？:：;；…)）\"”'’")
    )


def joined(chunk: Chunk, i: int) -> bool:
    """Sentence `i` and the one after it stand in the same paragraph (no blank line between them)."""
    if i + 1 >= len(chunk.sentences):
        return False
    between = chunk.text[chunk.sentences[i][1] - chunk.start : chunk.sentences[i + 1][0] - chunk.start]
    return between.count("\n") < 2


def announces(chunk: Chunk, sentence: int, following: int) -> bool:
    """Sentence `following` is an item of a list that `sentence` announces or continues: it opens with an
    ordinal or a letter ("Thứ nhất,", "Second,", "二是", "(b)"), `sentence` ends with a colon, or an item ending
    with a semicolon is followed by a connective line of its own ("(a) …;" then "or" then "(b) …")."""
    (a, b), (c, d) = chunk.sentences[sentence], chunk.sentences[following]
    said = chunk.text[a - chunk.start : b - chunk.start].rstrip()
    then = chunk.text[c - chunk.start : d - chunk.start]
    if said.endswith((";", "；")) and then.strip().casefold() in CONNECTIVES:
        return True
    return said.endswith((":", "：")) or bool(ENUMERATOR.match(then))
