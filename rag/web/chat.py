"""The chat handler: stream the model's draft into the chat, then show the checked answer and its sources."""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from rag.answering import ask
from rag.errors import RagError
from rag.web.render import answer_html, render_sources, sources_html
from rag.web.service import Service

Message = dict[str, str]  # {"role": "user" | "assistant", "content": text}


@dataclass(frozen=True)
class ChatState:
    """One browser session's conversation: the messages shown, the questions asked and each turn's sources."""

    messages: tuple[Message, ...] = ()
    questions: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # HTML of each turn's sources, newest first


def respond(service: Service, question: str, chat: ChatState) -> Iterator[tuple[Any, ...]]:
    """Updates for (chat messages, sources panel, chat state, question box): the draft as it streams, then the
    checked answer with linked citations and its sources."""
    messages = [*chat.messages, {"role": "user", "content": question}, {"role": "assistant", "content": "…"}]
    yield list(messages), gr.skip(), gr.skip(), ""
    draft = ""
    try:
        with service.generating:
            response = ask(question, service.pipeline, chat.questions)
            for piece in response:
                draft += piece
                messages[-1] = {"role": "assistant", "content": html.escape(draft) + " ▌"}
                yield list(messages), gr.skip(), gr.skip(), ""
            answer = response.answer()
    except RagError as problem:
        raise gr.Error(str(problem)) from None
    turn = len(chat.questions) + 1
    messages[-1] = {"role": "assistant", "content": answer_html(answer, turn)}
    chat = ChatState(tuple(messages), (*chat.questions, answer.question), (sources_html(answer, turn), *chat.sources))
    yield list(messages), render_sources(chat.sources), chat, ""
