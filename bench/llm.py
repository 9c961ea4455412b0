"""LLM-side probes shared by the sections: answer timing, prompt evaluation and decoding speed."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from bench.timing import embedding_itself
from rag.answer.ask import ask
from rag.answer.prompt import Prompt, build_prompt
from rag.engines.llama import STOP
from rag.pipeline import Pipeline
from rag.records import Answer
from rag.search.retrieve import retrieve
from rag.search.spans import answer_spans


@dataclass(frozen=True)
class AskTiming:
    """One run of rag.answer.ask.ask: time to its first text piece and to the final Answer."""

    first_piece_s: float | None  # None when the gate abstained before generating
    total_s: float
    retrieve_s: float
    answer: Answer


def timed_ask(question: str, pipeline: Pipeline) -> AskTiming:
    started = time.perf_counter()
    first = None
    response = ask(question, pipeline)
    for _ in response:
        if first is None:
            first = time.perf_counter() - started
    answer = response.answer()
    return AskTiming(first, time.perf_counter() - started, answer.timings["retrieve_s"], answer)


def prompt_for(pipeline: Pipeline, question: str, language: str, top_k: int | None = None) -> Prompt:
    """The prompt `ask` sends for `question`: the same retrieval and the same answering clauses, embedded without
    the pipeline's memory, so that a later `ask` of the question finds nothing remembered."""
    embedder = embedding_itself(pipeline.embedder)
    query = embedder.embed_queries([question])[0]
    found = retrieve(question, pipeline, top_k, query=query)
    passages = answer_spans(list(found.passages), query, embedder, pipeline.settings.span_chars)
    return build_prompt(question, passages, language)


def prompt_tokens(pipeline: Pipeline, prompt: Prompt) -> tuple[list[int], int]:
    """The tokens the local generator reads for `prompt`, and how many of them are the head it keeps read."""
    tokens: tuple[list[int], int] = pipeline.generator.prompt_tokens(prompt)  # type: ignore[attr-defined]
    return tokens


def prompt_eval_s(llm: Any, prompt_tokens: list[int]) -> float:
    """Seconds to evaluate a prompt from an empty KV cache."""
    llm.reset()
    started = time.perf_counter()
    llm.eval(prompt_tokens)
    return time.perf_counter() - started


def decode_s_per_token(llm: Any, prompt_tokens: list[int], n: int) -> float:
    """Seconds per generated token: `n` single-token forward passes after the prompt (the cost of a decode step)."""
    llm.reset()
    llm.eval(prompt_tokens)
    started = time.perf_counter()
    for _ in range(n):
        llm.eval(prompt_tokens[-1:])
    return (time.perf_counter() - started) / n


def raw_completion(llm: Any, tokens: list[int], head: int, max_tokens: int, chat: bool) -> tuple[float, dict[str, int]]:
    """llama.cpp alone on the product's prompt tokens, from a KV cache holding only their first `head` tokens (as
    the product's generator starts each answer): (seconds, usage). A base model's reply ends at a newline."""
    llm.reset()
    llm.eval(tokens[:head])
    started = time.perf_counter()
    out = llm(tokens, max_tokens=max_tokens, temperature=0.0, stop=[] if chat else STOP)
    return time.perf_counter() - started, out["usage"]


def first_token_s(llm: Any, tokens: list[int]) -> float:
    """Seconds until the first generated token for `tokens`, reusing whatever prefix the KV cache holds."""
    started = time.perf_counter()
    llm(tokens, max_tokens=1, temperature=0.0)
    return time.perf_counter() - started
