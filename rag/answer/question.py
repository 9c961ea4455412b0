"""The question, read once: its cleaned text and language, which every later step uses instead of reading it again."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rag.errors import BadQuestion
from rag.language import detect_language


@dataclass(frozen=True)
class Question:
    """A cleaned question and the language its answer must be written in."""

    text: str
    language: str


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
    return Question(text, detect_language(text))
