"""LLM-side probes shared by the sections: answer timing, prompt evaluation and decoding speed."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rag.answering import ask
from rag.generation import STOP
from rag.pipeline import Pipeline
from rag.prompting import Prompt, build_prompt
from rag.records import Answer
from rag.retrieval import retrieve


@dataclass(frozen=True)
class AskTiming:
    """One run of rag.answering.ask: time to its first text piece and to the final Answer."""

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
    """The prompt the product would send for `question` (the same retrieval as `ask`)."""
    return build_prompt(question, retrieve(question, pipeline, top_k).passages, language)


def tokens(llm: Any, text: str) -> list[int]:
    return llm.tokenize(text.encode("utf-8"))


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


def raw_completion(llm: Any, prompt: Prompt, max_tokens: int) -> tuple[float, dict[str, int]]:
    """llama.cpp alone on the product's prompt, from an empty KV cache: (seconds, usage)."""
    llm.reset()
    started = time.perf_counter()
    out = llm(prompt.completion, max_tokens=max_tokens, temperature=0.0, stop=STOP)
    return time.perf_counter() - started, out["usage"]


def first_token_s(llm: Any, text: str) -> float:
    """Seconds until the first generated token for `text`, reusing whatever prefix the KV cache holds."""
    started = time.perf_counter()
    llm(text, max_tokens=1, temperature=0.0)
    return time.perf_counter() - started
