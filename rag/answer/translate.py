"""Translate quoted passages into the asker's language with the generator, keeping a translation only when it
checks out against the original: its language, its dates and numbers, and its meaning by the cross-lingual embedder.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from rag.answer.checks import cosine, unsupported_name
from rag.answer.prompt import show_date, translation_prompt
from rag.answer.quantities import read_quantities
from rag.engines.protocols import Embedder, Generator, joined
from rag.language import HAN, written_in
from rag.records import Answer, Passage

EVIDENCE_LEAD = {"en": "According to the documents:", "vi": "Theo tài liệu:", "zh": "根据文档："}
LANGUAGE_NAMES = {  # the name of each document language, written in each asker's language
    "en": {"en": "English", "vi": "Vietnamese", "zh": "Chinese"},
    "vi": {"en": "tiếng Anh", "vi": "tiếng Việt", "zh": "tiếng Trung"},
    "zh": {"en": "英文", "vi": "越南文", "zh": "中文"},
}
TRANSLATED = {"en": "machine translation from {}", "vi": "bản dịch máy từ {}", "zh": "机器翻译自{}"}
UNTRANSLATED = {
    "en": "in {}; no translation available",
    "vi": "nguyên văn {}, chưa có bản dịch",
    "zh": "{}原文，无译文",
}
_LEAD_IN = re.compile(r"(?:translat|version|dịch|译).*[:：]$", re.IGNORECASE)  # "Here is the translation into English:"
_WRAPPING = re.compile(r"^(?:translation\s*:\s*)?[“\"'「『]?|[”\"'」』]?$", re.IGNORECASE)


def translate(passage: Passage, language: str, generator: Generator, embedder: Embedder, min_similarity: float) -> str:
    """The passage's text in `language`, or "" when the model's translation fails a check: not in `language`, a
    date, number or name that the passage does not state, or a cosine to it below `min_similarity` (a different
    meaning)."""
    text = passage.text
    raw = joined(generator.stream(translation_prompt(text, language)))
    translation = _WRAPPING.sub("", one_paragraph(raw)).strip()
    if not translation or not written_in(translation, language):
        return ""
    if language != "zh" and re.search(f"[{HAN}]", translation):  # "ASEAN-新西兰": a stray script
        return ""
    if read_quantities(translation).unsupported(read_quantities(text)):
        return ""
    if unsupported_name(translation, [passage], "", language):  # a name the source does not have
        return ""
    return translation if cosine(translation, text, embedder) >= min_similarity else ""


def one_paragraph(reply: str) -> str:
    """The reply's first paragraph of content, on one line: past a lead-in such as "Here is the translation into
    English:", and with the list that a paragraph ending in a colon opens ("… bao gồm:" then "(1) …; (2) …")."""
    blocks = [" ".join(block.split()) for block in re.split(r"\n\s*\n", reply.strip())]
    while len(blocks) > 1 and _LEAD_IN.search(blocks[0]):
        blocks.pop(0)
    kept = blocks[:1]
    for block in blocks[1:]:
        if not kept[-1].endswith((":", "：")):
            break
        kept.append(block)
    return " ".join(kept)


def translate_passages(
    passages: Sequence[Passage], language: str, generator: Generator, embedder: Embedder, min_similarity: float
) -> dict[int, str]:
    """Checked translations into `language` of the passages written in another language, by passage number."""
    found = {}
    for passage in passages:
        if passage.chunk.language != language:
            translation = translate(passage, language, generator, embedder, min_similarity)
            if translation:
                found[passage.n] = translation
    return found


def with_translations(answer: Answer, generator: Generator, embedder: Embedder, min_similarity: float) -> Answer:
    """The answer with a checked translation for each cited passage written in another language than the answer's
    (a translation that fails its checks is left empty)."""
    wanted = [p for p in answer.passages if p.n in {c.n for c in answer.citations if not c.translation}]
    found = translate_passages(wanted, answer.language, generator, embedder, min_similarity)
    citations = tuple(replace(c, translation=found[c.n]) if c.n in found else c for c in answer.citations)
    return replace(answer, citations=citations)


def quote_evidence(passages: Sequence[Passage], language: str, translations: dict[int, str] | None = None) -> str:
    """An extractive answer introduced in `language`: each passage quoted with its title, date and citation, in
    `language` where `translations` has it (marked as a machine translation), verbatim otherwise (marked as such
    when the passage is in another language)."""
    translations = translations or {}
    quotes = [_quote(p, language, translations.get(p.n, "")) for p in passages]
    return f"{EVIDENCE_LEAD.get(language, EVIDENCE_LEAD['en'])} " + ("；" if language == "zh" else "; ").join(quotes)


def _quote(passage: Passage, language: str, translation: str) -> str:
    chunk = passage.chunk
    text = translation or " ".join(passage.text.split())
    names = LANGUAGE_NAMES.get(language, LANGUAGE_NAMES["en"])
    note = ""
    if translation:
        note = TRANSLATED.get(language, TRANSLATED["en"]).format(names.get(chunk.language, chunk.language))
    elif chunk.language != language:
        note = UNTRANSLATED.get(language, UNTRANSLATED["en"]).format(names.get(chunk.language, chunk.language))
    title = chunk.title if chunk.language == language and not passage.text.startswith(chunk.title.rstrip("…")) else ""
    date = show_date(chunk.date, language)
    if language == "zh":
        origin = "，".join(x for x in (note, f"《{title}》" if title else "", date) if x)
        return f"“{text}”" + (f"（{origin}）" if origin else "") + f"[{passage.n}]"
    origin = ", ".join(x for x in (note, f"“{title}”" if title else "", date) if x)
    return f"“{text}”" + (f" ({origin})" if origin else "") + f" [{passage.n}]"
