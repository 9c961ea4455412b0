"""The chat handler: stream the model's draft into the chat, then show the checked answer and its sources."""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import gradio as gr

from rag.answer.ask import ask
from rag.answer.translate import translate_passages
from rag.errors import RagError
from rag.records import Answer
from rag.web.render import answer_html, reading_html, render_sources, sources_html
from rag.web.service import Service

Message = dict[str, str]  # {"role": "user" | "assistant", "content": text}


@dataclass(frozen=True)
class ChatState:
    """One browser session's conversation: the messages shown, the questions asked and each turn's sources."""

    messages: tuple[Message, ...] = ()
    questions: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # HTML of each turn's sources, newest first
    last: Answer | None = None  # the newest answer, whose sources can be translated on demand
    collection: str = ""  # the collection asked ("": the service's first)


def respond(service: Service, question: str, chat: ChatState) -> Iterator[tuple[Any, ...]]:
    """Updates for (chat messages, sources panel, chat state, question box): the passages found, as soon as they
    are, then the draft as it streams, then the checked answer with linked citations and its sources."""
    messages = [*chat.messages, {"role": "user", "content": question}, {"role": "assistant", "content": "…"}]
    yield list(messages), gr.skip(), gr.skip(), ""
    draft = ""
    try:
        pipeline = service.pipeline_for(chat.collection or service.settings.store.collection)
        with service.queue.hold(pipeline.settings.serve.request_timeout_s):
            response = ask(question, pipeline, chat.questions)
            reading = reading_html(question, response.passages, len(chat.questions) + 1)
            yield list(messages), render_sources((reading, *chat.sources)), gr.skip(), ""
            for piece in response:
                draft += piece
                messages[-1] = {"role": "assistant", "content": html.escape(draft) + " ▌"}
                yield list(messages), gr.skip(), gr.skip(), ""
            answer = response.answer()
    except RagError as problem:
        raise gr.Error(str(problem)) from None
    turn = len(chat.questions) + 1
    messages[-1] = {"role": "assistant", "content": answer_html(answer, turn)}
    sources = (sources_html(answer, turn), *chat.sources)
    chat = ChatState(tuple(messages), (*chat.questions, answer.question), sources, answer, chat.collection)
    yield list(messages), render_sources(chat.sources), chat, ""


def translate_sources(service: Service, chat: ChatState) -> tuple[Any, ...]:
    """Updates for (sources panel, chat state): the newest turn's passages in another language than its question
    shown with their machine translation, computed now rather than with the answer."""
    answer = chat.last
    if answer is None:
        raise gr.Error("Ask a question first: its sources can then be translated.")
    pipeline = service.pipeline
    try:
        with service.queue.hold(pipeline.settings.serve.request_timeout_s):
            similarity = pipeline.settings.answer.min_translation_similarity
            found = translate_passages(
                answer.passages, answer.language, pipeline.generator, pipeline.embedder, similarity
            )
    except RagError as problem:
        raise gr.Error(str(problem)) from None
    if not found and any(p.chunk.language != answer.language for p in answer.passages):
        gr.Info("No translation passed its checks (names, numbers, meaning); the sources stay as written.")
    sources = (sources_html(answer, len(chat.questions), found), *chat.sources[1:])
    return render_sources(sources), replace(chat, sources=sources)
