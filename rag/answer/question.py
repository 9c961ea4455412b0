"""The question, read once: its cleaned text, its language and the kind of answer it asks for, which every later
step uses instead of reading it again."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from rag.errors import BadQuestion
from rag.language import detect_language


class Kind(StrEnum):
    """The kind of answer a question asks for, where its words say so."""

    DATE = "date"  # when, what year: a date or a year
    NUMBER = "number"  # how many, how much: a number
    LIST = "list"  # which areas, what are the pillars: two items or more
    OTHER = "other"


# One table for the three languages: the first kind whose pattern the question matches.
KINDS = (
    (
        Kind.DATE,
        r"^when\b|\b(?:what|which) (?:year|date|month|day)s?\b|khi nào|bao giờ|lúc nào|(?:năm|ngày|tháng|thời gian|giai đoạn) nào|何时|什么时候|哪一?年|哪一?天|何年|几月|什么日期",
    ),
    (Kind.NUMBER, r"\bhow (?:many|much)\b|bao nhiêu|(?<!thứ )\bmấy\b|多少|几[个项次位名家国]"),
    (Kind.LIST, r"\b(?:what|which) (?:are|were) the\b|\bwhich \w+s\b|(?:những|các) [^?]* nào|gồm những|哪些"),
)


@dataclass(frozen=True)
class Question:
    """A cleaned question, the language its answer must be written in, and the kind of answer it asks for."""

    text: str
    language: str
    kind: Kind = Kind.OTHER


def kind_of(text: str) -> Kind:
    """The kind of answer `text` asks for (Kind.OTHER when its words do not say)."""
    folded = text.casefold()
    return next((kind for kind, pattern in KINDS if re.search(pattern, folded)), Kind.OTHER)


def read_question(raw: str, max_chars: int) -> Question:
    """NFC text without control characters, and its language; empty, unreadable and over-long questions are
    refused with BadQuestion."""
    text = unicodedata.normalize("NFC", raw)
    text = "".join(c if c.isprintable() or c in "\n\t" else " " for c in text)
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > max_chars:
        raise BadQuestion(f"question is {len(text)} characters long; the limit is {max_chars}")
    if not any(c.isalnum() for c in text):
        raise BadQuestion("question is empty: type a question with words in it")
    return Question(text, detect_language(text), kind_of(text))
