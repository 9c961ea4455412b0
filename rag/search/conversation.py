"""Conversations: a follow-up question is searched together with the question it follows."""

from __future__ import annotations

from collections.abc import Sequence

FOLLOW_UP_STARTS = ("and ", "what about", "how about", "còn ", "thế còn", "và ", "那", "还有")


def follow_up_context(question: str, previous: Sequence[str]) -> str:
    """The previous question when `question` reads as a follow-up ("and with Korea?", "còn Hàn Quốc?", "那韩国呢？")."""
    if not previous:
        return ""
    text = question.strip().lower()
    words = text.split()
    short = len(words) <= 4 if len(words) > 1 else len(text) <= 10
    return previous[-1] if short or text.startswith(FOLLOW_UP_STARTS) else ""


def search_text(question: str, previous: Sequence[str]) -> str:
    """What retrieval searches for: the question, after the question it follows up on, if any."""
    context = follow_up_context(question, previous)
    return f"{context} {question}".strip() if context else question
