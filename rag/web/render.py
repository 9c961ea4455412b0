"""HTML for the chat UI: answers with linked citations, source cards with the cited span marked, index status."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence

from rag.answer.citations import MARKER
from rag.pipeline import Pipeline
from rag.records import Answer, Passage

NO_SOURCES = '<p class="muted">The sources of each answer appear here, with the answer-bearing span highlighted.</p>'


def answer_html(answer: Answer, turn: int) -> str:
    """The answer's text with each valid [n] linked to its source card, and why the draft was replaced, if it was."""
    cited = {c.n for c in answer.citations}

    def link(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        return "".join(f'<a class="cite" href="#src-{turn}-{n}">[{n}]</a>' if n in cited else f"[{n}]" for n in numbers)

    text = MARKER.sub(link, html.escape(answer.text, quote=False))
    note = answer.note()
    return text + (f'<br><em class="note">({html.escape(note)})</em>' if note else "")


def sources_html(answer: Answer, turn: int, translations: Mapping[int, str] | None = None) -> str:
    """One turn of the sources panel: cited passages first, then the other passages the model was shown; each
    with its translation into the question's language when one is known (from the answer or from `translations`)."""
    cited = {c.n for c in answer.citations}
    known = {c.n: c.translation for c in answer.citations if c.translation} | dict(translations or {})
    cards = [source_card(p, turn, known.get(p.n, "")) for p in answer.passages if p.n in cited]
    others = [source_card(p, turn, known.get(p.n, "")) for p in answer.passages if p.n not in cited]
    body = "".join(cards) or '<p class="muted">No passage is cited: the documents do not answer this.</p>'
    if others:  # opened when nothing is cited, so an abstention can be checked against the evidence
        opened = "" if cards else " open"
        body += f"<details{opened}><summary>Other passages shown to the model ({len(others)})</summary>"
        body += "".join(others) + "</details>"
    return f'<div class="turn" data-turn="{turn}"><b>Q{turn}: {html.escape(answer.question)}</b>{body}</div>'


def reading_html(question: str, passages: Sequence[Passage], turn: int) -> str:
    """One turn of the sources panel while the model writes: the passages it reads, shown as soon as they are found."""
    cards = "".join(source_card(p, turn) for p in passages)
    body = '<p class="muted">The model is reading these passages…</p>' + cards if cards else ""
    body = body or '<p class="muted">Nothing relevant was found.</p>'
    return f'<div class="turn reading" data-turn="{turn}"><b>Q{turn}: {html.escape(question)}</b>{body}</div>'


def source_card(passage: Passage, turn: int, translation: str = "") -> str:
    """A passage's chunk with the answer-bearing span marked, under its title, date, file name, page and offsets,
    and the span's machine translation below it when there is one."""
    chunk = passage.chunk
    a, b = passage.start - chunk.start, passage.end - chunk.start
    text = f"{html.escape(chunk.text[:a])}<mark>{html.escape(chunk.text[a:b])}</mark>{html.escape(chunk.text[b:])}"
    page = chunk.page_at(passage.start)
    meta = [
        html.escape(chunk.title),
        chunk.date or "",
        html.escape(chunk.source) + (f" p. {page}" if page else ""),
        f"chars {passage.start}–{passage.end}",
    ]
    return (
        f'<div class="source" id="src-{turn}-{passage.n}" data-source="{html.escape(chunk.source)}">'
        f'<div class="meta"><b>[{passage.n}]</b> {" · ".join(m for m in meta if m)}</div>'
        f'<div class="passage">{text}</div>'
        + (
            f'<div class="translation"><b>Machine translation:</b> {html.escape(translation)}</div>'
            if translation
            else ""
        )
        + "</div>"
    )


def render_sources(turns: Sequence[str]) -> str:
    return "".join(turns) or NO_SOURCES


def status_text(pipeline: Pipeline) -> str:
    """Markdown: what the index holds and which models answer."""
    index = pipeline.index
    return (
        f"**Index:** {_count(len(index.files), 'document')} · {_count(len(index.chunks), 'chunk')} · "
        f"embedder `{pipeline.embedder.model_id}` · generator `{pipeline.generator.model_id}`"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
