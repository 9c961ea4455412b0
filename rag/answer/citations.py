"""Parse the [n] markers of an answer, drop those that point nowhere, and turn the rest into citation records."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from rag.records import Citation, Passage

MARKER = re.compile(r"\[\s*(\d+(?:\s*[,，;、]\s*\d+)*)\s*\]")
_NUMBER = re.compile(r"\d+")


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


def citations_for(
    text: str, passages: Sequence[Passage], translations: Mapping[int, str] | None = None
) -> tuple[Citation, ...]:
    """Citation records for the valid passage numbers cited in `text`, with the translations known for them."""
    by_number = {p.n: p for p in passages}
    translations = translations or {}
    return tuple(
        Citation(
            n,
            p.chunk.source,
            p.start,
            p.end,
            p.text,
            p.chunk.title,
            p.chunk.date,
            page=p.chunk.page_at(p.start),
            translation=translations.get(n, ""),
        )
        for n in cited_numbers(text)
        if (p := by_number.get(n))
    )


def without_markers(text: str) -> str:
    return MARKER.sub("", text).strip()
