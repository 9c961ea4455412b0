"""LLM-side probes shared by the sections: the product's own prompt, answer timing, and llama.cpp alone on the
prompt's tokens (a `Llama` of the bench's own, on the generator's model file and settings)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from bench.timing import embedding_itself
from rag.answer.ask import ask, prepare
from rag.engines.llama import STOP, LlamaCppGenerator
from rag.pipeline import Pipeline
from rag.records import Answer, Prompt


@dataclass(frozen=True)
class AskTiming:
    """One run of rag.answer.ask.ask: time to its first text piece and to the final Answer."""

    first_piece_s: float | None  # None when the gate abstained before generating
    total_s: float
    retrieve_s: float
    answer: Answer


def timed_ask(question: str, pipeline: Pipeline) -> AskTiming:
    started = time.perf_counter()
    response = ask(question, pipeline)
    first = next((time.perf_counter() - started for _ in response), None)
    answer = response.answer()
    return AskTiming(first, time.perf_counter() - started, answer.timings["retrieve_s"], answer)


def first_piece_then_stop(start: Callable[[], Iterable[object]]) -> float:
    """Seconds from calling `start` until the stream it returns yields its first piece (or ends); the stream is then
    closed, so that the model stops writing (a `Response` and a generator's stream both have close())."""
    started = time.perf_counter()
    stream = start()
    next(iter(stream), None)
    took = time.perf_counter() - started
    close = getattr(stream, "close", None)
    if close is not None:
        close()
    return took


def local_generator(pipeline: Pipeline) -> LlamaCppGenerator:
    """The pipeline's local GGUF generator: the LLM sections time llama.cpp itself, which a remote engine hides."""
    if not isinstance(pipeline.generator, LlamaCppGenerator):
        raise SystemExit("the benchmark's LLM sections need the local GGUF generator: unset RAG_LLM_URL")
    return pipeline.generator


def prompt_for(pipeline: Pipeline, question: str, top_k: int | None = None) -> Prompt:
    """The prompt `ask` sends for `question` (rag.answer.ask.prepare, with `top_k` passages when given), embedded
    without the pipeline's memory, so that a later `ask` of the question finds nothing remembered."""
    settings = pipeline.settings if top_k is None else pipeline.settings.with_(top_k=top_k)
    prepared = prepare(question, replace(pipeline, settings=settings, embedder=embedding_itself(pipeline.embedder)))
    if prepared.prompt is None:
        detail = prepared.gated.detail if prepared.gated else ""
        raise SystemExit(f"the gate abstains on {question!r} ({detail}): it has no prompt to time")
    return prepared.prompt


def prompt_tokens(pipeline: Pipeline, question: str, top_k: int | None = None) -> tuple[list[int], int]:
    """The tokens the local generator reads for the prompt of `question` (`prompt_for`), and how many of them are
    the fixed head it keeps read."""
    return local_generator(pipeline).prompt_tokens(prompt_for(pipeline, question, top_k))


def open_llama(generator: LlamaCppGenerator, threads: int | None = None) -> Any:
    """llama.cpp alone: a `Llama` on the generator's model file with its context size and threads (both pools)."""
    from llama_cpp import Llama

    threads = threads or generator.threads
    return Llama(str(generator.path), n_ctx=generator.n_ctx, n_threads=threads, n_threads_batch=threads, verbose=False)


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
