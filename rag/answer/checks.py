"""Check a draft answer against the passages it cites, in any language: citations, the answer's language, its
dates and numbers, its names, and whether each sentence says what its passages say."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence

import numpy as np

from rag.answer.citations import cited_numbers, without_markers
from rag.answer.quantities import Quantities, read_quantities
from rag.answer.question import terms_of
from rag.answer.support import claims, support_scores
from rag.engines.protocols import Embedder, Piece
from rag.ingest.chunk import split_sentences
from rag.language import DATE_MARK, HAN, fold
from rag.records import Chunk, Passage

_LATIN = "0-9A-Za-z\u00c0-\u024f\u1e00-\u1eff'’-"  # Latin letters with Vietnamese diacritics, apostrophes, hyphens
_CAPITAL = "".join(c for c in map(chr, (*range(0x41, 0x250), *range(0x1E00, 0x1F00))) if c.isupper())  # Ú, Đ, Ấ
_NAME = re.compile(f"(?<![{_LATIN}])[{_CAPITAL}][{_LATIN}]*(?:\\s+[{_CAPITAL}][{_LATIN}]*)*")  # not into Chinese script
_LIST_MARK = re.compile(r"\(\d{1,2}\)|(?m:^\s*\d{1,2}[.)]\s)")  # "(1) …", "1. …": the order of a list, not a fact
_SENTENCE_START = re.compile(r"(?:^|[.!?。！？:]\s*)\W*$")
# What a finished draft ends with: a sentence's end, a marker, a closing quote; a colon is `failed_check`'s to refuse.
_LAST_OF_A_SENTENCE = re.compile(r"[.!?。！？…:：\])）\"”'’」』]\s*$")
_HAN_FUNCTION_CHARS = set("的是在了于和与及为将由其这那个有中之所被把也都就")
_VERBS_OF_RESTATING = {"was", "were", "are", "did", "does", "has", "have", "had", "been", "made", "took", "place"}
_VIETNAMESE_NUMBERS = {"mot", "hai", "ba", "bon", "sau", "bay", "tam", "chin", "muoi"}  # folded: "ba trụ cột"
_VERBS_OF_REPORTING = {"said", "says", "stated", "according", "biet"}  # folded: "cho biết" (said)
_PRONOUNS = {"his", "her", "their", "our", "which", "what", "when", "where", "who"}
_VIETNAMESE_FUNCTION_WORDS = {"cac", "nhung", "cua", "duoc", "vao", "nay", "cho", "voi", "trong", "theo", "tai"}
_FUNCTION_WORDS = {"the", "in", "on", "at", "it", "its", "they", "this", "these", "a", "an", "yes", "no", "he", "she"}
_AUXILIARIES = {"is", "are", "was", "were", "do", "does", "did", "can", "could", "may", "must", "shall", "should"}
_AUXILIARIES |= {"will", "would", "has", "have", "had"}  # a yes/no question's first word, capitalized: "Did ASEAN …"
_NOT_NAMES = _FUNCTION_WORDS | _AUXILIARIES | _VIETNAMESE_FUNCTION_WORDS  # capitalized, they open a sentence
# A sentence that only says yes or no (folded): it answers a yes/no question and has nothing to compare with a source.
_YES_OR_NO = {"yes", "no", "co", "khong", "dung", "vang", "是", "是的", "不", "不是", "否", "对", "有", "没有"}


def cut_off(draft: str) -> bool:
    """A draft that stops mid-sentence, with neither a sentence's end nor a citation marker last: the model ran out
    of tokens before it finished ("… Nguyễn Minh Khê, Nguyễn Minh")."""
    return bool(draft.strip()) and not _LAST_OF_A_SENTENCE.search(draft)


def least_sure(pieces: Sequence[Piece], question: str) -> tuple[str, float] | None:
    """The piece of a draft that the model gave the least probability, among those with a letter or digit that the
    question does not hold: what the model added to the question ("peace" in a list of pillars) rather than copied
    from it. None when the generator gave no probabilities."""
    asked = question.casefold()
    scored = [
        (piece.text.strip(), piece.probability)
        for piece in pieces
        if piece.probability is not None
        if any(c.isalnum() for c in piece.text) and piece.text.strip().casefold() not in asked
    ]
    return min(scored, key=lambda scored_piece: scored_piece[1], default=None)


def stated_quantities(answer: str) -> Quantities:
    """The dates and numbers an answer states, leaving out the numbering of its lists."""
    return read_quantities(_LIST_MARK.sub(" ", answer))


def invented_number(draft: str, question: str, chunks: Sequence[Chunk]) -> str:
    """A number (not a date) that `draft` states and that neither the question nor any of `chunks` (with their
    titles, which the model may have seen) holds, even a power of ten away ("" if none). A draft that makes up an
    amount or a count is a sign that the documents do not hold the answer; a date is not, since a small model often
    adds a day to a month that is right."""
    shown = " ".join([question, *(_as_shown(c.text, c) for c in chunks)])
    invented = stated_quantities(without_markers(draft)).invented(read_quantities(shown))
    return f"{invented[0]:g}" if invented else ""


def evidence(passages: Sequence[Passage], question: str = "") -> str:
    """The text an answer citing `passages` may draw its dates, numbers and names from."""
    return " ".join([question, *(_as_shown(p.text, p.chunk) for p in passages)])


def _as_shown(text: str, chunk: Chunk) -> str:
    """Text with its document's title and date, as the model is shown it."""
    return f"{text} {chunk.title} {chunk.date or ''}"


def cite_best(
    text: str,
    passages: Sequence[Passage],
    embedder: Embedder,
    min_support: float,
    question: str = "",
    language: str = "en",
) -> str:
    """A draft that cites nothing, given the marker of the passage that backs it best, if that one backs it well
    enough (`min_support`); otherwise unchanged. Small models often answer well but forget the marker. The passage
    holding most of the draft's dates and numbers, then its names (the question's count as held), is chosen before
    the most similar one: similarity alone may pick a near-duplicate that lacks the fact. When no passage holds
    every date and number but two do together, both are cited."""
    if cited_numbers(text) or not passages or not text.strip():
        return text
    words = without_markers(text)
    stated = stated_quantities(words)

    def lacks(p: Passage) -> tuple[int, bool]:  # dates and numbers of the draft missing from p, and a name
        missing = stated.unsupported(read_quantities(evidence([p], question)))
        return len(missing), bool(unsupported_name(words, [p], question, language))

    scores = [min(support(f"{text} [{p.n}]", [p], embedder), default=0.0) for p in passages]
    best = min(range(len(passages)), key=lambda i: (*lacks(passages[i]), -scores[i]))
    if scores[best] < min_support:
        return text
    cited = [passages[best]]
    if lacks(passages[best])[0]:  # two facts from two passages ("the default is 3 … after 45 seconds")
        cited += [
            p for p in passages if p is not passages[best] and not _lacks_quantities(stated, [*cited, p], question)
        ][:1]
    body = text.rstrip()
    end = body[-1] if body[-1] in ".。!！?？" else ""
    numbers = ", ".join(str(p.n) for p in sorted(cited, key=lambda p: p.n))
    return f"{body[: len(body) - len(end)]} [{numbers}]{end}"


def _lacks_quantities(stated: Quantities, passages: Sequence[Passage], question: str) -> bool:
    return bool(stated.unsupported(read_quantities(evidence(passages, question))))


def unsupported_name(text: str, cited: Sequence[Passage], question: str, language: str = "en") -> str:
    """A capitalized name in `text` found neither in the question nor in a cited passage or its title ("" if none).

    A name of several words is looked up whole, so "Nguyễn Minh Chính" is not backed by "Phạm Minh Chính" and
    "nguyên". Compared after folding case and diacritics and leaving out spaces, so "Viet Nam" backs "Vietnam". An
    English answer from a passage in another language may capitalize its translations ("Commemorative Summit",
    "South Korea"): a word of the English dictionary passes there, while "Kuala Lumpur", found in neither, does not.
    A Latin-script name cannot be looked up in Chinese text ("Luxon" is 卢克松 there), so Chinese passages leave
    names to the support check. A sentence's first word may be capitalized only by its place ("Khi ASEAN và Hàn
    Quốc …", "When ASEAN …"): there the name may also be found without it.
    """
    if any(re.search(f"[{HAN}]", p.text) for p in cited):
        return ""
    translated = language == "en" and any(p.chunk.language != language for p in cited)
    written = _letters(evidence(cited, question))

    def lacks(words: Sequence[str]) -> bool:
        runs = _foreign_runs(words) if translated else [words]
        return any(_letters(" ".join(run)) not in written for run in runs)

    for match in _NAME.finditer(text):
        words = [re.sub(r"['’]s$", "", w) for w in match.group(0).split() if fold(w) not in _FUNCTION_WORDS]
        if not words or not lacks(words):  # "Zealand's" is Zealand
            continue
        if _SENTENCE_START.search(text[: match.start()]) and not lacks(words[1:]):  # "Thủ tướng …", "Khi ASEAN …"
            continue  # the first word is capitalized by its place in the sentence
        return " ".join(words)
    return ""


# The rank of an event or a member, in each language: "the 7th JCC", "第七届", "第3次", "lần thứ 7"
_ORDINAL = re.compile(
    r"第\s*[一二三四五六七八九十百零〇\d]+\s*[届次]|\b\d+(?:st|nd|rd|th)\b"
    r"|\blần thứ\s+(?:\d+|hai|ba|tư|năm|sáu|bảy|tám|chín|mười)\b",
    re.IGNORECASE,
)


def unstated_ordinal(question: str, documents: Sequence[str]) -> str:
    """The first rank the question gives an event or a member ("the 7th JCC", "第七届", "lần thứ 7") that none of
    `documents` states, in any notation, as a number or a day ("" when each is stated, or the question gives none)."""
    held = read_quantities(" ".join(documents))
    stated = held.numbers | {date.day for date in held.dates if date.day}
    return next((rank for rank in _ORDINAL.findall(question) if not read_quantities(rank).numbers & stated), "")


def has_ordinal(question: str) -> bool:
    """The question gives an event or a member a rank (see `unstated_ordinal`)."""
    return bool(_ORDINAL.search(question))


def names_beyond(text: str, question: str) -> list[str]:
    """The capitalized names (Latin script) in `text` that `question` does not hold: what an answer to "who" or
    "which country" names beyond what was asked ("Vietnam" for "Which country coordinates ASEAN–New Zealand
    relations?"; "New Zealand" there is no answer)."""
    asked = _letters(question)
    found = []
    for match in _NAME.finditer(text):
        words = [w for w in match.group(0).split() if fold(w) not in _FUNCTION_WORDS]
        if words and _letters(" ".join(words)) not in asked:
            found.append(" ".join(words))
    return found


_JOINED = re.compile(r"\s*(?:and|và|với|with|&|[-–—])\s*", re.IGNORECASE)
_HAN_PAIR = re.compile(f"([{HAN}]{{2}})(?:与|和|同|及)([{HAN}]{{2}})")


def subject_pairs(text: str) -> list[tuple[str, str]]:
    """The pairs of names a text joins ("ASEAN and New Zealand", "Việt Nam và New Zealand", "东盟与新西兰"), each
    name folded (Latin script) or cut to the two characters next to the conjunction (Chinese)."""
    pairs = [(_letters(a), _letters(b)) for a, b in named_pairs(text)]
    return pairs + [(m.group(1), m.group(2)) for m in _HAN_PAIR.finditer(text)]


def named_pairs(text: str) -> list[tuple[str, str]]:
    """The pairs of Latin-script names a text joins, as written less a leading function word ("Did ASEAN and
    Japan" gives ASEAN and Japan; "Tại JCC" gives JCC)."""
    names = list(_NAME.finditer(text))
    return [
        (_bare(a.group(0)), _bare(b.group(0)))
        for a, b in itertools.pairwise(names)
        if _JOINED.fullmatch(text[a.end() : b.start()])
    ]


def _bare(name: str) -> str:
    return " ".join(word for word in name.split() if fold(word) not in _NOT_NAMES)


def unnamed_party(
    question: str, passages: Sequence[Passage], embedder: Embedder, min_similarity: float, min_as_country: float
) -> str:
    """The one name of a pair the question joins ("ASEAN and Japan") that no passage names while they name the
    other ("" if none): the passages are about a neighbouring relation (ASEAN and Korea), not the one asked of.

    A name is named when a passage or its title writes it (folded: "Viet Nam" is Vietnam), or writes a name whose
    embedding is within `min_similarity` of it, across languages ("Hàn Quốc" is Korea); the first words of a name
    count alone ("Korea Summit" is named by Korea), and so does a name without its first word, which may be
    capitalized only by its place in the sentence ("Khi ASEAN"). A one-word name in a Vietnamese passage is often also a common
    word ("Úc", "Anh", "Nga"), so it is also compared as "nước Úc" (the country Úc), within `min_as_country`.
    Chinese text is not split into names, so a passage in Chinese may name anything and the question is let through.
    """
    pairs = named_pairs(question)
    if not pairs or any(re.search(f"[{HAN}]", p.text) for p in passages):
        return ""
    needed: dict[str, float] = {}  # a held name, as compared, and the similarity that names a name of the question
    for passage in passages:
        for text in (passage.text, passage.chunk.title):
            for head in (head for name in _held_names(text) for head in _heads(name)):
                needed[head] = min_similarity
                if passage.chunk.language == "vi" and " " not in head:
                    needed.setdefault(f"nước {head}", min_as_country)
    written = {_letters(held) for held in needed}

    def named(name: str) -> bool:
        heads = [*_heads(name), *_heads(name.partition(" ")[2])]  # "Khi ASEAN": capitalized by its place
        if any(_letters(head) in written for head in heads):
            return True
        held = list(needed)
        if not held:
            return False
        vectors = embedder.embed_documents([*heads, *held])
        best = np.max(vectors[: len(heads)] @ vectors[len(heads) :].T, axis=0)
        return any(score >= needed[text] for score, text in zip(best, held))

    for pair in pairs:
        unnamed = [name for name in pair if name and not named(name)]
        if len(unnamed) == 1:
            return unnamed[0]
    return ""


def _held_names(text: str) -> list[str]:
    """The names a text writes, and each part of a hyphenated one ("ASEAN-Australia-New Zealand")."""
    names = [_bare(m.group(0)) for m in _NAME.finditer(text)]
    return [*names, *(part for name in names if "-" in name for part in name.split("-") if part)]


def _heads(name: str) -> list[str]:
    """A name and its first words: "Korea Free Trade Agreement", "Korea Free Trade", …, "Korea"."""
    words = name.split()
    return [" ".join(words[:n]) for n in range(len(words), 0, -1)]


def swapped_subject(answer: str, question: str) -> str:
    """A pair of names in `answer` that keeps one name of a pair in `question` and puts another in place of the
    other ("Vietnam and New Zealand" for "ASEAN and New Zealand"), as "answer's pair for question's pair"; "" if
    none. Chinese names match when they share a character ("新西" and "西兰"); a name matches one it ends with
    ("South Korea" and "Korea", "Khi ASEAN" and "ASEAN")."""

    def same(a: str, b: str) -> bool:  # "khiasean" is ASEAN: "Khi" (when) is capitalized by its place
        if not (a and b):
            return a == b
        return a.endswith(b) or b.endswith(a) or bool(re.fullmatch(f"[{HAN}]+", a + b) and set(a) & set(b))

    def same_pair(a: tuple[str, str], b: tuple[str, str]) -> bool:
        return (same(a[0], b[0]) and same(a[1], b[1])) or (same(a[0], b[1]) and same(a[1], b[0]))

    asked_pairs = subject_pairs(question)
    for given in subject_pairs(answer):
        if same(*given) or any(same_pair(given, asked) for asked in asked_pairs):
            continue  # the question's own pair ("ASEAN–Korea Free Trade Agreement" repeated)
        for asked in asked_pairs:
            if not same(*asked) and sum(same(a, g) for a in asked for g in given) == 1:
                return f"{' & '.join(given)} for {' & '.join(asked)}"
    return ""


def _letters(text: str) -> str:
    """Folded text with everything but letters and digits left out, so "Viet Nam" matches "Vietnam"."""
    return re.sub(r"[\W_]", "", fold(text))


def _foreign_runs(words: Sequence[str]) -> list[list[str]]:
    """The runs of consecutive words that an English dictionary lacks: in "Prime Minister Pham Minh Chinh" the
    translated title may be English, but "Pham Minh Chinh" must be found as written, not its words one by one."""
    runs: list[list[str]] = [[]]
    for word in words:
        if is_english_word(word):
            runs.append([])
        else:
            runs[-1].append(word)
    return [run for run in runs if run]


@functools.cache
def _english_words() -> frozenset[str]:
    from english_words import get_english_words_set

    return frozenset(get_english_words_set(["gcide", "web2"], lower=True))


def is_english_word(word: str) -> bool:
    """`word` (or its singular; each part of a hyphenated word) is in an English dictionary: a translated term
    rather than a foreign name."""
    parts = [part for part in word.lower().strip("'’").split("-") if part]
    return bool(parts) and all(p in _english_words() or p.rstrip("s") in _english_words() for p in parts)


_QUOTED = re.compile(r"[\"“「『]([^\"“”「」『』]{1,60})[\"”」』]")  # a term the answer quotes
_FILLER = _FUNCTION_WORDS | _VERBS_OF_RESTATING | _VERBS_OF_REPORTING | _PRONOUNS | _VIETNAMESE_FUNCTION_WORDS


def repeats_question(text: str, question: str) -> bool:
    """The answer adds nothing to the question: no number, name, quoted or code-like term or word of substance that
    the question lacks ("The summit was held in [1]." is a small model's common non-answer; "on an "as is" basis" is not)."""
    answer, asked = fold(without_markers(text)), fold(question)
    added = [*_QUOTED.findall(without_markers(text)), *terms_of(without_markers(text))]
    if any(fold(term).strip() not in asked for term in added):
        return False
    asked_tokens = set(_tokens(asked))
    stems = {token[:3] for token in asked_tokens}
    for token in _tokens(answer):
        if re.fullmatch(f"[{HAN}]", token):
            if token not in asked_tokens and token not in _HAN_FUNCTION_CHARS:
                return False
        elif token.isdigit() or token in _VIETNAMESE_NUMBERS:
            if token not in asked_tokens:
                return False
        elif len(token) > 2 and token[:3] not in stems and token not in _FILLER:
            return False
    return True


def _tokens(text: str) -> list[str]:
    """Chinese characters one by one, runs of digits, and words."""
    return re.findall(f"[{HAN}]|\\d+|[^\\W\\d_]+", text)


def support(text: str, passages: Sequence[Passage], embedder: Embedder) -> list[float]:
    """For each sentence of `text`, its best cosine to a sentence (or the title) of the passages it cites (all the
    passages when it cites none); a sentence that only says yes or no is left out."""
    found = [claim for claim in claims(text) if fold(claim.text).strip(" .。!！") not in _YES_OR_NO]
    if not found:
        return []
    units = {p.n: evidence_sentences(p) for p in passages}
    rows, start = {}, 0
    for n, sentences in units.items():
        rows[n] = range(start, start + len(sentences))
        start += len(sentences)
    vectors = embedder.embed_documents([s for sentences in units.values() for s in sentences])
    questions = embedder.embed_queries([claim.text for claim in found])
    scores = []
    for claim, vector in zip(found, questions):
        chosen = [i for n in (claim.cites if set(claim.cites) & set(rows) else rows) for i in rows.get(n, ())]
        scores.append(float(support_scores(vector[None, :], vectors[chosen])[0]))
    return scores


def evidence_sentences(passage: Passage) -> list[str]:
    """The passage's sentences and its document's title, the units an answer sentence is compared with."""
    text = DATE_MARK.sub("", passage.text)
    sentences = [text[a:b] for a, b in split_sentences(text)]
    return [*sentences, passage.chunk.title] if passage.chunk.title else sentences


def cosine(a: str, b: str, embedder: Embedder) -> float:
    """Cosine between two texts embedded alike (as documents), e.g. a sentence and its translation."""
    vectors = embedder.embed_documents([a, b])
    return float(np.dot(vectors[0], vectors[1]))
