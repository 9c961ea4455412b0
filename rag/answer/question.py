"""The question, read once: its cleaned text, its language and the kind of answer it asks for, which every later
step uses instead of reading it again."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from rag.errors import BadQuestion
from rag.language import question_language


class Kind(StrEnum):
    """The kind of answer a question asks for, where its words say so."""

    DATE = "date"  # when, what year: a date or a year
    NUMBER = "number"  # how many, how much: a number
    LIST = "list"  # which areas, what are the pillars: two items or more
    ENTITY = "entity"  # who, which country or city: a name
    YES_NO = "yes_no"  # is it so: yes or no, and why
    OTHER = "other"


# One table for the three languages: the first kind whose pattern the question matches.
KINDS = (
    (
        Kind.DATE,
        r"^when (?:is|are|was|were|do|does|did|will|would|can|could|has|have|had|shall|should|must|may)\b|\b(?:what|which) (?:year|date|month|day)s?\b|khi nào|bao giờ|lúc nào|(?:năm|ngày|tháng|thời gian|giai đoạn) nào|何时|什么时候|哪一?年|哪一?天|何年|几月|什么日期",
    ),
    (Kind.NUMBER, r"\bhow (?:many|much)\b|bao nhiêu|(?<!thứ )\bmấy\b|多少|几[个项次位名家国]"),
    (Kind.LIST, r"\b(?:what|which) (?:are|were) the\b|\bwhich \w+s\b|(?:những|các) [^?]* nào|gồm những|哪些"),
    (
        Kind.ENTITY,
        r"\bwho(?:m|se)?\b|\b(?:which|what) (?:country|nation|city|organi[sz]ation|body|ministry|agency|person|company)\b|(?:^|\blà |\bvới |\bcủa )ai\b|\bai (?:đã|là|sẽ|được)\b|(?:nước|quốc gia|thành phố|cơ quan|tổ chức|người) nào|谁|哪(?:个|一)?(?:国家|国|城市|机构|组织|部门|人)",
    ),
    (
        Kind.YES_NO,
        r"^(?:is|are|was|were|does|do|did|can|could|may|must|shall|should|will|would|has|have|had)\b|(?:không|chưa)\s*[?？]?\s*$|吗\s*[?？]?\s*$|是否|有没有|能否|可否|是不是|能不能|可不可以",
    ),
)


@dataclass(frozen=True)
class Question:
    """A cleaned question, the language its answer must be written in, and the kind of answer it asks for."""

    text: str
    language: str
    kind: Kind = Kind.OTHER
    terms: tuple[str, ...] = ()  # code-like terms, written alike in every language (see `terms_of`)


def kind_of(text: str) -> Kind:
    """The kind of answer `text` asks for (Kind.OTHER when its words do not say)."""
    folded = text.casefold()
    return next((kind for kind, pattern in KINDS if re.search(pattern, folded)), Kind.OTHER)


# A term written the same in every language: an inner capital (LoginGraceTime), an underscore (sshd_config), digits
# after letters (Ed25519, IPv6), or a setting as written in a configuration file (Storage=); not an ordinal or an
# amount (26th, 30m), which start with a digit.
_TERM = re.compile(
    r"(?<![A-Za-z0-9_%])(?:[A-Za-z]*[a-z][A-Z][A-Za-z0-9]*|[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+|[A-Za-z]+[0-9][A-Za-z0-9]*|[A-Za-z][A-Za-z0-9]+(?==))(?![A-Za-z0-9_])"
)


def terms_of(text: str) -> tuple[str, ...]:
    """The code-like terms of `text`: an option, a file or a model name, which a document that holds the answer
    must name as written (translations leave them alone)."""
    return tuple(dict.fromkeys(_TERM.findall(text)))


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
    return Question(text, question_language(text), kind_of(text), terms_of(text))
